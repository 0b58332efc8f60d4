// The curves behind Keyline's key algorithms, in the encodings PKCS#11 and OpenSSL use.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "hsm/key_algorithm.h"

namespace keyline::hsm {

// OpenSSL's name of the curve ("prime256v1", "secp384r1").
const char* CurveName(KeyAlgorithm algorithm);

// Bytes of one coordinate, and of r and s in a raw PKCS#11 ECDSA signature.
size_t FieldLength(KeyAlgorithm algorithm);

// CKA_EC_PARAMS for the curve: the DER ECParameters namedCurve OID (RFC 5480 section 2.1.1).
[[nodiscard]] absl::StatusOr<std::string> EcParamsForAlgorithm(KeyAlgorithm algorithm);

// The algorithm a CKA_EC_PARAMS value names. FailedPrecondition for other curves and for
// explicit curve parameters, which Keyline does not use.
[[nodiscard]] absl::StatusOr<KeyAlgorithm> AlgorithmForEcParams(std::string_view ec_params);

}  // namespace keyline::hsm
