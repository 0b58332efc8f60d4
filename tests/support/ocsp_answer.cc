#include "tests/support/ocsp_answer.h"

#include "absl/time/clock.h"

namespace keyline::testing {

absl::StatusOr<cli::OcspCertificateStatus> OcspAnswerOf(const std::string& url, X509* issuer,
                                                        const std::string& serial) {
  cli::OcspRequestOptions options;
  options.serial = serial;
  options.nonce = false;
  absl::StatusOr<cli::PreparedOcspRequest> request = cli::BuildOcspRequest(options, issuer);
  if (!request.ok()) return request.status();
  absl::StatusOr<std::string> response = cli::PostOcspRequest(url, request->der, absl::Seconds(5));
  if (!response.ok()) return response.status();
  absl::StatusOr<cli::OcspVerdict> verdict =
      cli::VerifyOcspResponse(*response, *request, issuer, absl::Now());
  if (!verdict.ok()) return verdict.status();
  return verdict->status;
}

}  // namespace keyline::testing
