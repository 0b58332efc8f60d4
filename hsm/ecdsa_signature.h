// Converts the signature format of PKCS#11 CKM_ECDSA into the one X.509 and OCSP carry.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::hsm {

// `raw` is r || s, each half as long as the curve's field (PKCS#11 2.40 section 2.3.1). Returns
// the DER ECDSA-Sig-Value (RFC 3279 section 2.2.3). Internal for an odd or empty input: the
// module broke its contract.
[[nodiscard]] absl::StatusOr<std::string> EcdsaRawSignatureToDer(std::string_view raw);

}  // namespace keyline::hsm
