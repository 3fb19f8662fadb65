#include "tools/audit_cli.h"

#include "tools/cli_common.h"

#include <sodium.h>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/audit/checkpointer.h"
#include "engine/audit/verify_export.h"
#include "events/rocks/rocks_log.h"

namespace causeway::cli {
namespace json = boost::json;

namespace {

Result<SecretKey> master_key(const std::string& data_dir, const MasterKeySource& mk) {
  if (!mk.hex.empty()) return parse_master_key_hex(mk.hex);
  const std::string path = mk.file.empty() ? data_dir + "/master.key" : mk.file;
  std::ifstream in(path);
  std::string hex;
  if (!in || !std::getline(in, hex))
    return Error::not_found(fmt::format("no master key at {} (give --master-key-file)", path));
  return parse_master_key_hex(hex);
}

// The log, read-write for an export (which records itself): when a running
// server holds it, say where to go instead.
Result<std::unique_ptr<RocksEventLog>> open_for_export(const std::string& data_dir) {
  auto log = open_log(data_dir, false);
  if (!log && is_in_use(log.error()))
    return Error{log.error().code, log.error().message + " (export through it: GET /v1/audit/export)", {}};
  return log;
}

// A vault over the log's key store, for signing and for opening personal fields.
Result<std::unique_ptr<KeyVault>> vault_of(RocksEventLog& log, const std::string& data_dir, const MasterKeySource& mk) {
  auto key = master_key(data_dir, mk);
  if (!key) return std::move(key).error();
  auto v = std::make_unique<KeyVault>(log.key_store(), *key);
  sodium_memzero(key->data(), key->size());
  return v;
}

void print(const audit::AuditReport& r) {
  json::object o{{"ok", !r.problem},
                 {"records", r.records},
                 {"events", r.events},
                 {"checkpoints", r.checkpoints},
                 {"signed_to", r.signed_to}};
  if (r.problem) {
    o["problem"] = *r.problem;
    o["position"] = r.problem_position;
  }
  print_json(o);
}

}  // namespace

int audit_public_key(const std::string& data_dir, const MasterKeySource& mk) {
  auto log = open_log(data_dir, true);
  if (!log) return fail(log.error());
  auto vault = vault_of(**log, data_dir, mk);
  if (!vault) return fail(vault.error());
  audit::Signer signer(**vault);
  std::cout << audit::to_hex(signer.public_key().data(), signer.public_key().size()) << '\n';
  return 0;
}

int audit_export(const std::string& data_dir, const MasterKeySource& mk, const audit::ExportQuery& q,
                 const std::string& reason, const std::string& out_path) {
  if (reason.empty()) {
    std::cerr << "causeway: --reason is required: reading the audit log is recorded\n";
    return 2;
  }
  auto log = open_for_export(data_dir);
  if (!log) return fail(log.error());
  auto vault = vault_of(**log, data_dir, mk);
  if (!vault) return fail(vault.error());
  audit::Signer signer(**vault);
  SystemClock clock;
  if (auto st = audit::record_export(**log, Actor{"operator:cli", {}}, q, reason, clock.now_us()); !st)
    return fail(st.error());
  audit::Checkpointer cp(**log, signer, clock, {});
  auto c = cp.checkpoint_now();
  if (!c) return fail(c.error());
  audit::ExportQuery signed_q = q;  // end where the signature ends
  signed_q.to = q.to == 0 ? c->front().position : std::min(q.to, c->front().position);
  auto schemas = SchemaRegistry::from_embedded();
  if (!schemas) return fail(schemas.error());
  std::ofstream file;
  if (out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "causeway: cannot write " << out_path << "\n";
      return 2;
    }
  }
  std::ostream& out = out_path == "-" ? std::cout : file;
  auto summary = audit::export_audit(**log, vault->get(), **schemas, signer.public_key(), signed_q,
                                     [&](std::string_view line) { out.write(line.data(), static_cast<std::streamsize>(line.size())); });
  out.flush();
  (*log)->close();
  if (!summary) return fail(summary.error());
  if (!out) {
    std::cerr << "causeway: writing the export failed\n";
    return 2;
  }
  std::cerr << "causeway: exported " << summary->events << " events\n";
  return 0;
}

int audit_verify(const std::string& data_dir, const MasterKeySource& mk, const std::string& file,
                 const std::string& key_hex, const std::string& key_file) {
  std::string hex = key_hex;
  if (hex.empty() && !key_file.empty()) {
    std::ifstream in(key_file);
    std::getline(in, hex);
  }
  std::optional<audit::PublicKey> key;
  if (!hex.empty()) {
    auto k = audit::parse_public_key(hex);
    if (!k) return fail(k.error());
    key = *k;
  }
  if (!file.empty()) {
    if (!key) {
      std::cerr << "causeway: give the public key (--public-key or --public-key-file) to verify a file\n";
      return 2;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "causeway: cannot read " << file << "\n";
      return 2;
    }
    auto r = audit::verify_export(in, *key);
    print(r);
    return r.problem ? 3 : 0;
  }
  auto log = open_log(data_dir, true);
  if (!log) return fail(log.error());
  if (!key) {
    auto vault = vault_of(**log, data_dir, mk);
    if (!vault) return fail(vault.error());
    key = audit::Signer(**vault).public_key();
  }
  auto r = audit::verify_live(**log, *key);
  print(r);
  return r.problem ? 3 : 0;
}

}  // namespace causeway::cli
