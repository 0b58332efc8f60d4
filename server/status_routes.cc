#include "server/status_routes.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "ocsp/http_path.h"

namespace keyline::server {
namespace {

using http::HttpHeaders;
using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;

constexpr std::string_view kOcspResponseType = "application/ocsp-response";
constexpr std::string_view kCrlType = "application/pkix-crl";

std::string HttpDate(absl::Time time) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", time, absl::UTCTimeZone());
}

// `fresh_until`: Expires, and the end of max-age.
std::shared_ptr<const HttpHeaders> CachingHeaders(absl::Time now, absl::Time this_update,
                                                  absl::Time fresh_until, std::string etag) {
  const int64_t max_age = std::max<int64_t>(0, absl::ToInt64Seconds(fresh_until - now));
  std::vector<http::HttpHeader> fields;
  fields.push_back({"Cache-Control", absl::StrCat("max-age=", max_age,
                                                  ", public, no-transform, must-revalidate")});
  fields.push_back({"Last-Modified", HttpDate(this_update)});
  fields.push_back({"Expires", HttpDate(fresh_until)});
  if (!etag.empty()) fields.push_back({"ETag", std::move(etag)});
  // Every field is built here from times and a quoted tag: Make cannot refuse them.
  absl::StatusOr<std::shared_ptr<const HttpHeaders>> headers = HttpHeaders::Make(std::move(fields));
  return headers.ok() ? *std::move(headers) : nullptr;
}

// Headers of a cached OCSP answer change only with max-age, once a second: each loop thread
// keeps the ones it built for the current second, so the hot path allocates nothing.
std::shared_ptr<const HttpHeaders> OcspHeaders(const ocsp::OcspAnswer& answer, absl::Time now) {
  struct Cached {
    std::shared_ptr<const std::string> body;  // keeps the key's address from being reused
    std::shared_ptr<const HttpHeaders> headers;
  };
  thread_local absl::flat_hash_map<const std::string*, Cached> cache;
  thread_local int64_t cache_second = 0;
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != cache_second || cache.size() > 50'000) {
    cache.clear();
    cache_second = second;
  }
  auto [it, inserted] = cache.try_emplace(answer.body.get());
  if (inserted) {
    it->second.body = answer.body;
    it->second.headers = CachingHeaders(absl::FromUnixSeconds(second), answer.this_update,
                                        answer.next_update, std::string(answer.etag));
  }
  return it->second.headers;
}

// For what no cache may keep.
std::shared_ptr<const HttpHeaders> NoStore() {
  static const std::shared_ptr<const HttpHeaders>* const headers = [] {
    absl::StatusOr<std::shared_ptr<const HttpHeaders>> made =
        HttpHeaders::Make({{"Cache-Control", "no-store"}});
    return new std::shared_ptr<const HttpHeaders>(made.ok() ? *std::move(made) : nullptr);
  }();
  return *headers;
}

HttpResponse Uncached(HttpResponse response) {
  response.headers = NoStore();
  return response;
}

HttpResponse FromAnswer(const ocsp::OcspAnswer& answer, absl::Time now) {
  HttpResponse response;
  response.content_type = kOcspResponseType;
  response.body = answer.body;
  response.headers = answer.cacheable ? OcspHeaders(answer, now) : NoStore();
  // Last-Modified is thisUpdate (RFC 5019), backdated a minute and in whole seconds: an answer
  // re-signed `revoked` can carry the date of the `good` one a client holds, or an earlier one,
  // so If-Modified-Since would keep `good` alive. The ETag, unique per signature, validates.
  response.last_modified_validates = false;
  return response;
}

// Requests that asked for a fresh signature when the responder's budget was spent (null without
// a metrics registry).
struct OverBudgetCounters {
  http::Counter* nonce_ignored = nullptr;
  http::Counter* try_later = nullptr;
};

absl::StatusOr<OverBudgetCounters> RegisterOverBudgetCounters(http::MetricsRegistry* metrics) {
  OverBudgetCounters counters;
  if (metrics == nullptr) return counters;
  constexpr std::string_view kName = "keyline_ocsp_fresh_signature_budget_spent_total";
  constexpr std::string_view kHelp =
      "OCSP requests that needed a fresh signature over status.ocsp_fresh_signatures_per_second";
  KEYLINE_ASSIGN_OR_RETURN(counters.nonce_ignored,
                           metrics->AddCounter(kName, kHelp, {{"answer", "nonce_ignored"}}));
  KEYLINE_ASSIGN_OR_RETURN(counters.try_later,
                           metrics->AddCounter(kName, kHelp, {{"answer", "try_later"}}));
  return counters;
}

HttpResponse AnswerOcsp(ocsp::OcspResponder& responder, std::string_view request_der,
                        const OverBudgetCounters& over_budget) {
  const absl::Time now = absl::Now();
  const ocsp::OcspAnswer answer = responder.Answer(request_der, now);
  if (over_budget.nonce_ignored != nullptr) {
    if (answer.nonce_ignored) over_budget.nonce_ignored->Increment();
    if (answer.refused_over_budget) over_budget.try_later->Increment();
  }
  return FromAnswer(answer, now);
}

HttpResponse ServeCrl(const StatusRoutesContext& context, const HttpRequest& request) {
  const ca::BuiltCrl crl = context.crls->Find(request.path_suffix);
  if (crl.der == nullptr) return HttpResponse::Text(404, "no such CRL\n");
  HttpResponse response;
  response.content_type = kCrlType;
  response.body = crl.der;
  const absl::Time now = absl::Now();
  const absl::Duration replaced_within =
      crl.base_crl_number ? context.crl_delta_interval : context.crl_full_interval;
  response.headers =
      CachingHeaders(now, crl.this_update, std::min(crl.next_update, now + replaced_within),
                     absl::StrCat("\"crl-", crl.crl_number, "\""));
  return response;
}

}  // namespace

absl::StatusOr<http::Router> BuildStatusRoutes(const StatusRoutesContext& context) {
  http::Router router;
  ocsp::OcspResponder* responder = context.responder;
  KEYLINE_ASSIGN_OR_RETURN(const OverBudgetCounters over_budget,
                           RegisterOverBudgetCounters(context.metrics));
  const http::HttpHandler post = [responder, over_budget](const HttpRequest& request) {
    return AnswerOcsp(*responder, request.body, over_budget);
  };
  KEYLINE_RETURN_IF_ERROR(router.Handle(HttpMethod::kPost, "/ocsp", post));
  // Some clients post to the base URL with a trailing slash.
  KEYLINE_RETURN_IF_ERROR(router.Handle(HttpMethod::kPost, "/ocsp/", post));
  KEYLINE_RETURN_IF_ERROR(router.HandlePrefix(
      HttpMethod::kGet, "/ocsp/", [responder, over_budget](const HttpRequest& request) {
        const absl::StatusOr<std::string> der = ocsp::DecodeOcspGetPath(request.path_suffix);
        // Undecodable: the responder answers malformedRequest for the empty request.
        return AnswerOcsp(*responder, der.ok() ? std::string_view(*der) : std::string_view(),
                          over_budget);
      }));
  KEYLINE_RETURN_IF_ERROR(router.HandlePrefix(
      HttpMethod::kGet, "/crl/",
      [context](const HttpRequest& request) { return ServeCrl(context, request); }));
  KEYLINE_RETURN_IF_ERROR(router.Handle(HttpMethod::kGet, "/healthz", [](const HttpRequest&) {
    return Uncached(HttpResponse::Text(200, "ok\n"));
  }));
  std::function<bool()> ready = context.ready;
  KEYLINE_RETURN_IF_ERROR(router.Handle(HttpMethod::kGet, "/readyz", [ready](const HttpRequest&) {
    return Uncached(ready && ready() ? HttpResponse::Text(200, "ready\n")
                                     : HttpResponse::Text(503, "not ready\n"));
  }));
  if (context.metrics != nullptr) {
    KEYLINE_RETURN_IF_ERROR(router.Handle(
        HttpMethod::kGet, "/metrics",
        [metrics = http::MetricsHandler(context.metrics)](const HttpRequest& request) {
          return Uncached(metrics(request));
        }));
  }
  return router;
}

}  // namespace keyline::server
