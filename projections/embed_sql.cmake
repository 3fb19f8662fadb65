# Generates a C++ source holding schemas/views/*.sql, so the binary creates the
# views it was built with and can tell when a schema changed (schema hash).
file(GLOB files RELATIVE ${SRC} ${SRC}/*.sql)
list(SORT files)
set(body "// Generated from schemas/views by projections/embed_sql.cmake. Do not edit.\n#include \"projections/projection.h\"\nnamespace causeway {\nstd::string_view embedded_view_sql(std::string_view name) {\n")
foreach(f ${files})
  file(READ ${SRC}/${f} content)
  string(REGEX REPLACE "\\.sql$" "" n ${f})
  string(APPEND body "  if (name == \"${n}\") return R\"causeway_sql(${content})causeway_sql\";\n")
endforeach()
string(APPEND body "  return {};\n}\n}  // namespace causeway\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
