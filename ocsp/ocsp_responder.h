// The OCSP engine the HTTP layer calls: request DER in, OCSPResponse DER out (RFC 6960, with the
// RFC 9919 / RFC 5019 lightweight profile's caching in mind and RFC 9654 nonces).
//
// Answer() rules, in order:
// - the exact request bytes were answered before from the pre-signed cache and that response is
//   still servable: return it (one hash lookup, no parse; the hot path);
// - the request does not parse (ocsp/ocsp_request.h) or has more than max_cert_ids_per_request
//   CertIDs: malformedRequest;
// - any CertID not matching a served issuer by both hashes, or using a hash other than SHA-1 or
//   SHA-256: unauthorized (RFC 6960 2.3; all CertIDs must be ours);
// - a nonce, or several CertIDs: a freshly signed response (echoing the nonce), never cached
//   here. Multi-CertID requests are rare (browsers and RFC 5019 clients send one) and caching them
//   would need an index from every serial to every such request; they are signed each time,
//   within fresh_signatures_per_second (ocsp/fresh_signature_budget.h). Over it, a one-CertID
//   request's nonce is ignored (RFC 9654 lets a responder leave it out) and the request answered
//   as if it had none, and several CertIDs get tryLater;
// - one CertID for a serial the source does not know and no slot holds: the first `unknown`
//   answer costs a signature from the same budget (tryLater over it), so that random serials
//   cannot make every request a signature;
// - one CertID, no nonce: the pre-signed response for that CertID (signed on first use, then
//   served from the cache and refreshed), and the request bytes are remembered for the hot path.
// Status lookup or signing failures give tryLater (Unavailable) or internalError, never a guess;
// a cached answer that is due for re-signing but cannot be re-signed is served until its
// nextUpdate.
// Serials the status source does not know are answered `unknown` (RFC 6960 2.2) and cached for
// the shorter unknown_validity; RefreshDue drops such entries instead of re-signing them.
//
// Validity: thisUpdate = signing time - backdate (clients with slow clocks), nextUpdate =
// thisUpdate + validity. RefreshDue(now), called periodically by the server, re-signs each cached
// response whose remaining validity fell below refresh_fraction * validity. As a safety net for a
// late RefreshDue, a response whose remaining validity fell below half of that is re-signed
// before it is served again.
//
// Revocation: after committing a revocation (and after issuing a certificate, so that a cached
// `unknown` goes away), the server calls Invalidate(issuer, serial, now), which re-signs every
// cached response for that certificate before returning; hot entries point at the cache entry,
// so they serve the new response at once. If re-signing fails the entry is dropped, so a stale
// `good` is never served.
//
// Issuers can be added at runtime (CA rotation: old and new CA side by side). Adding an issuer
// for a CA already served replaces it (signer certificate rotation); cached responses move to the
// new signer as they are refreshed.
//
// Thread-safe: Answer from many HTTP threads, RefreshDue and Invalidate from others.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ocsp/certificate_status.h"
#include "ocsp/fresh_signature_budget.h"
#include "ocsp/ocsp_issuer.h"
#include "ocsp/ocsp_request.h"
#include "ocsp/presigned_cache.h"
#include "ocsp/response_builder.h"

namespace keyline::ocsp {

struct OcspResponderOptions {
  absl::Duration validity = absl::Hours(1);            // nextUpdate - thisUpdate
  absl::Duration unknown_validity = absl::Minutes(5);  // the same for `unknown` answers
  absl::Duration backdate = absl::Minutes(1);          // thisUpdate before the signing time
  double refresh_fraction = 0.5;  // RefreshDue re-signs below this share of validity left
  // Pre-signed single responses kept (about 1.5 KB each with the signer certificate inside);
  // the least recently refreshed is evicted first.
  size_t max_cached_responses = 200'000;
  size_t max_hot_requests = 200'000;  // request bytes remembered for the hot path
  size_t max_cert_ids_per_request = 16;
  // Responses signed a second for requests the cache cannot answer (a nonce, several CertIDs),
  // across every thread: 0 (no limit) or at least 1.
  double fresh_signatures_per_second = 0;
};

struct OcspAnswer {
  OcspResponseStatus status = OcspResponseStatus::kInternalError;
  std::shared_ptr<const std::string> body;  // the DER OCSPResponse; always set
  // The rest is set for kSuccessful only.
  // True when HTTP may cache the answer (no nonce): send Cache-Control max-age=<nextUpdate-now>,
  // public, no-transform, must-revalidate, Last-Modified=thisUpdate, Expires=nextUpdate, ETag.
  bool cacheable = false;
  absl::Time produced_at;
  absl::Time this_update;
  absl::Time next_update;
  std::string_view etag;  // quoted strong ETag; empty when not cacheable; lives as long as body
  // The request had a nonce, and the answer is the pre-signed one without it: the fresh signature
  // budget was spent.
  bool nonce_ignored = false;
  // tryLater because the fresh signature budget was spent (several CertIDs, a new unknown serial).
  bool refused_over_budget = false;
  // Why the answer is not successful, for logs and metrics (OK when successful).
  absl::Status detail;
};

struct OcspRefreshResult {
  size_t resigned = 0;
  size_t dropped = 0;  // `unknown` entries removed instead of re-signed
  size_t failed = 0;   // kept their current response; retried on the next call
  absl::Status first_error;
};

struct OcspResponderStats {
  size_t cached_responses = 0;
  size_t hot_requests = 0;
  uint64_t hot_hits = 0;
  uint64_t signatures = 0;  // every response signed: pre-signed, refreshed and fresh
  uint64_t nonces_ignored = 0;  // nonce requests answered from the cache, over budget
  uint64_t fresh_refused = 0;   // tryLater over budget: several CertIDs, an uncached unknown
};

class OcspResponder {
 public:
  // InvalidArgument for options that make no schedule (non-positive durations, a fraction
  // outside (0, 1), a backdate that eats the refresh window, zero caps, a fresh signature budget
  // that is neither 0 nor at least 1) or a null source.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<OcspResponder>> New(
      OcspResponderOptions options, std::shared_ptr<const StatusSource> status_source);

  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  void AddIssuer(std::shared_ptr<const OcspIssuer> issuer);
  std::vector<std::shared_ptr<const OcspIssuer>> issuers() const;

  OcspAnswer Answer(std::string_view request_der, absl::Time now);

  // Re-signs every cached response for (issuer's CA, serial) with a fresh status lookup; `serial`
  // is the big-endian magnitude. Returns the first signing or lookup error (those entries were
  // dropped from the cache).
  absl::Status Invalidate(const OcspIssuer& issuer, std::string_view serial, absl::Time now);

  OcspRefreshResult RefreshDue(absl::Time now);

  OcspResponderStats stats() const;

 private:
  OcspResponder(OcspResponderOptions options, std::shared_ptr<const StatusSource> status_source);

  std::shared_ptr<const OcspIssuer> FindIssuer(const CertId& cert_id) const;
  // tryLater with `why`, counted as refused over the fresh signature budget.
  OcspAnswer RefusedOverBudget(std::string_view why);
  // Whether answering `cert_id` means signing an `unknown` answer no slot holds yet.
  bool IsUnknownAndUncached(const OcspIssuer& issuer, const CertId& cert_id) const;
  // The issuer object now serving the same CA as `issuer` (null if none).
  std::shared_ptr<const OcspIssuer> CurrentIssuer(const OcspIssuer& issuer) const;
  absl::StatusOr<std::shared_ptr<const SignedOcspResponse>> Sign(
      const OcspIssuer& issuer, const std::vector<std::string_view>& cert_id_ders,
      const std::vector<CertificateStatus>& statuses, absl::Time now,
      std::optional<std::string_view> nonce);
  OcspAnswer AnswerFresh(const OcspRequest& request,
                         const std::vector<std::shared_ptr<const OcspIssuer>>& issuers,
                         absl::Time now);
  absl::StatusOr<std::shared_ptr<const SignedOcspResponse>> EnsureServable(CacheSlot& slot,
                                                                            absl::Time now);
  // Looks the status up again, signs and installs; the caller holds slot.sign_mutex.
  absl::StatusOr<std::shared_ptr<const SignedOcspResponse>> ResignLocked(CacheSlot& slot,
                                                                          absl::Time now);

  const OcspResponderOptions options_;
  const std::shared_ptr<const StatusSource> status_source_;
  mutable std::shared_mutex issuers_mutex_;
  std::vector<std::shared_ptr<const OcspIssuer>> issuers_;  // guarded by issuers_mutex_
  PresignedCache cache_;
  FreshSignatureBudget fresh_budget_;
  std::atomic<uint64_t> signatures_{0};
  std::atomic<uint64_t> nonces_ignored_{0};
  std::atomic<uint64_t> fresh_refused_{0};
};

}  // namespace keyline::ocsp
