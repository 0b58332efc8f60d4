#include "ca/public_key_info.h"

#include "common/der_encoding.h"
#include "common/der_writer.h"
#include "common/openssl_error.h"
#include "common/status_macros.h"

namespace keyline::ca {

absl::StatusOr<PublicKeyInfo> PublicKeyInfo::FromKey(EVP_PKEY* key) {
  X509_PUBKEY* encoded = nullptr;
  if (key == nullptr || X509_PUBKEY_set(&encoded, key) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "public key encoding");
  }
  OpenSslPtr<X509_PUBKEY, X509_PUBKEY_free> owner(encoded);
  const unsigned char* bits = nullptr;
  int bits_length = 0;
  X509_ALGOR* algorithm = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &bits, &bits_length, &algorithm, encoded) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "public key parameters");
  }
  EVP_PKEY_up_ref(key);
  return PublicKeyInfo(EvpPkeyPtr(key), X509AlgorPtr(X509_ALGOR_dup(algorithm)),
                       std::string(reinterpret_cast<const char*>(bits),
                                   static_cast<size_t>(bits_length)));
}

absl::Status PublicKeyInfo::CopyInto(X509* certificate) const {
  X509_PUBKEY* target = X509_get_X509_PUBKEY(certificate);
  auto* bits = static_cast<unsigned char*>(OPENSSL_malloc(key_bits_.size() + 1));
  if (target == nullptr || bits == nullptr) {
    OPENSSL_free(bits);
    return absl::InternalError("public key copy: allocation");
  }
  std::copy(key_bits_.begin(), key_bits_.end(), bits);
  // set0_param takes the bits (and an algorithm, replaced right after by an exact copy of ours).
  X509_ALGOR* target_algorithm = nullptr;
  if (X509_PUBKEY_set0_param(target, OBJ_nid2obj(NID_undef), V_ASN1_UNDEF, nullptr, bits,
                             static_cast<int>(key_bits_.size())) != 1) {
    OPENSSL_free(bits);
    return OpenSslError(absl::StatusCode::kInternal, "public key copy");
  }
  if (X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &target_algorithm, target) != 1 ||
      X509_ALGOR_copy(target_algorithm, algorithm_.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "public key algorithm copy");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PublicKeyInfo::ToDer() const {
  // SEQUENCE { algorithm, subjectPublicKey BIT STRING (no unused bits) }, as i2d_X509_PUBKEY
  // writes it after CopyInto, without building an X509 to hold the copy.
  KEYLINE_ASSIGN_OR_RETURN(
      std::string content,
      EncodeDer([this](unsigned char** out) { return i2d_X509_ALGOR(algorithm_.get(), out); },
                "public key algorithm encoding"));
  std::string bits;
  bits.reserve(key_bits_.size() + 1);
  bits.push_back('\0');
  bits.append(key_bits_);
  content.append(der::Tlv(der::kBitString, bits));
  return der::Tlv(der::kSequence, content);
}

}  // namespace keyline::ca
