#include "ca/x509_signing.h"

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "ca/certificate_der.h"
#include "common/digests.h"
#include "common/openssl_error.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {
namespace {

const EVP_MD* DigestFor(hsm::KeyAlgorithm algorithm) {
  switch (algorithm) {
    case hsm::KeyAlgorithm::kEcdsaP384:
      return Sha384Digest();
    case hsm::KeyAlgorithm::kEcdsaP256:
    default:
      return Sha256Digest();
  }
}

// OpenSSL 3.0 has no setter for a certificate's signature; the getters hand out the fields
// themselves (const only by signature), which is how external signers fill them in.
X509_ALGOR* MutableTbsAlgorithm(X509* certificate) {
  return const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(certificate));
}

void OuterSignatureFields(X509* certificate, ASN1_BIT_STRING** signature,
                          X509_ALGOR** algorithm) {
  const ASN1_BIT_STRING* const_signature = nullptr;
  const X509_ALGOR* const_algorithm = nullptr;
  X509_get0_signature(&const_signature, &const_algorithm, certificate);
  *signature = const_cast<ASN1_BIT_STRING*>(const_signature);
  *algorithm = const_cast<X509_ALGOR*>(const_algorithm);
}

}  // namespace

int SignatureNid(const hsm::SigningKey& key) {
  return key.algorithm() == hsm::KeyAlgorithm::kEcdsaP384 ? NID_ecdsa_with_SHA384
                                                          : NID_ecdsa_with_SHA256;
}

absl::StatusOr<std::string> SignWithKey(const hsm::SigningKey& key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_length, DigestFor(key.algorithm()),
                 nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "digest of the signed data");
  }
  return key.SignDigest(
      std::string_view(reinterpret_cast<const char*>(digest), digest_length));
}

absl::StatusOr<std::string> SignCertificate(X509* certificate, const hsm::SigningKey& key) {
  const int nid = SignatureNid(key);
  ASN1_BIT_STRING* signature = nullptr;
  X509_ALGOR* outer_algorithm = nullptr;
  OuterSignatureFields(certificate, &signature, &outer_algorithm);
  // RFC 5758 3.2: the ECDSA AlgorithmIdentifiers have absent parameters.
  if (X509_ALGOR_set0(MutableTbsAlgorithm(certificate), OBJ_nid2obj(nid), V_ASN1_UNDEF,
                      nullptr) != 1 ||
      X509_ALGOR_set0(outer_algorithm, OBJ_nid2obj(nid), V_ASN1_UNDEF, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "certificate signature algorithm");
  }

  unsigned char* tbs = nullptr;
  const int tbs_length = i2d_re_X509_tbs(certificate, &tbs);
  if (tbs_length <= 0) return OpenSslError(absl::StatusCode::kInternal, "TBSCertificate encoding");
  auto signed_value =
      SignWithKey(key, std::string_view(reinterpret_cast<char*>(tbs), tbs_length));
  OPENSSL_free(tbs);
  if (!signed_value.ok()) return signed_value.status();

  if (ASN1_BIT_STRING_set(signature, reinterpret_cast<unsigned char*>(signed_value->data()),
                          static_cast<int>(signed_value->size())) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "certificate signature value");
  }
  // A signature is a whole number of octets: no unused bits.
  signature->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  signature->flags |= ASN1_STRING_FLAG_BITS_LEFT;

  return CertificateToDer(certificate);
}

}  // namespace keyline::ca
