// A PKCS#10 request signed by a key that stays where it lives (an HSM or secure element behind
// hsm::SigningKey): what a device does to ask for a certificate for its deployment key.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "hsm/signing_key.h"

namespace keyline::ca {

// DER CertificationRequest for `key` with subject CN=common_name (may be empty), signed with
// ecdsa-with-SHA256 (P-256) or ecdsa-with-SHA384 (P-384).
[[nodiscard]] absl::StatusOr<std::string> CreateCsrWithKey(const hsm::SigningKey& key,
                                                           std::string_view common_name);

}  // namespace keyline::ca
