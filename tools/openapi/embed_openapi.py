#!/usr/bin/python3
"""Writes a C++ source that embeds schemas/openapi.yaml as JSON (served at
GET /v1/openapi.json; api/openapi.h) and as the YAML text itself (served at
GET /v1/openapi.yaml). Debian's python3-yaml parses the YAML,
so the document served is exactly the one the tests validate.

    embed_openapi.py SCHEMA_YAML OUT_CPP
"""
import json
import sys

import yaml


def main(src, out):
    with open(src, encoding="utf-8") as f:
        source = f.read()
    doc = yaml.safe_load(source)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    delimiter = "cwopenapi"
    if ")" + delimiter + '"' in text or ")" + delimiter + '"' in source:
        sys.exit("embed_openapi.py: the document contains the raw-string delimiter")
    with open(out, "w", encoding="utf-8") as f:
        f.write("// Generated from schemas/openapi.yaml by tools/openapi/embed_openapi.py.\n")
        f.write('#include "api/openapi.h"\n\nnamespace causeway::api {\n\n')
        f.write("std::string_view openapi_json() {\n")
        f.write('  static constexpr char kDocument[] = R"' + delimiter + "(")
        f.write(text)
        f.write(")" + delimiter + '";\n')
        f.write("  return {kDocument, sizeof kDocument - 1};\n}\n\n")
        f.write("std::string_view openapi_yaml() {\n")
        f.write('  static constexpr char kSource[] = R"' + delimiter + "(")
        f.write(source)
        f.write(")" + delimiter + '";\n')
        f.write("  return {kSource, sizeof kSource - 1};\n}\n\n}  // namespace causeway::api\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
