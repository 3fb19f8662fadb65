// Reading the views database in tests: a canonical dump of every table, so two
// generations (live vs rebuilt) can be compared row for row.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "projections/sqlite.h"
#include "projections/view_files.h"

namespace causeway::testing {

// Every table (bookkeeping included, errors excluded) as sorted text lines.
inline std::string dump_views(const std::string& data_dir) {
  ViewFiles files(data_dir);
  auto path = files.current();
  REQUIRE(path.ok());
  auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
  REQUIRE(db.ok());
  auto tables = (*db)->prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  REQUIRE(tables.ok());
  std::vector<std::string> names;
  while (*tables->step()) names.push_back(tables->text(0));
  std::string out;
  for (const auto& t : names) {
    std::string q = t == "_projections" ? "SELECT name, version, schema_hash FROM _projections ORDER BY 1"
                                        : "SELECT * FROM " + t + " ORDER BY 1, 2, 3";
    auto s = (*db)->prepare(q);
    REQUIRE(s.ok());
    out += "== " + t + "\n";
    while (*s->step()) {
      for (int i = 0; i < s->columns(); ++i) out += (i ? "|" : "") + s->text(i);
      out += "\n";
    }
  }
  return out;
}

// One integer from a query on the current views generation.
inline std::int64_t views_scalar(const std::string& data_dir, const std::string& q) {
  ViewFiles files(data_dir);
  auto path = files.current();
  REQUIRE(path.ok());
  auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
  REQUIRE(db.ok());
  auto s = (*db)->prepare(q);
  REQUIRE(s.ok());
  auto r = s->step();
  REQUIRE(r.ok());
  REQUIRE(*r);
  return s->i64(0);
}

}  // namespace causeway::testing
