#include "cli/ocsp_client.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ca/serial_number.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/openssl_error.h"

namespace keyline::cli {
namespace {

constexpr size_t kMaxResponseBytes = 1 << 20;
constexpr absl::Duration kClockSkew = absl::Minutes(5);
constexpr int kNonceBytes = 32;

// A string OpenSSL allocated (OSSL_HTTP_parse_url's parts).
struct OpenSslString {
  char* text = nullptr;
  OpenSslString() = default;
  OpenSslString(const OpenSslString&) = delete;
  OpenSslString& operator=(const OpenSslString&) = delete;
  ~OpenSslString() { OPENSSL_free(text); }
  std::string str() const { return text != nullptr ? text : ""; }
};

// OpenSSL's error queue with each entry's data ("Verify error: certificate has expired",
// "host=...:port") that DrainOpenSslErrors leaves out; the data is what an operator can act on.
absl::Status Failure(absl::StatusCode code, std::string_view context) {
  std::string text;
  const char* data = nullptr;
  int flags = 0;
  unsigned long error = 0;
  while ((error = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    const char* reason = ERR_reason_error_string(error);
    absl::StrAppend(&text, text.empty() ? "" : "; ",
                    reason != nullptr ? reason : absl::StrCat("error ", error));
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      absl::StrAppend(&text, " (", data, ")");
    }
  }
  return absl::Status(
      code, absl::StrCat(AsAbsl(context), ": ", text.empty() ? "no OpenSSL error recorded" : text));
}

std::optional<absl::Time> ToTime(const ASN1_GENERALIZEDTIME* time) {
  if (time == nullptr) return std::nullopt;
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return absl::FromTM(parts, absl::UTCTimeZone());
}

std::string SubjectText(const X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) < 0) {
    return "";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : "";
}

std::string Stamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

absl::Status CheckNonce(const PreparedOcspRequest& request, OCSP_BASICRESP* basic, bool* matched) {
  *matched = false;
  // 1: both carry the same nonce; 2: neither does; 3: only the response; -1: only the request;
  // 0: they differ.
  switch (OCSP_check_nonce(request.request.get(), basic)) {
    case 1:
      *matched = true;
      return absl::OkStatus();
    case 2:
    case 3:
      return absl::OkStatus();  // no nonce asked for: the caller accepts cached answers
    case -1:
      return absl::PermissionDeniedError(
          "response: no nonce, so it may be a replayed old answer (use --no-nonce to accept "
          "a responder's cached answers)");
    case 0:
      return absl::PermissionDeniedError(
          "response: its nonce differs from the request's (a replayed or misdirected answer)");
    default:
      return absl::InternalError("response: OCSP_check_nonce failed");
  }
}

absl::Status CheckSignature(OCSP_BASICRESP* basic, X509* issuer, absl::Time now) {
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), issuer) != 1) {
    return Failure(absl::StatusCode::kInternal, "trust store");
  }
  // The issuer is usually an intermediate CA: it is the anchor, the chain stops there.
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), absl::ToTimeT(now));
  // flags 0: signer found in the response, signature checked, chain to the issuer built and
  // the signer's authority checked (the issuer itself, or delegated with id-kp-OCSPSigning).
  if (OCSP_basic_verify(basic, nullptr, store.get(), 0) != 1) {
    return Failure(absl::StatusCode::kPermissionDenied,
                   "response: not signed by the issuer or a responder it authorized");
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view OcspCertificateStatusName(OcspCertificateStatus status) {
  switch (status) {
    case OcspCertificateStatus::kGood:
      return "good";
    case OcspCertificateStatus::kRevoked:
      return "revoked";
    case OcspCertificateStatus::kUnknown:
    default:
      return "unknown";
  }
}

absl::StatusOr<PreparedOcspRequest> BuildOcspRequest(const OcspRequestOptions& options,
                                                     X509* issuer) {
  if (options.serial.empty()) return absl::InvalidArgumentError("serial: empty");
  const Asn1IntegerPtr serial = ca::SerialToAsn1Integer(options.serial);
  if (!serial) return Failure(absl::StatusCode::kInternal, "serial");
  PreparedOcspRequest prepared;
  prepared.cert_id.reset(OCSP_cert_id_new(options.sha256_cert_id ? EVP_sha256() : EVP_sha1(),
                                          X509_get_subject_name(issuer),
                                          X509_get0_pubkey_bitstr(issuer), serial.get()));
  prepared.request.reset(OCSP_REQUEST_new());
  if (!prepared.cert_id || !prepared.request) {
    return Failure(absl::StatusCode::kInternal, "OCSP CertID");
  }
  // The request takes ownership of its copy; ours stays for matching the answer.
  OcspCertIdPtr in_request(OCSP_CERTID_dup(prepared.cert_id.get()));
  if (!in_request || OCSP_request_add0_id(prepared.request.get(), in_request.get()) == nullptr) {
    return Failure(absl::StatusCode::kInternal, "OCSP request");
  }
  (void)in_request.release();
  if (options.nonce && OCSP_request_add1_nonce(prepared.request.get(), nullptr, kNonceBytes) != 1) {
    return Failure(absl::StatusCode::kInternal, "OCSP nonce");
  }
  const int length = i2d_OCSP_REQUEST(prepared.request.get(), nullptr);
  if (length <= 0) return Failure(absl::StatusCode::kInternal, "OCSP request encoding");
  prepared.der.resize(static_cast<size_t>(length));
  auto* cursor = reinterpret_cast<unsigned char*>(prepared.der.data());
  if (i2d_OCSP_REQUEST(prepared.request.get(), &cursor) != length) {
    return Failure(absl::StatusCode::kInternal, "OCSP request encoding");
  }
  return prepared;
}

absl::StatusOr<std::string> PostOcspRequest(const std::string& url, std::string_view request_der,
                                            absl::Duration timeout) {
  // OSSL_HTTP_parse_url takes a URL without a scheme as http; insist on one, so a typo is not
  // taken for a host name.
  if (!absl::StartsWithIgnoreCase(url, "http://") && !absl::StartsWithIgnoreCase(url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "url: \"", url, "\" is not an http:// URL (e.g. http://pki.example:8080/ocsp)"));
  }
  int use_tls = 0;
  OpenSslString user, host, port, path, query, fragment;
  if (OSSL_HTTP_parse_url(url.c_str(), &use_tls, &user.text, &host.text, &port.text, nullptr,
                          &path.text, &query.text, &fragment.text) != 1) {
    return Failure(absl::StatusCode::kInvalidArgument, absl::StrCat("url: \"", url, "\""));
  }
  if (use_tls != 0) {
    return absl::InvalidArgumentError(
        "url: https is not supported; OCSP answers are signed and served over plain http "
        "(RFC 6960 A.1)");
  }
  if (host.str().empty()) return absl::InvalidArgumentError("url: no host");
  std::string target = path.str().empty() ? "/" : path.str();
  if (!query.str().empty()) absl::StrAppend(&target, "?", query.str());

  BioPtr body(BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size())));
  if (!body) return Failure(absl::StatusCode::kInternal, "request body");
  const int seconds = std::max(1, static_cast<int>(absl::ToInt64Seconds(timeout)));
  // One request, no keep-alive; nullptr proxy: OpenSSL reads http_proxy and no_proxy.
  BioPtr response(OSSL_HTTP_transfer(
      nullptr, host.text, port.text, target.c_str(), /*use_ssl=*/0, /*proxy=*/nullptr,
      /*no_proxy=*/nullptr, /*bio=*/nullptr, /*rbio=*/nullptr, /*bio_update_fn=*/nullptr,
      /*arg=*/nullptr, /*buf_size=*/0, /*headers=*/nullptr, "application/ocsp-request", body.get(),
      "application/ocsp-response", /*expect_asn1=*/1, kMaxResponseBytes, seconds,
      /*keep_alive=*/0));
  if (!response) {
    return Failure(absl::StatusCode::kUnavailable, absl::StrCat("POST ", url));
  }
  std::string der;
  char buffer[16 << 10];
  int read = 0;
  while ((read = BIO_read(response.get(), buffer, sizeof(buffer))) > 0) {
    der.append(buffer, static_cast<size_t>(read));
    if (der.size() > kMaxResponseBytes) {
      return absl::UnavailableError(absl::StrCat("POST ", url, ": response over 1 MiB"));
    }
  }
  return der;
}

absl::StatusOr<OcspVerdict> VerifyOcspResponse(std::string_view response_der,
                                               const PreparedOcspRequest& request, X509* issuer,
                                               absl::Time now) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(response_der.data());
  OcspResponsePtr response(
      d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(response_der.size())));
  if (!response ||
      cursor != reinterpret_cast<const unsigned char*>(response_der.data()) + response_der.size()) {
    DrainOpenSslErrors();
    return absl::InvalidArgumentError("response: not a DER OCSPResponse");
  }
  const int response_status = OCSP_response_status(response.get());
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return absl::FailedPreconditionError(
        absl::StrCat("responder answered ", OCSP_response_status_str(response_status),
                     response_status == OCSP_RESPONSE_STATUS_UNAUTHORIZED
                         ? " (it does not answer for this issuer)"
                         : ""));
  }
  OcspBasicResponsePtr basic(OCSP_response_get1_basic(response.get()));
  if (!basic) {
    return Failure(absl::StatusCode::kInvalidArgument, "response: not a BasicOCSPResponse");
  }

  // Nothing in the response means anything until its signature checks out.
  if (absl::Status signature = CheckSignature(basic.get(), issuer, now); !signature.ok()) {
    return signature;
  }
  OcspVerdict verdict;
  if (absl::Status nonce = CheckNonce(request, basic.get(), &verdict.nonce_matched); !nonce.ok()) {
    return nonce;
  }
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic.get(), &signer, nullptr) == 1 && signer != nullptr) {
    verdict.responder = SubjectText(signer);
  }

  int status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), request.cert_id.get(), &status, &reason, &revoked_at,
                            &this_update, &next_update) != 1) {
    return absl::NotFoundError("response: no answer for the certificate asked about");
  }
  const std::optional<absl::Time> this_time = ToTime(this_update);
  if (!this_time) return absl::InvalidArgumentError("response: unreadable thisUpdate");
  verdict.this_update = *this_time;
  verdict.next_update = ToTime(next_update);
  if (verdict.this_update > now + kClockSkew) {
    return absl::PermissionDeniedError(
        absl::StrCat("response: thisUpdate ", Stamp(verdict.this_update), " is in the future"));
  }
  if (verdict.next_update && *verdict.next_update < now - kClockSkew) {
    return absl::PermissionDeniedError(
        absl::StrCat("response: stale, nextUpdate ", Stamp(*verdict.next_update), " has passed"));
  }
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      verdict.status = OcspCertificateStatus::kGood;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      verdict.status = OcspCertificateStatus::kRevoked;
      verdict.revoked_at = ToTime(revoked_at);
      if (reason >= 0) verdict.reason = reason;
      break;
    default:
      verdict.status = OcspCertificateStatus::kUnknown;
      break;
  }
  return verdict;
}

}  // namespace keyline::cli
