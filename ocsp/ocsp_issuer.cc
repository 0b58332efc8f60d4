#include "ocsp/ocsp_issuer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca/certificate_der.h"
#include "common/openssl_ptr.h"

namespace keyline::ocsp {
namespace {

std::string Digest(const EVP_MD* md, const unsigned char* data, size_t length) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(data, length, digest, &digest_length, md, nullptr) != 1) return "";
  return std::string(reinterpret_cast<char*>(digest), digest_length);
}

const std::string& Empty() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}

std::string SubjectText(const X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const OcspIssuer>> OcspIssuer::New(
    std::string_view ca_certificate_der, std::string_view signer_certificate_der,
    std::shared_ptr<const hsm::SigningKey> signer_key) {
  if (!signer_key) return absl::InvalidArgumentError("ocsp issuer: signer key missing");
  auto ca = ca::ParseCertificateDer(ca_certificate_der);
  if (!ca.ok()) return absl::InvalidArgumentError("ocsp issuer: CA certificate is not DER X.509");
  auto signer = ca::ParseCertificateDer(signer_certificate_der);
  if (!signer.ok()) {
    return absl::InvalidArgumentError("ocsp issuer: signer certificate is not DER X.509");
  }
  X509* ca_certificate = ca->get();
  X509* signer_certificate = signer->get();
  if (X509_check_ca(ca_certificate) < 1) {
    return absl::InvalidArgumentError("ocsp issuer: CA certificate is not a CA");
  }
  if (X509_check_issued(ca_certificate, signer_certificate) != X509_V_OK ||
      X509_verify(signer_certificate, X509_get0_pubkey(ca_certificate)) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("ocsp issuer: signer certificate was not issued by the CA");
  }
  if ((X509_get_extension_flags(signer_certificate) & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(signer_certificate) & XKU_OCSP_SIGN) == 0) {
    return absl::InvalidArgumentError("ocsp issuer: signer certificate lacks id-kp-OCSPSigning");
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(signer_certificate), signer_key->public_key()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "ocsp issuer: signer key does not match the signer certificate");
  }

  std::shared_ptr<OcspIssuer> issuer(new OcspIssuer());
  const unsigned char* name_der = nullptr;
  size_t name_length = 0;
  if (X509_NAME_get0_der(X509_get_subject_name(ca_certificate), &name_der, &name_length) != 1) {
    return absl::InvalidArgumentError("ocsp issuer: CA subject cannot be encoded");
  }
  const ASN1_BIT_STRING* ca_key = X509_get0_pubkey_bitstr(ca_certificate);
  const ASN1_BIT_STRING* signer_public_key = X509_get0_pubkey_bitstr(signer_certificate);
  if (ca_key == nullptr || signer_public_key == nullptr) {
    return absl::InvalidArgumentError("ocsp issuer: certificate without a public key");
  }
  issuer->sha1_name_hash_ = Digest(EVP_sha1(), name_der, name_length);
  issuer->sha256_name_hash_ = Digest(EVP_sha256(), name_der, name_length);
  issuer->sha1_key_hash_ = Digest(EVP_sha1(), ASN1_STRING_get0_data(ca_key),
                                  static_cast<size_t>(ASN1_STRING_length(ca_key)));
  issuer->sha256_key_hash_ = Digest(EVP_sha256(), ASN1_STRING_get0_data(ca_key),
                                    static_cast<size_t>(ASN1_STRING_length(ca_key)));
  issuer->responder_key_hash_ =
      Digest(EVP_sha1(), ASN1_STRING_get0_data(signer_public_key),
             static_cast<size_t>(ASN1_STRING_length(signer_public_key)));
  if (issuer->sha1_name_hash_.empty() || issuer->sha256_key_hash_.empty() ||
      issuer->responder_key_hash_.empty()) {
    return absl::InternalError("ocsp issuer: digest failed");
  }
  issuer->ca_certificate_der_ = std::string(ca_certificate_der);
  issuer->signer_certificate_der_ = std::string(signer_certificate_der);
  issuer->signer_key_ = std::move(signer_key);
  issuer->signer_not_after_ = ca::NotAfterOf(signer_certificate);
  issuer->ca_subject_ = SubjectText(ca_certificate);
  return issuer;
}

const std::string& OcspIssuer::name_hash(CertIdHash hash) const {
  switch (hash) {
    case CertIdHash::kSha1:
      return sha1_name_hash_;
    case CertIdHash::kSha256:
      return sha256_name_hash_;
    case CertIdHash::kUnknown:
    default:
      return Empty();
  }
}

const std::string& OcspIssuer::key_hash(CertIdHash hash) const {
  switch (hash) {
    case CertIdHash::kSha1:
      return sha1_key_hash_;
    case CertIdHash::kSha256:
      return sha256_key_hash_;
    case CertIdHash::kUnknown:
    default:
      return Empty();
  }
}

bool OcspIssuer::Matches(const CertId& cert_id) const {
  if (cert_id.hash != CertIdHash::kSha1 && cert_id.hash != CertIdHash::kSha256) return false;
  return cert_id.issuer_name_hash == name_hash(cert_id.hash) &&
         cert_id.issuer_key_hash == key_hash(cert_id.hash);
}

bool OcspIssuer::SameCa(const OcspIssuer& other) const {
  return sha256_name_hash_ == other.sha256_name_hash_ && sha256_key_hash_ == other.sha256_key_hash_;
}

}  // namespace keyline::ocsp
