// Builds the OpenSSL public key of an HSM-held EC key from its PKCS#11 attributes.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"
#include "hsm/key_algorithm.h"

namespace keyline::hsm {

// `ec_point` is CKA_EC_POINT of the public-key object: the uncompressed point (04 || X || Y),
// wrapped in a DER OCTET STRING as PKCS#11 2.40 requires (SoftHSM2 does) or bare, as some
// modules return it. The point must lie on the algorithm's curve. FailedPrecondition otherwise.
[[nodiscard]] absl::StatusOr<EvpPkeyPtr> EcPublicKeyFromPoint(KeyAlgorithm algorithm,
                                                              std::string_view ec_point);

}  // namespace keyline::hsm
