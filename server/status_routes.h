// The routes of the status listener: OCSP (RFC 6960 Appendix A: POST /ocsp with the DER request,
// GET /ocsp/<percent-encoded base64>), CRLs (GET /crl/<file>), /healthz, /readyz and /metrics.
//
// OCSP errors travel as OCSP: a request that does not decode gets HTTP 200 with a
// malformedRequest OCSPResponse, as clients expect (openssl ocsp, gnutls ocsptool). Cacheable
// answers (no nonce) carry the RFC 9919 / RFC 5019 headers: Cache-Control max-age (up to
// nextUpdate), public, no-transform, must-revalidate; Last-Modified (thisUpdate); Expires
// (nextUpdate); ETag. Every other OCSP answer (a nonce's, tryLater, malformedRequest, ...) and
// /healthz, /readyz and /metrics carry Cache-Control: no-store, so that no shared cache pins a
// passing error to a certificate's GET URL. CRLs carry the cacheable headers from their own
// times, but max-age and Expires end when a newer CRL of their kind may be out (see below), not
// at nextUpdate: a delta CRL changes within a second of a revocation. Content-Type
// application/pkix-crl.
//
// Handlers run on the HTTP event loops and never block: OCSP hot answers are cached, a cache miss
// signs (about a tenth of a millisecond in the HSM) on the loop thread. Answers a request asks to
// have signed for itself (a nonce, several CertIDs) are bounded by the responder's fresh signature
// budget; /metrics counts the requests over it
// (keyline_ocsp_fresh_signature_budget_spent_total{answer="nonce_ignored"|"try_later"}).
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
  // /readyz answers 200 while it returns true: while this replica's status is known to be in
  // step with PostgreSQL (StatusSync::InStep), 503 otherwise.
  std::function<bool()> ready;
  // How soon a newer CRL of each kind may be published (status.crl_full_interval and
  // crl_delta_interval): a CRL's max-age is no longer, though its nextUpdate is a day away.
  absl::Duration crl_full_interval = absl::Minutes(5);
  absl::Duration crl_delta_interval = absl::Seconds(1);
};

[[nodiscard]] absl::StatusOr<http::Router> BuildStatusRoutes(const StatusRoutesContext& context);

}  // namespace keyline::server
