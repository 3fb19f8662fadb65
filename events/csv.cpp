#include "events/csv.h"

#include <boost/json/serialize.hpp>

namespace causeway {
namespace json = boost::json;

std::string csv_line(const std::vector<json::value>& cells) {
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    const auto& c = cells[i];
    std::string text = c.is_null()     ? std::string()
                       : c.is_string() ? std::string(c.as_string())
                                       : json::serialize(c);
    // Spreadsheets run cells that start with these as formulas.
    if (c.is_string() && !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos)
      text.insert(text.begin(), '\'');
    if (text.find_first_of(",\"\r\n") != std::string::npos) {
      std::string q = "\"";
      for (char ch : text) {
        if (ch == '"') q += '"';
        q += ch;
      }
      text = q + "\"";
    }
    out += text;
  }
  out += "\r\n";
  return out;
}

}  // namespace causeway
