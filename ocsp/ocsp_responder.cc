#include "ocsp/ocsp_responder.h"

#include <openssl/evp.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/der_writer.h"
#include "common/digests.h"
#include "common/hex.h"

namespace keyline::ocsp {
namespace {

OcspResponseStatus StatusForError(const absl::Status& error) {
  switch (error.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return OcspResponseStatus::kTryLater;
    default:
      return OcspResponseStatus::kInternalError;
  }
}

OcspAnswer ErrorAnswer(OcspResponseStatus status, absl::Status detail) {
  // One immutable body per status, shared by every answer.
  static const auto* const kBodies = [] {
    auto* bodies = new std::vector<std::shared_ptr<const std::string>>();
    for (int code = 0; code <= static_cast<int>(OcspResponseStatus::kUnauthorized); ++code) {
      bodies->push_back(std::make_shared<const std::string>(
          UnsignedOcspResponse(static_cast<OcspResponseStatus>(code))));
    }
    return bodies;
  }();
  OcspAnswer answer;
  answer.status = status;
  answer.body = (*kBodies)[static_cast<size_t>(status)];
  answer.detail = std::move(detail);
  return answer;
}

OcspAnswer SuccessfulAnswer(std::shared_ptr<const SignedOcspResponse> response, bool cacheable) {
  OcspAnswer answer;
  answer.status = OcspResponseStatus::kSuccessful;
  answer.cacheable = cacheable;
  answer.produced_at = response->produced_at;
  answer.this_update = response->this_update;
  answer.next_update = response->next_update;
  if (cacheable) answer.etag = response->etag;
  const std::string* der = &response->der;
  answer.body = std::shared_ptr<const std::string>(std::move(response), der);  // aliasing
  return answer;
}

std::string StrongEtag(std::string_view der) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(der.data(), der.size(), digest, &length, Sha256Digest(), nullptr);
  return absl::StrCat("\"", HexEncode(std::string_view(reinterpret_cast<char*>(digest), 6)),
                      "\"");
}

}  // namespace

absl::StatusOr<std::unique_ptr<OcspResponder>> OcspResponder::New(
    OcspResponderOptions options, std::shared_ptr<const StatusSource> status_source) {
  if (!status_source) return absl::InvalidArgumentError("ocsp responder: status source missing");
  if (options.validity <= absl::ZeroDuration() ||
      options.unknown_validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ocsp responder: validity must be positive");
  }
  if (!(options.refresh_fraction > 0.0 && options.refresh_fraction < 1.0)) {
    return absl::InvalidArgumentError("ocsp responder: refresh_fraction must be in (0, 1)");
  }
  // A response must not be due for refresh the moment it is signed.
  const absl::Duration shortest = std::min(options.validity, options.unknown_validity);
  if (options.backdate < absl::ZeroDuration() ||
      options.backdate + absl::Seconds(1) >= shortest * (1.0 - options.refresh_fraction)) {
    return absl::InvalidArgumentError(
        "ocsp responder: backdate must be shorter than the time before refresh");
  }
  if (options.max_cached_responses == 0 || options.max_hot_requests == 0 ||
      options.max_cert_ids_per_request == 0) {
    return absl::InvalidArgumentError("ocsp responder: caps must be positive");
  }
  // Below 1 a second the bucket would never hold a whole signature.
  if (!(options.fresh_signatures_per_second == 0 || options.fresh_signatures_per_second >= 1)) {
    return absl::InvalidArgumentError(
        "ocsp responder: fresh_signatures_per_second must be 0 (no limit) or at least 1");
  }
  return std::unique_ptr<OcspResponder>(new OcspResponder(options, std::move(status_source)));
}

OcspResponder::OcspResponder(OcspResponderOptions options,
                             std::shared_ptr<const StatusSource> status_source)
    : options_(options),
      status_source_(std::move(status_source)),
      cache_(options.max_cached_responses, options.max_hot_requests),
      fresh_budget_(options.fresh_signatures_per_second) {}

void OcspResponder::AddIssuer(std::shared_ptr<const OcspIssuer> issuer) {
  std::unique_lock lock(issuers_mutex_);
  for (auto& served : issuers_) {
    if (served->SameCa(*issuer)) {
      served = std::move(issuer);
      return;
    }
  }
  issuers_.push_back(std::move(issuer));
}

std::vector<std::shared_ptr<const OcspIssuer>> OcspResponder::issuers() const {
  std::shared_lock lock(issuers_mutex_);
  return issuers_;
}

std::shared_ptr<const OcspIssuer> OcspResponder::FindIssuer(const CertId& cert_id) const {
  std::shared_lock lock(issuers_mutex_);
  for (const auto& issuer : issuers_) {
    if (issuer->Matches(cert_id)) return issuer;
  }
  return nullptr;
}

std::shared_ptr<const OcspIssuer> OcspResponder::CurrentIssuer(const OcspIssuer& issuer) const {
  std::shared_lock lock(issuers_mutex_);
  for (const auto& served : issuers_) {
    if (served->SameCa(issuer)) return served;
  }
  return nullptr;
}

OcspAnswer OcspResponder::Answer(std::string_view request_der, absl::Time now) {
  if (auto hot = cache_.FindByRequest(request_der, now)) {
    return SuccessfulAnswer(std::move(hot), true);
  }

  auto request = ParseOcspRequest(request_der);
  if (!request.ok()) return ErrorAnswer(OcspResponseStatus::kMalformedRequest, request.status());
  if (request->cert_ids.size() > options_.max_cert_ids_per_request) {
    return ErrorAnswer(OcspResponseStatus::kMalformedRequest,
                       absl::InvalidArgumentError(absl::StrCat(
                           "requestList: ", request->cert_ids.size(), " CertIDs, at most ",
                           options_.max_cert_ids_per_request, " are answered")));
  }
  std::vector<std::shared_ptr<const OcspIssuer>> issuers;
  issuers.reserve(request->cert_ids.size());
  for (const CertId& cert_id : request->cert_ids) {
    auto issuer = FindIssuer(cert_id);
    if (!issuer) {
      return ErrorAnswer(OcspResponseStatus::kUnauthorized,
                         absl::NotFoundError(cert_id.hash == CertIdHash::kUnknown
                                                 ? "certID: hash algorithm not supported"
                                                 : "certID: issuer not served here"));
    }
    // One response has one signer, and a delegated signer speaks for its own CA only.
    if (!issuers.empty() && !issuer->SameCa(*issuers.front())) {
      return ErrorAnswer(OcspResponseStatus::kUnauthorized,
                         absl::InvalidArgumentError("requestList: CertIDs of different CAs"));
    }
    issuers.push_back(std::move(issuer));
  }
  const bool wants_fresh = request->nonce.has_value() || request->cert_ids.size() > 1;
  const bool over_budget = wants_fresh && !fresh_budget_.TryTake(now);
  if (wants_fresh && !over_budget) return AnswerFresh(*request, issuers, now);
  if (over_budget && request->cert_ids.size() > 1) {
    return RefusedOverBudget(
        "requestList: several CertIDs need a fresh signature, and the responder's budget for "
        "them is spent; retry, or ask one at a time");
  }
  // One CertID, without a nonce or with one over budget: the pre-signed answer.
  const bool nonce_ignored = over_budget;
  // An answer for a serial nobody issued is signed once and cached `unknown`: a client asking for
  // new random serials would otherwise make every request a signature, each pushing a useful
  // answer out of the cache. Those signatures come out of the budget too.
  if (fresh_budget_.limited() &&
      IsUnknownAndUncached(*issuers.front(), request->cert_ids.front()) &&
      !fresh_budget_.TryTake(now)) {
    return RefusedOverBudget(
        "certID: a serial this responder does not know and has not answered yet needs a fresh "
        "signature, and the budget for them is spent");
  }

  auto slot = cache_.GetOrCreate(request->cert_ids.front(), issuers.front());
  auto response = EnsureServable(*slot, now);
  if (!response.ok()) return ErrorAnswer(StatusForError(response.status()), response.status());
  // A nonce makes every request's bytes unique: remembering them would only evict others.
  if (nonce_ignored) {
    nonces_ignored_.fetch_add(1, std::memory_order_relaxed);
  } else {
    cache_.RememberRequest(request_der, std::move(slot));
  }
  OcspAnswer answer = SuccessfulAnswer(*std::move(response), true);
  answer.nonce_ignored = nonce_ignored;
  return answer;
}

OcspAnswer OcspResponder::RefusedOverBudget(std::string_view why) {
  fresh_refused_.fetch_add(1, std::memory_order_relaxed);
  OcspAnswer answer =
      ErrorAnswer(OcspResponseStatus::kTryLater, absl::ResourceExhaustedError(AsAbsl(why)));
  answer.refused_over_budget = true;
  return answer;
}

bool OcspResponder::IsUnknownAndUncached(const OcspIssuer& issuer, const CertId& cert_id) const {
  const absl::StatusOr<CertificateStatus> status = status_source_->Lookup(issuer, cert_id.serial);
  // A failed look-up is the signing path's to report.
  if (!status.ok() || status->kind != CertificateStatus::Kind::kUnknown) return false;
  for (const auto& slot : cache_.SlotsForSerial(cert_id.serial)) {
    if (slot->issuer->SameCa(issuer)) return false;
  }
  return true;
}

OcspAnswer OcspResponder::AnswerFresh(const OcspRequest& request,
                                      const std::vector<std::shared_ptr<const OcspIssuer>>& issuers,
                                      absl::Time now) {
  std::vector<std::string_view> cert_ids;
  std::vector<CertificateStatus> statuses;
  for (size_t i = 0; i < request.cert_ids.size(); ++i) {
    auto status = status_source_->Lookup(*issuers[i], request.cert_ids[i].serial);
    if (!status.ok()) return ErrorAnswer(StatusForError(status.status()), status.status());
    cert_ids.push_back(request.cert_ids[i].der);
    statuses.push_back(*status);
  }
  std::optional<std::string_view> nonce;
  if (request.nonce.has_value()) nonce = *request.nonce;
  auto response = Sign(*issuers.front(), cert_ids, statuses, now, nonce);
  if (!response.ok()) return ErrorAnswer(StatusForError(response.status()), response.status());
  return SuccessfulAnswer(*std::move(response), !nonce.has_value());
}

absl::StatusOr<std::shared_ptr<const SignedOcspResponse>> OcspResponder::EnsureServable(
    CacheSlot& slot, absl::Time now) {
  auto current = slot.response.load(std::memory_order_acquire);
  if (PresignedCache::Servable(current.get(), now)) return current;
  // First use or stale: one thread signs, the others wait for it and take its response.
  std::lock_guard lock(slot.sign_mutex);
  current = slot.response.load(std::memory_order_acquire);
  if (PresignedCache::Servable(current.get(), now)) return current;
  auto response = ResignLocked(slot, now);
  if (response.ok()) return response;
  // The database or HSM is away: an answer that has not reached its nextUpdate is still true
  // (a revocation would have replaced or dropped it), so keep serving it until then.
  if (current != nullptr && now < current->next_update) return current;
  // A slot that never got a response must not linger: it would count against the cap without
  // being evictable.
  if (current == nullptr) cache_.Retire(slot);
  return response;
}

absl::StatusOr<std::shared_ptr<const SignedOcspResponse>> OcspResponder::ResignLocked(
    CacheSlot& slot, absl::Time now) {
  // The current issuer object for this CA: after a signer rotation, the new signer signs.
  auto issuer = CurrentIssuer(*slot.issuer);
  if (!issuer) {
    cache_.Retire(slot);
    return absl::NotFoundError("certID: issuer no longer served");
  }
  auto status = status_source_->Lookup(*issuer, slot.serial);
  if (!status.ok()) return status.status();
  auto response = Sign(*issuer, {slot.cert_id_der}, {*status}, now, std::nullopt);
  if (!response.ok()) return response.status();
  cache_.Install(slot, *response);  // a slot retired meanwhile still answers this caller
  return response;
}

absl::StatusOr<std::shared_ptr<const SignedOcspResponse>> OcspResponder::Sign(
    const OcspIssuer& issuer, const std::vector<std::string_view>& cert_ids,
    const std::vector<CertificateStatus>& statuses, absl::Time now,
    std::optional<std::string_view> nonce) {
  auto signed_response = std::make_shared<SignedOcspResponse>();
  signed_response->produced_at = der::TruncateToSecond(now);
  signed_response->this_update = signed_response->produced_at - options_.backdate;
  signed_response->next_update = absl::InfiniteFuture();
  absl::Duration shortest_validity = absl::InfiniteDuration();
  std::vector<SingleResponseData> singles;
  singles.reserve(cert_ids.size());
  for (size_t i = 0; i < cert_ids.size(); ++i) {
    const absl::Duration validity = statuses[i].kind == CertificateStatus::Kind::kUnknown
                                        ? options_.unknown_validity
                                        : options_.validity;
    const absl::Time next_update =
        der::TruncateToSecond(signed_response->this_update + validity);
    singles.push_back({cert_ids[i], statuses[i], signed_response->this_update, next_update});
    signed_response->next_update = std::min(signed_response->next_update, next_update);
    shortest_validity = std::min(shortest_validity, validity);
  }
  auto der = SignOcspResponse(issuer, singles, signed_response->produced_at, nonce);
  if (!der.ok()) return der.status();
  signatures_.fetch_add(1, std::memory_order_relaxed);
  signed_response->der = *std::move(der);
  if (!nonce.has_value()) signed_response->etag = StrongEtag(signed_response->der);
  signed_response->kind = statuses.front().kind;
  const absl::Duration refresh_window = shortest_validity * options_.refresh_fraction;
  signed_response->refresh_at = signed_response->next_update - refresh_window;
  signed_response->serve_until = signed_response->next_update - refresh_window / 2;
  return std::shared_ptr<const SignedOcspResponse>(std::move(signed_response));
}

absl::Status OcspResponder::Invalidate(const OcspIssuer& issuer, std::string_view serial,
                                       absl::Time now) {
  const size_t first_significant = std::min(serial.find_first_not_of('\0'), serial.size());
  serial.remove_prefix(first_significant);
  absl::Status first_error;
  for (const auto& slot : cache_.SlotsForSerial(serial)) {
    if (!slot->issuer->SameCa(issuer)) continue;
    std::lock_guard lock(slot->sign_mutex);
    if (slot->retired.load(std::memory_order_acquire)) continue;
    auto response = ResignLocked(*slot, now);
    if (!response.ok()) {
      // Better no cached answer (the next request retries) than the old one.
      cache_.Retire(*slot);
      if (first_error.ok()) first_error = response.status();
    }
  }
  return first_error;
}

OcspRefreshResult OcspResponder::RefreshDue(absl::Time now) {
  OcspRefreshResult result;
  for (const auto& slot : cache_.DueSlots(now)) {
    std::lock_guard lock(slot->sign_mutex);
    if (slot->retired.load(std::memory_order_acquire)) continue;
    const auto current = slot->response.load(std::memory_order_acquire);
    if (current == nullptr || current->refresh_at > now) continue;  // refreshed meanwhile
    if (current->kind == CertificateStatus::Kind::kUnknown) {
      cache_.Retire(*slot);
      ++result.dropped;
      continue;
    }
    auto response = ResignLocked(*slot, now);
    if (response.ok()) {
      ++result.resigned;
    } else {
      ++result.failed;
      if (result.first_error.ok()) result.first_error = response.status();
    }
  }
  return result;
}

OcspResponderStats OcspResponder::stats() const {
  OcspResponderStats stats;
  stats.cached_responses = cache_.slot_count();
  stats.hot_requests = cache_.hot_count();
  stats.hot_hits = cache_.hot_hits();
  stats.signatures = signatures_.load(std::memory_order_relaxed);
  stats.nonces_ignored = nonces_ignored_.load(std::memory_order_relaxed);
  stats.fresh_refused = fresh_refused_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace keyline::ocsp
