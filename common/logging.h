// Structured JSON logs on stderr, one object per line:
//   {"ts":"2026-11-26T15:39:39.123Z","level":"info","event":"issued","serial":"..."}
// Callers pass fields as JSON; never put keys, PINs, nonces, PHI or whole certificates in them.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace keyline {

// Installs the JSON logger as spdlog's default. Safe to call more than once.
void ConfigureJsonLogging(spdlog::level::level_enum level = spdlog::level::info);

// Logs `event` with the given fields (an object; other JSON values are logged under "detail").
void LogEvent(spdlog::level::level_enum level, std::string_view event,
              const nlohmann::json& fields = nlohmann::json::object());

}  // namespace keyline
