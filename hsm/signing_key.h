// A private key that signs digests without ever handing out its value. The production
// implementation lives in the HSM (Pkcs11SigningKey); unit tests of ca/ use a software fake.
#pragma once

#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "absl/status/statusor.h"
#include "hsm/key_algorithm.h"

namespace keyline::hsm {

class SigningKey {
 public:
  virtual ~SigningKey() = default;

  virtual KeyAlgorithm algorithm() const = 0;

  // The public half, owned by the key; valid for the key's lifetime.
  virtual EVP_PKEY* public_key() const = 0;

  // Signs a digest of DigestLength(algorithm()) bytes and returns the DER ECDSA-Sig-Value
  // (SEQUENCE { r INTEGER, s INTEGER }), the form X.509 and OCSP signatures carry.
  // InvalidArgument for a digest of the wrong length; Unavailable when the HSM cannot be
  // reached even after the session pool recovered. Thread-safe.
  [[nodiscard]] virtual absl::StatusOr<std::string> SignDigest(std::string_view digest) const = 0;
};

}  // namespace keyline::hsm
