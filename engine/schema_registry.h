// SchemaRegistry: the JSON Schemas of schemas/, compiled once, used at run time.
//
// validate_command() checks a request body against schemas/commands/<name>.json
// and returns every problem, each with the RFC 6901 pointer of the offending
// field. personal_fields() lists the top-level properties of an event payload
// that are marked "x-personal": true. validate_document() checks a whole
// document against any other schema, e.g. "workflows/definition.json".
//
// Thread safety: immutable after construction; validate_* may run concurrently.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "events/result.h"

namespace causeway {

struct EmbeddedSchema {
  const char* path;  // relative to schemas/, e.g. "commands/user.signup.json"
  const char* text;
};
const std::vector<EmbeddedSchema>& embedded_schemas();

// One RFC 6901 reference token: "~" as "~0", "/" as "~1".
std::string escape_pointer_token(std::string_view s);

struct FieldError {
  std::string pointer;  // "" is the document root
  std::string detail;
};

class SchemaRegistry {
 public:
  static Result<std::shared_ptr<SchemaRegistry>> from_embedded();
  ~SchemaRegistry();

  bool has_command(const std::string& name) const;
  std::vector<FieldError> validate_command(const std::string& name, const boost::json::value& body) const;
  std::vector<FieldError> validate_event(const std::string& type, std::uint32_t version,
                                         const boost::json::value& data) const;
  const std::vector<std::string>& personal_fields(const std::string& type, std::uint32_t version) const;
  // Personal fields also marked "x-secret": true (e.g. a password hash). No
  // reader ever shows them, opened or not: redact_secrets() replaces them
  // with "[redacted]" (they are sealed, so verifiers skip them anyway).
  const std::vector<std::string>& secret_fields(const std::string& type, std::uint32_t version) const;
  void redact_secrets(const std::string& type, std::uint32_t version, boost::json::value& data) const;
  // Whether some event type starts with "<category>." (retention categories).
  bool has_event_category(const std::string& category) const;
  // The data fields of the newest version of event `type` (its schema's
  // properties), or nullopt when no event of that type has a schema (e.g. a
  // customer's own event type).
  std::optional<std::vector<std::string>> event_fields(const std::string& type) const;
  // Checks a document against schemas/<path> (e.g. "workflows/definition.json"):
  // every problem with its pointer, like validate_command(). Wrapper messages
  // ("Failed to validate item #2 in array.") that only repeat a deeper
  // problem are left out.
  std::vector<FieldError> validate_document(const std::string& path, const boost::json::value& doc) const;

  struct Compiled;  // a parsed and compiled schema (schema_registry.cpp)

 private:
  SchemaRegistry() = default;
  std::vector<FieldError> validate(const Compiled& c, const boost::json::value& doc) const;
  std::map<std::string, std::unique_ptr<Compiled>> commands_;
  std::map<std::string, std::unique_ptr<Compiled>> events_;  // key "type.vN"
  std::map<std::string, std::unique_ptr<Compiled>> documents_;  // the rest, key: path under schemas/
};

// The subschema that governs the value at JSON `pointer` of a document
// checked against schema `root` (through properties, items,
// additionalProperties and local $refs, which may chain), or null.
const boost::json::object* subschema_at(const boost::json::value& root, std::string_view pointer);

}  // namespace causeway
