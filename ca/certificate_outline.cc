#include "ca/certificate_outline.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <ctime>

#include "common/openssl_ptr.h"

// RFC 5280 4.1 Certificate, with every element enrollment does not read left as ANY. asn1t.h
// conventions, hence the C-style names.
extern "C" {
typedef struct {
  ASN1_INTEGER* version;  // [0] EXPLICIT, absent for v1
  ASN1_INTEGER* serial;
  ASN1_TYPE* signature;
  ASN1_TYPE* issuer;
  X509_VAL* validity;
  ASN1_TYPE* subject;
  ASN1_TYPE* public_key_info;
  ASN1_BIT_STRING* issuer_unique_id;   // [1] IMPLICIT
  ASN1_BIT_STRING* subject_unique_id;  // [2] IMPLICIT
  ASN1_TYPE* extensions;               // [3] EXPLICIT
} KEYLINE_TBS_OUTLINE;

typedef struct {
  KEYLINE_TBS_OUTLINE* tbs;
  ASN1_TYPE* signature_algorithm;
  ASN1_BIT_STRING* signature;
} KEYLINE_CERTIFICATE_OUTLINE;
}

namespace keyline::ca {
namespace {

ASN1_SEQUENCE(KEYLINE_TBS_OUTLINE) =
    {
        ASN1_EXP_OPT(KEYLINE_TBS_OUTLINE, version, ASN1_INTEGER, 0),
        ASN1_SIMPLE(KEYLINE_TBS_OUTLINE, serial, ASN1_INTEGER),
        ASN1_SIMPLE(KEYLINE_TBS_OUTLINE, signature, ASN1_ANY),
        ASN1_SIMPLE(KEYLINE_TBS_OUTLINE, issuer, ASN1_ANY),
        ASN1_SIMPLE(KEYLINE_TBS_OUTLINE, validity, X509_VAL),
        ASN1_SIMPLE(KEYLINE_TBS_OUTLINE, subject, ASN1_ANY),
        ASN1_SIMPLE(KEYLINE_TBS_OUTLINE, public_key_info, ASN1_ANY),
        ASN1_IMP_OPT(KEYLINE_TBS_OUTLINE, issuer_unique_id, ASN1_BIT_STRING, 1),
        ASN1_IMP_OPT(KEYLINE_TBS_OUTLINE, subject_unique_id, ASN1_BIT_STRING, 2),
        ASN1_EXP_OPT(KEYLINE_TBS_OUTLINE, extensions, ASN1_ANY, 3),
} ASN1_SEQUENCE_END(KEYLINE_TBS_OUTLINE)

        ASN1_SEQUENCE(KEYLINE_CERTIFICATE_OUTLINE) =
            {
                ASN1_SIMPLE(KEYLINE_CERTIFICATE_OUTLINE, tbs, KEYLINE_TBS_OUTLINE),
                ASN1_SIMPLE(KEYLINE_CERTIFICATE_OUTLINE, signature_algorithm, ASN1_ANY),
                ASN1_SIMPLE(KEYLINE_CERTIFICATE_OUTLINE, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(KEYLINE_CERTIFICATE_OUTLINE)

                void FreeOutline(KEYLINE_CERTIFICATE_OUTLINE * outline) {
  ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(outline),
                 ASN1_ITEM_rptr(KEYLINE_CERTIFICATE_OUTLINE));
}
using OutlinePtr = OpenSslPtr<KEYLINE_CERTIFICATE_OUTLINE, FreeOutline>;

bool ToTime(const ASN1_TIME* time, absl::Time* out) {
  struct tm parts {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return false;
  *out = absl::FromTimeT(timegm(&parts));
  return true;
}

}  // namespace

absl::StatusOr<CertificateOutline> ReadCertificateOutline(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  OutlinePtr outline(reinterpret_cast<KEYLINE_CERTIFICATE_OUTLINE*>(
      ASN1_item_d2i(nullptr, &cursor, static_cast<long>(der.size()),
                    ASN1_ITEM_rptr(KEYLINE_CERTIFICATE_OUTLINE))));
  ERR_clear_error();
  if (!outline) return absl::InvalidArgumentError("certificate: not DER X.509");
  if (cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError("certificate: trailing data after the DER certificate");
  }
  const KEYLINE_TBS_OUTLINE* tbs = outline->tbs;
  // ANY keeps a constructed element's whole encoding, tag and length included.
  if (tbs->public_key_info->type != V_ASN1_SEQUENCE) {
    return absl::InvalidArgumentError("certificate: subjectPublicKeyInfo is not a SEQUENCE");
  }
  CertificateOutline result;
  if (!ToTime(tbs->validity->notBefore, &result.not_before) ||
      !ToTime(tbs->validity->notAfter, &result.not_after)) {
    return absl::InvalidArgumentError("certificate: validity is not a valid time");
  }
  const ASN1_STRING* key = tbs->public_key_info->value.sequence;
  result.public_key_info_der.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(key)),
                                    static_cast<size_t>(ASN1_STRING_length(key)));
  return result;
}

}  // namespace keyline::ca
