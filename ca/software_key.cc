#include "ca/software_key.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/der_encoding.h"
#include "common/openssl_error.h"

namespace keyline::ca {

absl::StatusOr<EvpPkeyPtr> GenerateSoftwareKey(SoftwareKeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case SoftwareKeyType::kEcP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case SoftwareKeyType::kEcP384:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case SoftwareKeyType::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case SoftwareKeyType::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
  }
  if (key == nullptr) return OpenSslError(absl::StatusCode::kInternal, "key generation");
  return EvpPkeyPtr(key);
}

absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "private key encoding");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return absl::InvalidArgumentError("private key: not a PEM private key");
  }
  return key;
}

absl::StatusOr<std::string> PublicKeyToDer(EVP_PKEY* key) {
  return EncodeDer([key](unsigned char** out) { return i2d_PUBKEY(key, out); },
                   "public key encoding");
}

absl::StatusOr<std::string> CreateCsr(EVP_PKEY* key, std::string_view common_name) {
  X509ReqPtr request(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  if (!common_name.empty() &&
      X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "csr subject");
  }
  const EVP_MD* digest = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_REQ_set_version(request.get(), 0) != 1 || X509_REQ_set_pubkey(request.get(), key) != 1 ||
      X509_REQ_sign(request.get(), key, digest) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "csr signing");
  }
  return EncodeDer([&request](unsigned char** out) { return i2d_X509_REQ(request.get(), out); },
                   "csr encoding");
}

}  // namespace keyline::ca
