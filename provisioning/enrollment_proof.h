// The proof of possession a device gives when it enrolls or renews: its attestation key's
// signature over a domain-separated message binding the server's nonce, the device serial and
// the new key (proto/keyline/v1/enrollment.proto documents the bytes):
//   label 0x00 || nonce (32) || uint16 BE length(serial) || serial || SHA-256(new key's SPKI DER)
// The label keeps an enrollment proof from being replayed as anything else, the nonce makes it
// fresh, the serial ties it to the challenged device, the key hash to this CSR.
#pragma once

#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "absl/status/statusor.h"

namespace keyline::provisioning {

enum class ProofPurpose { kEnroll, kRenew };

inline constexpr size_t kMaxProofBytes = 512;

// InvalidArgument when the nonce is not 32 octets or the serial is longer than 65535 octets.
[[nodiscard]] absl::StatusOr<std::string> ProofMessage(ProofPurpose purpose,
                                                       std::string_view nonce,
                                                       std::string_view device_serial,
                                                       std::string_view new_key_sha256);

// Checks `proof` (ECDSA DER over SHA-256 for EC keys, Ed25519 otherwise) by `attestation_key`.
// Unauthenticated "proof: does not verify" when it does not; InvalidArgument for an oversized
// proof.
[[nodiscard]] absl::Status VerifyProof(EVP_PKEY* attestation_key, std::string_view message,
                                       std::string_view proof);

}  // namespace keyline::provisioning
