// Names that end up in device certificates and URIs: device serials, hardware models and
// deployment names. Each validator returns InvalidArgument "<field>: <problem>".
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace keyline::ca {

// 1 to 64 characters of [A-Za-z0-9._-], starting with a letter or digit: safe in a URN and a CN.
[[nodiscard]] absl::Status ValidateDeviceSerial(std::string_view serial,
                                                std::string_view field = "device_serial");

// 1 to 64 printable ASCII characters (space allowed, not leading or trailing).
[[nodiscard]] absl::Status ValidateHardwareModel(std::string_view model,
                                                 std::string_view field = "hardware_model");

// 1 to 64 characters of [a-z0-9._-], starting with a letter or digit.
[[nodiscard]] absl::Status ValidateDeploymentName(std::string_view name,
                                                  std::string_view field = "deployment");

}  // namespace keyline::ca
