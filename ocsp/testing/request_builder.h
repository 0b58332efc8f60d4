// OCSP requests built with OpenSSL's own OCSP_* API, as a client library would build them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/status/statusor.h"

namespace keyline::ocsp::testing {

// One CertID per leaf (all issued by `issuer`), hashed with `md`; with a nonce extension holding
// `nonce` when given (OCSP_request_add1_nonce wraps it in an OCTET STRING, as RFC 9654 wants).
[[nodiscard]] absl::StatusOr<std::string> MakeOcspRequest(
    const std::vector<X509*>& leaves, X509* issuer, const EVP_MD* md = EVP_sha1(),
    std::optional<std::string> nonce = std::nullopt);

}  // namespace keyline::ocsp::testing
