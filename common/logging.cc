#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace keyline {

void ConfigureJsonLogging(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_mt("keyline");
  if (!logger) logger = spdlog::get("keyline");
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                      spdlog::pattern_time_type::utc);
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

void LogEvent(spdlog::level::level_enum level, std::string_view event,
              const nlohmann::json& fields) {
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  nlohmann::json line = {{"event", event}};
  if (fields.is_object()) {
    line.update(fields);
  } else if (!fields.is_null()) {
    line["detail"] = fields;
  }
  // The pattern supplies the braces and the time and level members; drop the object's braces.
  const std::string body = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  spdlog::default_logger_raw()->log(level, "{}", std::string_view(body).substr(1, body.size() - 2));
}

}  // namespace keyline
