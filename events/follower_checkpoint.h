// A log follower's checkpoint file: where a LogFollower resumes after a
// restart, one position per partition — the first position not yet handled.
//
// Text: {"next": [n0, n1, ...]}, one entry (>= 1) per partition of the log.
// The single-partition form {"next": N} written by earlier releases still
// reads, on a log of one partition. The file is replaced atomically (written
// beside it, then renamed over it), so a crash leaves the old or the new one.
//
// Used by the consumers that keep their place in a file beside the data (the
// mail outbox, the workflow dispatcher); the views keep theirs in SQLite.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "events/event_log.h"
#include "events/position.h"

namespace causeway {

// The positions the checkpoint text resumes from; nullopt when it is not a
// checkpoint of a log with `partitions` partitions (or not one at all).
std::optional<PositionToken> parse_follower_checkpoint(std::string_view text, std::uint32_t partitions);

// Where a follower of `log` resumes: per partition, the saved position, but
// never past the head + 1; the head + 1 where the file is missing or does not
// fit (a first start skips the history before it).
PositionToken resume_point(EventLog& log, const std::string& path);
// The same from the file's text (empty: no file).
PositionToken resume_point_of(EventLog& log, std::string_view text);

// The text of the checkpoint file at `path`, empty when there is none.
std::string read_follower_checkpoint(const std::string& path);

// Writes `next` to `path` (through `path`.tmp and a rename), with the follower's
// own fields `with` beside "next" (what it keeps that must match the positions).
Status save_follower_checkpoint(const std::string& path, const PositionToken& next, boost::json::object with = {});

}  // namespace causeway
