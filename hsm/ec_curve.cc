#include "hsm/ec_curve.h"

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include "common/openssl_error.h"
#include "common/openssl_ptr.h"

namespace keyline::hsm {
namespace {

int CurveNid(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      return NID_X9_62_prime256v1;
    case KeyAlgorithm::kEcdsaP384:
      return NID_secp384r1;
    default:
      return NID_undef;
  }
}

}  // namespace

const char* CurveName(KeyAlgorithm algorithm) { return OBJ_nid2sn(CurveNid(algorithm)); }

size_t FieldLength(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      return 32;
    case KeyAlgorithm::kEcdsaP384:
      return 48;
    default:
      return 0;
  }
}

absl::StatusOr<std::string> EcParamsForAlgorithm(KeyAlgorithm algorithm) {
  // OBJ_nid2obj returns a static object that must not be freed.
  const ASN1_OBJECT* curve = OBJ_nid2obj(CurveNid(algorithm));
  const int length = curve != nullptr ? i2d_ASN1_OBJECT(curve, nullptr) : -1;
  if (length <= 0) return OpenSslError(absl::StatusCode::kInternal, "encoding the curve OID");
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ASN1_OBJECT(curve, &out);
  return der;
}

absl::StatusOr<KeyAlgorithm> AlgorithmForEcParams(std::string_view ec_params) {
  const auto* in = reinterpret_cast<const unsigned char*>(ec_params.data());
  const Asn1ObjectPtr curve(d2i_ASN1_OBJECT(nullptr, &in, static_cast<long>(ec_params.size())));
  const bool whole =
      curve != nullptr &&
      in == reinterpret_cast<const unsigned char*>(ec_params.data()) + ec_params.size();
  const int nid = whole ? OBJ_obj2nid(curve.get()) : NID_undef;
  DrainOpenSslErrors();  // a non-OID (explicit parameters) is an answer here, not an error
  if (nid == NID_X9_62_prime256v1) return KeyAlgorithm::kEcdsaP256;
  if (nid == NID_secp384r1) return KeyAlgorithm::kEcdsaP384;
  return absl::FailedPreconditionError(
      "CKA_EC_PARAMS: not a named curve Keyline supports (P-256, P-384)");
}

}  // namespace keyline::hsm
