// The GDPR Art. 15 metadata of a subject access export: purposes, categories
// of personal data, recipients, retention and source. From the JSON file named
// by ServerConfig::gdpr_metadata_file (--gdpr-metadata-file), else built in
// (docs/architecture.md, "Erasure and subject access").
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "events/result.h"

namespace causeway::api {

boost::json::object default_gdpr_metadata();
// The file's JSON object; it must hold every key of the default (purposes,
// categories, recipients, retention, source). Empty path: the default.
Result<boost::json::object> load_gdpr_metadata(const std::string& path);

}  // namespace causeway::api
