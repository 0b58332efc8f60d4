// CSR policy: what Keyline accepts from a PKCS#10 certification request, and what it ignores.
//
// A CSR contributes exactly one thing: its public key, after the request's self-signature has
// been checked (proof of possession). Its subject, attributes and requested extensions are never
// read: the certificate profile decides every field (DESIGN.md, "Trust model").
//
// Accepted keys: EC P-256 or P-384 (named curves only), Ed25519, RSA of at least 2048 bits.
// Accepted signature digests: SHA-256 and stronger (SHA-1 and MD5 signatures are refused), or
// Ed25519.
//
// Parsing follows RFC 2986 4.2 with OpenSSL's ASN.1 decoder, through templates of our own that
// keep the SubjectPublicKeyInfo as algorithm and bits; the key is then decoded by
// ca/public_key_decoder.h rather than by OpenSSL 3.0's provider decoders (d2i_X509_REQ spends
// ~160 µs there, more than the signature check). The subject must still be a well-formed Name
// and the version v1.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ca/public_key_info.h"

namespace keyline::ca {

inline constexpr size_t kMaxCsrBytes = 64 * 1024;

struct AcceptedCsr {
  PublicKeyInfo public_key;
  std::string key_type;  // "ec-p256", "ec-p384", "ed25519", "rsa-<bits>"
};

// Parses a CSR given as DER or PEM ("-----BEGIN CERTIFICATE REQUEST-----") and applies the policy.
// Every rejection is InvalidArgument with a message that starts with `field` and names the
// problem, e.g. "csr: signature does not verify", "csr: RSA key of 1024 bits, at least 2048 required".
[[nodiscard]] absl::StatusOr<AcceptedCsr> ParseAndCheckCsr(std::string_view csr,
                                                           std::string_view field = "csr");

}  // namespace keyline::ca
