// `causeway audit export|verify|public-key` (audit_cli.cpp).
#pragma once

#include <string>

#include "engine/audit/export.h"

namespace causeway::cli {

struct MasterKeySource {
  std::string hex;   // --master-key
  std::string file;  // --master-key-file; default <data-dir>/master.key
};

// Prints the public key that verifies this data folder's checkpoints.
int audit_public_key(const std::string& data_dir, const MasterKeySource& mk);

// Records the export, signs the chain up to it, then streams it to `out_path`
// ("-" = stdout). Needs the server stopped (it writes to the log).
int audit_export(const std::string& data_dir, const MasterKeySource& mk, const audit::ExportQuery& q,
                 const std::string& reason, const std::string& out_path);

// With a file: checks an export offline with only the public key (`key_hex`,
// or the key in `key_file`). Without: checks the live log (read-only, safe
// while serving); the key defaults to the data folder's own.
int audit_verify(const std::string& data_dir, const MasterKeySource& mk, const std::string& file,
                 const std::string& key_hex, const std::string& key_file);

}  // namespace causeway::cli
