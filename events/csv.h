// CSV rendering (RFC 4180) shared by the view reads, the analyst SQL, the
// audit export and the CLI: CRLF line ends, quoting where needed, and text
// cells starting with = + - @ TAB or CR prefixed with ' so spreadsheets never
// run them as formulas. Nulls are empty cells; numbers are written as JSON.
#pragma once

#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace causeway {

std::string csv_line(const std::vector<boost::json::value>& cells);

}  // namespace causeway
