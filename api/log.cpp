#include "api/log.h"

#include <boost/json/serialize.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace causeway {

void init_json_logging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("causeway");
  logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void log_fields(spdlog::level::level_enum level, std::string_view msg, boost::json::object fields) {
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  std::string line = R"("msg":)" + boost::json::serialize(boost::json::value(msg));
  for (const auto& kv : fields) {
    line += ',';
    line += boost::json::serialize(boost::json::value(kv.key()));
    line += ':';
    line += boost::json::serialize(kv.value());
  }
  spdlog::default_logger_raw()->log(level, line);
}

}  // namespace causeway
