# Generates a C++ source holding every file under schemas/ as a string, so the
# binary validates against the schemas it was built with, from any directory.
file(GLOB_RECURSE files RELATIVE ${SRC} ${SRC}/commands/*.json ${SRC}/events/*.json ${SRC}/workflows/*.json ${SRC}/billing/*.json)
list(SORT files)
set(body "// Generated from schemas/ by engine/embed_schemas.cmake. Do not edit.\n#include \"engine/schema_registry.h\"\nnamespace causeway {\nconst std::vector<EmbeddedSchema>& embedded_schemas() {\n  static const std::vector<EmbeddedSchema> all = {\n")
foreach(f ${files})
  file(READ ${SRC}/${f} content)
  string(APPEND body "    {\"${f}\", R\"causeway_schema(${content})causeway_schema\"},\n")
endforeach()
string(APPEND body "  };\n  return all;\n}\n}  // namespace causeway\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
