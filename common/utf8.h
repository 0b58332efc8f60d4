// Well-formed UTF-8 as PostgreSQL's text type and OpenSSL's string conversions accept it: no
// overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace keyline {

// The number of code points in `text`, or nullopt when it is not well-formed UTF-8.
std::optional<size_t> Utf8CharacterCount(std::string_view text);

inline bool IsValidUtf8(std::string_view text) { return Utf8CharacterCount(text).has_value(); }

}  // namespace keyline
