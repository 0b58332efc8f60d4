// A relying party's OCSP check in-process, through keylinectl's OCSP client (cli/ocsp_client.h):
// fast enough to ask right after an RPC returns, which a spawned `openssl ocsp` is not.
#pragma once

#include <openssl/x509.h>

#include <string>

#include "absl/status/statusor.h"
#include "cli/ocsp_client.h"

namespace keyline::testing {

// The verified answer `url` (the responder's POST address, ".../ocsp") gives for `serial`
// (raw big-endian magnitude, as ca::SerialOf gives it) issued by `issuer`; without a nonce, so a
// pre-signed answer.
[[nodiscard]] absl::StatusOr<cli::OcspCertificateStatus> OcspAnswerOf(const std::string& url,
                                                                      X509* issuer,
                                                                      const std::string& serial);

}  // namespace keyline::testing
