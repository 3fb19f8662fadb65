#include "events/result.h"

namespace causeway {

const char* errc_name(Errc c) noexcept {
  switch (c) {
    case Errc::invalid: return "invalid";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::unauthorized: return "unauthorized";
    case Errc::forbidden: return "forbidden";
    case Errc::too_large: return "too_large";
    case Errc::unavailable: return "unavailable";
    case Errc::corruption: return "corruption";
    case Errc::limit_exceeded: return "limit_exceeded";
  }
  return "unknown";
}

}  // namespace causeway
