// The routes of the status listener: OCSP (RFC 6960 Appendix A: POST /ocsp with the DER request,
// GET /ocsp/<percent-encoded base64>), CRLs (GET /crl/<file>), /healthz, /readyz and /metrics.
//
// OCSP errors travel as OCSP: a request that does not decode gets HTTP 200 with a
// malformedRequest OCSPResponse, as clients expect (openssl ocsp, gnutls ocsptool). Cacheable
// answers (no nonce) carry the RFC 9919 / RFC 5019 headers: Cache-Control max-age (up to
// nextUpdate), public, no-transform, must-revalidate; Last-Modified (thisUpdate); Expires
// (nextUpdate); ETag. CRLs carry the same from their own times, Content-Type application/pkix-crl.
//
// Handlers run on the HTTP event loops and never block: OCSP hot answers are cached, a cache miss
// signs (about a tenth of a millisecond in the HSM) on the loop thread.
#pragma once

#include <atomic>
#include <functional>

#include "absl/status/statusor.h"
#include "http/metrics.h"
#include "http/router.h"
#include "ocsp/ocsp_responder.h"
#include "server/crl_publisher.h"

namespace keyline::server {

struct StatusRoutesContext {
  ocsp::OcspResponder* responder = nullptr;
  CrlPublisher* crls = nullptr;
  http::MetricsRegistry* metrics = nullptr;
  std::function<bool()> ready;  // /readyz answers 200 while it returns true
};

[[nodiscard]] absl::StatusOr<http::Router> BuildStatusRoutes(const StatusRoutesContext& context);

}  // namespace keyline::server
