// A SigningKey held in memory, for unit tests of ca/ that should not need an HSM. Production code
// never uses it: CA keys live in the HSM.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"
#include "hsm/signing_key.h"

namespace keyline::ca::testing {

class SoftwareSigningKey : public hsm::SigningKey {
 public:
  static std::unique_ptr<SoftwareSigningKey> Generate(hsm::KeyAlgorithm algorithm);

  hsm::KeyAlgorithm algorithm() const override { return algorithm_; }
  EVP_PKEY* public_key() const override { return key_.get(); }
  absl::StatusOr<std::string> SignDigest(std::string_view digest) const override;

 private:
  SoftwareSigningKey(hsm::KeyAlgorithm algorithm, EvpPkeyPtr key)
      : algorithm_(algorithm), key_(std::move(key)) {}

  hsm::KeyAlgorithm algorithm_;
  EvpPkeyPtr key_;
};

}  // namespace keyline::ca::testing
