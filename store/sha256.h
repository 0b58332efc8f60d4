// SHA-256 of a byte string, for migration checksums and the audit hash chain.
#pragma once

#include <string>
#include <string_view>

namespace keyline::store {

inline constexpr size_t kSha256Size = 32;

// The 32-byte digest. OpenSSL's one-shot digest cannot fail for SHA-256 short of memory
// exhaustion, which aborts.
std::string Sha256(std::string_view data);

// Sha256 of the concatenation of two byte strings, without building it.
std::string Sha256(std::string_view first, std::string_view second);

}  // namespace keyline::store
