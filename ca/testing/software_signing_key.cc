#include "ca/testing/software_signing_key.h"

#include "ca/software_key.h"
#include "common/openssl_error.h"

namespace keyline::ca::testing {

std::unique_ptr<SoftwareSigningKey> SoftwareSigningKey::Generate(hsm::KeyAlgorithm algorithm) {
  auto key = GenerateSoftwareKey(algorithm == hsm::KeyAlgorithm::kEcdsaP384
                                     ? SoftwareKeyType::kEcP384
                                     : SoftwareKeyType::kEcP256);
  if (!key.ok()) return nullptr;
  return std::unique_ptr<SoftwareSigningKey>(new SoftwareSigningKey(algorithm, *std::move(key)));
}

absl::StatusOr<std::string> SoftwareSigningKey::SignDigest(std::string_view digest) const {
  if (digest.size() != hsm::DigestLength(algorithm_)) {
    return absl::InvalidArgumentError("digest: wrong length");
  }
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new(key_.get(), nullptr));
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(digest.data());
  if (!context || EVP_PKEY_sign_init(context.get()) != 1 ||
      EVP_PKEY_sign(context.get(), nullptr, &length, data, digest.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "software signature");
  }
  std::string signature(length, '\0');
  if (EVP_PKEY_sign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                    data, digest.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "software signature");
  }
  signature.resize(length);
  return signature;
}

}  // namespace keyline::ca::testing
