#include "engine/workflow/json_text.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <vector>

namespace causeway::workflow {
namespace json = boost::json;

void write_json(const json::value& v, std::string& out, JsonStyle style) {
  switch (v.kind()) {
    case json::kind::object: {
      std::vector<const json::key_value_pair*> members;
      for (const auto& kv : v.get_object()) members.push_back(&kv);
      if (style.sort_keys)
        std::sort(members.begin(), members.end(),
                  [](auto* a, auto* b) { return std::string_view(a->key()) < std::string_view(b->key()); });
      out.push_back('{');
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out.push_back(',');
        out += json::serialize(json::string(members[i]->key()));
        out.push_back(':');
        write_json(members[i]->value(), out, style);
      }
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(item, out, style);
      }
      out.push_back(']');
      return;
    }
    case json::kind::double_:
      if (style.shortest_doubles) {
        out += fmt::format("{}", v.get_double());
        return;
      }
      [[fallthrough]];
    default: out += json::serialize(v); return;
  }
}

}  // namespace causeway::workflow
