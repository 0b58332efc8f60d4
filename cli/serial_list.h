// Device serials for bulk commands, from repeated --serial flags or a --serials-file: one serial
// a line; surrounding whitespace (and a CR) is trimmed; blank lines and lines starting with '#'
// are skipped. Every serial is checked as keyline-server would (ca::ValidateDeviceSerial) and
// repeats are refused, so a bad list fails before any call, naming the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::cli {

// InvalidArgument "<name>:<line>: ..." for a malformed or repeated serial, or an empty list.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ParseSerialList(std::string_view text,
                                                                       std::string_view name);

// Exactly one of the sources: --serial values (errors name "--serial #N") or the file's lines.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> CollectSerials(
    const std::vector<std::string>& flag_values, const std::string& file);

}  // namespace keyline::cli
