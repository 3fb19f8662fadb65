// Chain: the state both audit verifiers share (verify_export.cpp for files,
// verify_live.cpp for the live log): the report so far, the recent entry
// hashes, and the check of a signed checkpoint against them. Internal to
// engine/audit/.
#pragma once

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <vector>

#include "engine/audit/signing.h"
#include "engine/audit/verify_export.h"

namespace causeway::audit {

struct Chain {
  AuditReport r;
  std::uint32_t partition = 0;  // the chain's partition: every checkpoint must sign this one
  // The hashes of the last kRecent positions remembered (in increasing
  // order), for the checkpoints that sign them: a ring, no allocation per entry.
  static constexpr std::uint64_t kRecent = 65536;
  std::vector<Hash> ring = std::vector<Hash>(kRecent);
  std::uint64_t newest = 0, count = 0;

  bool fail(std::string why, std::uint64_t position) {
    r.problem = std::move(why);
    r.problem_position = position;
    return false;
  }
  void remember(std::uint64_t position, const Hash& h) {
    ring[position % kRecent] = h;
    count = (count > 0 && position == newest + 1) ? std::min(count + 1, kRecent) : 1;
    newest = position;
  }
  const Hash* recent(std::uint64_t position) const {
    if (count == 0 || position > newest || newest - position >= count) return nullptr;
    return &ring[position % kRecent];
  }
  // A checkpoint event's payload: signature and signed hash.
  bool check_checkpoint(const std::string& data, std::uint64_t at, const PublicKey& key) {
    boost::system::error_code ec;
    auto d = boost::json::parse(data, ec);
    if (ec || !d.is_object()) return fail("a checkpoint's payload is not JSON", at);
    auto c = checkpoint_from_json(d.as_object());
    if (!c) return fail(c.error().message, at);
    if (c->partition != partition)
      return fail(fmt::format("the checkpoint at position {} signs partition {}, not this chain's partition {}", at,
                              c->partition, partition),
                  at);
    if (!signature_valid(*c, key))
      return fail(fmt::format("the checkpoint at position {} is not signed by this key", at), at);
    const Hash* signed_hash = recent(c->position);
    if (!signed_hash)
      return fail(fmt::format("the checkpoint at position {} signs position {}, which is not in the file", at,
                              c->position),
                  at);
    if (*signed_hash != c->chain_hash)
      return fail(fmt::format("the chain at position {} does not match its signed checkpoint (position {})",
                              c->position, at),
                  c->position);
    ++r.checkpoints;
    r.signed_to = std::max(r.signed_to, c->position);
    return true;
  }
};

}  // namespace causeway::audit
