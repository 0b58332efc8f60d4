// Debian's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so absl::string_view is its own
// type, not std::string_view: absl::StrCat and friends do not take a std::string_view, and
// absl::Status::message() returns an absl::string_view. These two conversions bridge the types
// without copying.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace keyline {

inline absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }
inline std::string_view AsStd(absl::string_view text) { return {text.data(), text.size()}; }

}  // namespace keyline
