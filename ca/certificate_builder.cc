#include "ca/certificate_builder.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "ca/tbs_certificate_der.h"
#include "ca/x509_signing.h"
#include "common/der_encoding.h"
#include "common/openssl_error.h"
#include "common/status_macros.h"

namespace keyline::ca {
namespace {

// The issuer's own notAfter bounds everything it signs.
absl::StatusOr<absl::Time> ClampToIssuer(absl::Time not_after, const X509* issuer_certificate) {
  if (issuer_certificate == nullptr) return not_after;
  struct tm limit {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(issuer_certificate), &limit) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "certificate issuer notAfter");
  }
  return std::min(not_after, absl::FromTimeT(timegm(&limit)));
}

}  // namespace

absl::StatusOr<BuiltCertificate> BuildCertificate(const CertificateTemplate& request,
                                                  const X509* issuer_certificate,
                                                  const hsm::SigningKey& issuer_key) {
  KEYLINE_RETURN_IF_ERROR(CheckCertificateTemplate(request));
  KEYLINE_ASSIGN_OR_RETURN(const absl::Time not_after,
                           ClampToIssuer(request.not_after, issuer_certificate));
  std::string issuer_name;
  TbsIssuer issuer;
  if (issuer_certificate == nullptr) {
    if (EVP_PKEY_eq(request.public_key->key(), issuer_key.public_key()) != 1) {
      return absl::InvalidArgumentError("self-signed template: key differs from the signing key");
    }
  } else {
    KEYLINE_ASSIGN_OR_RETURN(issuer_name, EncodeDer(
                                              [issuer_certificate](unsigned char** out) {
                                                return i2d_X509_NAME(
                                                    X509_get_subject_name(issuer_certificate), out);
                                              },
                                              "certificate issuer name"));
    const ASN1_OCTET_STRING* key_id =
        X509_get0_subject_key_id(const_cast<X509*>(issuer_certificate));
    if (key_id == nullptr) {
      return absl::FailedPreconditionError("issuer certificate has no subject key identifier");
    }
    issuer.name_der = issuer_name;
    issuer.key_id = std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(key_id)),
                                     static_cast<size_t>(ASN1_STRING_length(key_id)));
  }
  const std::string algorithm = SignatureAlgorithmDer(SignatureNid(issuer_key));
  KEYLINE_ASSIGN_OR_RETURN(const std::string tbs,
                           EncodeTbsCertificate(request, issuer, algorithm, not_after));
  KEYLINE_ASSIGN_OR_RETURN(const std::string signature, SignWithKey(issuer_key, tbs));
  return BuiltCertificate{EncodeSignedCertificate(tbs, algorithm, signature),
                          absl::FromTimeT(absl::ToTimeT(request.not_before)),
                          absl::FromTimeT(absl::ToTimeT(not_after))};
}

}  // namespace keyline::ca
