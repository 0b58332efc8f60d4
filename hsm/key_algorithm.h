// Key algorithms Keyline generates and signs with inside the HSM.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::hsm {

enum class KeyAlgorithm {
  kEcdsaP256,  // signs with ECDSA over SHA-256 digests
  kEcdsaP384,  // signs with ECDSA over SHA-384 digests
};

// "ec-p256" / "ec-p384", as written in configuration and the CAs table.
std::string_view KeyAlgorithmName(KeyAlgorithm algorithm);
absl::StatusOr<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name);

// Length in bytes of the digest the key signs (32 for P-256, 48 for P-384).
size_t DigestLength(KeyAlgorithm algorithm);

}  // namespace keyline::hsm
