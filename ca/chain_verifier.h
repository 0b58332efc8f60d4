// Path validation with OpenSSL's verifier (RFC 5280 6.1), for self-checks after init, for tests,
// and later for attestation chains.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace keyline::ca {

struct VerifyOptions {
  // X509_PURPOSE_SSL_CLIENT, X509_PURPOSE_SSL_SERVER, ...; nullopt checks no purpose.
  std::optional<int> purpose;
  std::optional<absl::Time> at;  // verification time; now when unset
};

// Verifies `leaf_der` up to `root_der` (the only trust anchor) through `intermediates_der`.
// InvalidArgument for undecodable input; FailedPrecondition "chain: <OpenSSL's reason>" when the
// path does not validate.
[[nodiscard]] absl::Status VerifyCertificateChain(std::string_view leaf_der,
                                                  const std::vector<std::string>& intermediates_der,
                                                  std::string_view root_der,
                                                  const VerifyOptions& options = {});

}  // namespace keyline::ca
