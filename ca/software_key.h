// Keys that live in a file rather than the HSM: keyline-server's TLS key, the keys keylinectl
// makes for operators (--out-key), and keys in tests. Never used for a CA.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

enum class SoftwareKeyType { kEcP256, kEcP384, kEd25519, kRsa2048 };

[[nodiscard]] absl::StatusOr<EvpPkeyPtr> GenerateSoftwareKey(SoftwareKeyType type);

// PKCS#8 PEM, unencrypted: callers write it with mode 0600.
[[nodiscard]] absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key);

[[nodiscard]] absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(std::string_view pem);

// SubjectPublicKeyInfo DER.
[[nodiscard]] absl::StatusOr<std::string> PublicKeyToDer(EVP_PKEY* key);

// A PKCS#10 request for `key` with subject CN=common_name, signed with SHA-256 (or Ed25519), as DER.
[[nodiscard]] absl::StatusOr<std::string> CreateCsr(EVP_PKEY* key, std::string_view common_name);

}  // namespace keyline::ca
