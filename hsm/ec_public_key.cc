#include "hsm/ec_public_key.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "common/openssl_error.h"
#include "hsm/ec_curve.h"

namespace keyline::hsm {

absl::StatusOr<EvpPkeyPtr> EcPublicKeyFromPoint(KeyAlgorithm algorithm, std::string_view ec_point) {
  const size_t bare_length = 1 + 2 * FieldLength(algorithm);
  std::string_view point = ec_point;
  Asn1OctetStringPtr wrapped;
  // The lengths tell the forms apart: a bare point's first byte (04) is also the OCTET STRING
  // tag, but the wrapped form is always longer.
  if (ec_point.size() != bare_length) {
    const auto* in = reinterpret_cast<const unsigned char*>(ec_point.data());
    wrapped.reset(d2i_ASN1_OCTET_STRING(nullptr, &in, static_cast<long>(ec_point.size())));
    if (wrapped == nullptr ||
        in != reinterpret_cast<const unsigned char*>(ec_point.data()) + ec_point.size()) {
      return OpenSslError(absl::StatusCode::kFailedPrecondition,
                          "CKA_EC_POINT: neither a point nor a DER OCTET STRING");
    }
    point = std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(wrapped.get())),
                             static_cast<size_t>(ASN1_STRING_length(wrapped.get())));
  }
  if (point.size() != bare_length || point.front() != 0x04) {
    return absl::FailedPreconditionError(
        "CKA_EC_POINT: not an uncompressed point of the key's curve");
  }

  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>(CurveName(algorithm)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<char*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end(),
  };
  const EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw_key = nullptr;
  if (context == nullptr || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &raw_key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition, "CKA_EC_POINT: not a valid point");
  }
  EvpPkeyPtr key(raw_key);
  // Import decodes the point; the explicit check also rejects the point at infinity and points
  // outside the prime-order subgroup.
  const EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition,
                        "CKA_EC_POINT: not a point of the curve");
  }
  return key;
}

}  // namespace keyline::hsm
