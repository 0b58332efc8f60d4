// Where the token's user PIN comes from. PINs are never read from configuration text.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::hsm {

// `source` is "file:/path/to/pin" (the file's content with one trailing newline stripped;
// the file must not be readable by group or others) or "env:VARIABLE_NAME".
// InvalidArgument for another scheme, an empty PIN or a group/world-readable file; NotFound
// for a missing file or unset variable. Messages name the source, never the PIN.
[[nodiscard]] absl::StatusOr<std::string> ReadPin(std::string_view source);

}  // namespace keyline::hsm
