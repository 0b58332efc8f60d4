// Checking the ECDSA signatures keyline-server's HSM keys make over Keyline's domain-separated
// messages (audit checkpoints, ownership vouchers): ECDSA (DER Ecdsa-Sig-Value) over SHA-256 of
// the message, whatever the curve.
#pragma once

#include <openssl/evp.h>

#include <string_view>

namespace keyline::cli {

// True only if `signature` is a valid signature of SHA-256(message) by `public_key`. Leaves
// OpenSSL's error queue empty.
[[nodiscard]] bool EcdsaSha256Verifies(EVP_PKEY* public_key, std::string_view message,
                                       std::string_view signature);

}  // namespace keyline::cli
