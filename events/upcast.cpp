#include "events/upcast.h"

#include <fmt/format.h>

namespace causeway {

void Upcaster::add(const std::string& type, std::uint32_t from_version, Step step) {
  steps_[{type, from_version}] = std::move(step);
}

Result<std::uint32_t> Upcaster::upcast(const std::string& type, std::uint32_t version,
                                       boost::json::object& data) const {
  for (;;) {
    auto it = steps_.find({type, version});
    if (it == steps_.end()) return version;
    if (auto st = it->second(data); !st)
      return Error::corruption(fmt::format("upcasting {} v{} failed: {}", type, version, st.error().message));
    ++version;
  }
}

}  // namespace causeway
