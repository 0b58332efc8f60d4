// Internal to store/: checks of values before they reach the database, so bad input is refused as
// InvalidArgument naming its field ("devices[3].device_serial: empty") instead of as a database
// error naming a column, and nothing is written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace keyline::store {

// "devices[3]" or, with a field, "devices[3].device_serial": how messages name a batch's element.
std::string IndexedField(std::string_view list, size_t index, std::string_view field = {});

// Text for a text column: valid UTF-8 without NUL characters (empty allowed).
[[nodiscard]] absl::Status CheckText(std::string_view text, std::string_view field);
// As CheckText, and not empty.
[[nodiscard]] absl::Status CheckNonEmptyText(std::string_view text, std::string_view field);
// Bytes for a bytea column: not empty.
[[nodiscard]] absl::Status CheckNonEmptyBytes(std::string_view bytes, std::string_view field);
// Bytes of exactly `size` octets (identifiers, nonces, digests).
[[nodiscard]] absl::Status CheckByteCount(std::string_view bytes, size_t size,
                                          std::string_view field);

}  // namespace keyline::store
