// Placement: which partition of P a stream lives on (ARCHITECTURE.md,
// "Placement"). A pure function of the stream id, the same on every node.
//
// The id that places a stream is the first run of 32 lowercase hex digits in
// its name: "org-<hex>", "subscription-org-<hex>", "retention-org-<hex>" and
// "audit-reads-org-<hex>" all follow the organization's <hex>, and
// "user-<hex>", "inbox-user-<hex>", "subject-user-<hex>" the user's. A name with
// no such run ("retention-all", "audit-reads-global") is placed by the whole
// name. Streams with ids of their own that belong to an organization (a
// workflow, a run, an API key) are kept on its partition by minting their ids
// until the log places them there (new_id_near in engine/ids.h; expected P tries).
//
// The hash is FNV-1a 64 of the placing text, modulo P: stable across
// releases, because a topic's P is fixed for its life and a stream never moves.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway {

// The placing text of `stream` (its first 32-hex run, or the whole name).
std::string_view placement_key(std::string_view stream);

// The partition of `stream` among `partitions` (>= 1).
std::uint32_t placement_of(std::string_view stream, std::uint32_t partitions);

}  // namespace causeway
