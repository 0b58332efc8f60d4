// Lower-case hexadecimal encoding of byte strings (serials, key identifiers, digests).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyline {

std::string HexEncode(std::string_view bytes);

// Accepts upper or lower case; returns nullopt for odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);

}  // namespace keyline
