#include "server/status_service.h"

#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/serial_number.h"
#include "common/absl_compat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "server/status_routes.h"

namespace keyline::server {
namespace {

// "127.0.0.1:8080" or "[::1]:8080".
absl::Status ParseListen(const std::string& listen, http::HttpServerOptions* options) {
  const size_t colon = listen.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("status.listen: \"", listen, "\" is not address:port"));
  }
  std::string address = listen.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  options->bind_address = address;
  options->port = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

// This process, in the CRL publisher lease: unique among replicas and across restarts.
std::string CrlPublisherHolder() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  unsigned char nonce[8];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) std::fill(std::begin(nonce), std::end(nonce), 0);
  return absl::StrCat(std::string(host).substr(0, 100), "/", getpid(), "/",
                      absl::BytesToHexString(
                          absl::string_view(reinterpret_cast<const char*>(nonce), sizeof(nonce))));
}

// Renewed every round (crl_delta_interval) and as a round goes on: three rounds may fail or run
// late before another replica takes over, and never less than fifteen seconds, which a term's
// first round (reading every revocation, a full CRL for each CA) must fit in.
absl::Duration CrlPublisherLeaseTerm(absl::Duration round) {
  return std::max(3 * round, absl::Seconds(15));
}

}  // namespace

absl::StatusOr<std::unique_ptr<StatusService>> StatusService::Start(
    const Config& config, hsm::Token& token, const CaSet& cas, store::ConnectionPool& pool,
    store::CertificateRepository& certificates) {
  std::unique_ptr<StatusService> service(new StatusService(config, token, pool, certificates));
  service->cas_ = cas.All();
  service->index_ = std::make_shared<CertificateStatusIndex>();

  ocsp::OcspResponderOptions responder_options;
  responder_options.validity = config.status.ocsp_validity;
  responder_options.max_cached_responses = config.status.ocsp_cache_responses;
  responder_options.max_hot_requests = config.status.ocsp_cache_responses;
  responder_options.fresh_signatures_per_second = config.status.ocsp_fresh_signatures_per_second;
  KEYLINE_ASSIGN_OR_RETURN(service->responder_,
                           ocsp::OcspResponder::New(responder_options, service->index_));
  for (const ca::IssuingCa* issuing_ca : service->cas_) {
    KEYLINE_RETURN_IF_ERROR(service->InstallSigner(*issuing_ca));
  }
  StatusService* raw = service.get();
  // A replica that takes the CRL lease over reads every revocation again (crl_publisher.h).
  CrlPublisher::CatchUp catch_up = [raw]() -> absl::Status {
    return store::ReadRevokedStatuses(
               raw->pool_, [raw](const store::CertificateStatusRow& row) { raw->crls_->Add(row); })
        .status();
  };
  KEYLINE_ASSIGN_OR_RETURN(
      service->crls_,
      CrlPublisher::Create(config.profiles, service->cas_, service->numbers_,
                           service->published_crls_, CrlPublisherHolder(), std::move(catch_up),
                           {config.status.crl_validity, config.status.crl_full_interval,
                            CrlPublisherLeaseTerm(config.status.crl_delta_interval)}));
  KEYLINE_ASSIGN_OR_RETURN(
      service->sync_,
      StatusSync::Start(
          pool, *service->index_,
          [raw](const store::CertificateStatusRow& row, CertificateStatusIndex::Change change,
                bool initial) { raw->OnChange(row, change, initial); },
          config.status.resync_interval));
  for (const ca::IssuingCa* issuing_ca : service->cas_) service->RecordCaCertificate(*issuing_ca);
  KEYLINE_RETURN_IF_ERROR(service->crls_->PublishDue(absl::Now()));
  service->next_ocsp_refresh_ = absl::Now() + config.status.ocsp_validity / 10;

  http::HttpServerOptions options;
  KEYLINE_RETURN_IF_ERROR(ParseListen(config.status.listen, &options));
  options.threads = static_cast<int>(config.status.threads);
  options.metrics = &service->metrics_;
  KEYLINE_ASSIGN_OR_RETURN(
      options.router,
      BuildStatusRoutes({service->responder_.get(), service->crls_.get(), &service->metrics_,
                         [raw] { return raw->sync_->InStep(absl::Now()); },
                         config.status.crl_full_interval, config.status.crl_delta_interval}));
  KEYLINE_ASSIGN_OR_RETURN(service->http_, http::HttpServer::New(std::move(options)));
  KEYLINE_RETURN_IF_ERROR(service->http_->Start());
  LogEvent(spdlog::level::info, "status.started",
           {{"listen", config.status.listen}, {"port", service->http_->port()},
            {"certificates", service->index_->size()}});
  return service;
}

StatusService::~StatusService() {
  if (http_) http_->Stop();
  sync_.reset();  // no more changes reach the responder or the CRLs
  if (crls_) crls_->Release();
}

absl::Status StatusService::InstallSigner(const ca::IssuingCa& ca) {
  KEYLINE_ASSIGN_OR_RETURN(OcspSigner signer,
                           EnsureOcspSigner(config_.profiles, token_, ca, certificates_,
                                            config_.status.ocsp_signer_renewal));
  index_->RegisterIssuer(signer.issuer.get(), ca.id());
  responder_->AddIssuer(signer.issuer);
  std::lock_guard lock(signers_mutex_);
  signers_[ca.id()] = std::move(signer);
  return absl::OkStatus();
}

void StatusService::RecordCaCertificate(const ca::IssuingCa& issuing_ca) {
  X509* certificate = const_cast<X509*>(issuing_ca.certificate());
  for (const ca::IssuingCa* parent : CasNow()) {
    if (parent == &issuing_ca ||
        X509_check_issued(const_cast<X509*>(parent->certificate()), certificate) != X509_V_OK) {
      continue;
    }
    RecordIssued(parent->id(), ca::SerialOf(certificate));
    return;
  }
}

absl::Status StatusService::AddCa(const ca::IssuingCa& issuing_ca) {
  bool has_signer = false;
  {
    std::lock_guard lock(signers_mutex_);
    has_signer = signers_.contains(issuing_ca.id());
  }
  if (!has_signer) KEYLINE_RETURN_IF_ERROR(InstallSigner(issuing_ca));
  KEYLINE_RETURN_IF_ERROR(crls_->AddCa(issuing_ca));
  {
    std::lock_guard lock(cas_mutex_);
    if (std::find(cas_.begin(), cas_.end(), &issuing_ca) == cas_.end()) {
      cas_.push_back(&issuing_ca);
    }
  }
  RecordCaCertificate(issuing_ca);
  // Rows the sync thread delivered before the publisher knew this CA (another replica may have
  // rotated, enrolled and revoked before this one noticed): nothing it issued predates its
  // certificate. Entries added twice are kept once.
  KEYLINE_RETURN_IF_ERROR(store::ReadChangedStatuses(pool_,
                                                     ca::NotBeforeOf(issuing_ca.certificate()),
                                                     [&](const store::CertificateStatusRow& row) {
                                                       if (row.issuer_id == issuing_ca.id())
                                                         crls_->Add(row);
                                                     })
                              .status());
  return crls_->PublishDue(absl::Now());
}

std::vector<const ca::IssuingCa*> StatusService::CasNow() const {
  std::lock_guard lock(cas_mutex_);
  return cas_;
}

std::shared_ptr<const ocsp::OcspIssuer> StatusService::IssuerFor(int32_t ca_id) const {
  std::lock_guard lock(signers_mutex_);
  const auto it = signers_.find(ca_id);
  return it == signers_.end() ? nullptr : it->second.issuer;
}

void StatusService::RecordIssued(int32_t issuer_id, std::string_view serial) {
  store::CertificateStatusRow row;
  row.issuer_id = issuer_id;
  row.serial = std::string(serial);
  // kNone when the status feed got there first.
  if (index_->Apply(row) == CertificateStatusIndex::Change::kIssued) {
    OnChange(row, CertificateStatusIndex::Change::kIssued, false);
  }
}

void StatusService::SetOnUnknownIssuer(std::function<void()> callback) {
  std::lock_guard lock(on_unknown_issuer_mutex_);
  on_unknown_issuer_ = std::move(callback);
}

void StatusService::OnChange(const store::CertificateStatusRow& row,
                             CertificateStatusIndex::Change change, bool initial) {
  if (change == CertificateStatusIndex::Change::kRevoked) crls_->Add(row);
  if (initial) return;  // nothing is cached yet
  std::shared_ptr<const ocsp::OcspIssuer> issuer = IssuerFor(row.issuer_id);
  if (issuer == nullptr) {
    // Only the CRL publisher needs the CA at once: nobody else publishes its CRLs. Other replicas
    // take it when a request meets the retired CA, or at their resync.
    std::lock_guard lock(on_unknown_issuer_mutex_);
    if (on_unknown_issuer_ && crls_->publishing()) on_unknown_issuer_();
    return;
  }
  // A revocation re-signs the cached answer at once; an issuance drops a cached `unknown`.
  const absl::Status status = responder_->Invalidate(*issuer, row.serial, absl::Now());
  if (!status.ok()) {
    LogEvent(spdlog::level::warn, "ocsp.invalidate.failed",
             {{"error", std::string(status.message())}});
  }
}

absl::Status StatusService::Tick(absl::Time now) {
  absl::Status first = crls_->PublishDue(now);
  if (now >= next_ocsp_refresh_) {
    next_ocsp_refresh_ = now + config_.status.ocsp_validity / 10;
    for (const ca::IssuingCa* issuing_ca : CasNow()) {
      bool renew = false;
      {
        std::lock_guard lock(signers_mutex_);
        const auto it = signers_.find(issuing_ca->id());
        renew = it == signers_.end() ||
                it->second.not_after - now <= config_.status.ocsp_signer_renewal;
      }
      if (renew) {
        absl::Status status = InstallSigner(*issuing_ca);
        if (first.ok()) first = status;
      }
    }
    const ocsp::OcspRefreshResult refreshed = responder_->RefreshDue(now);
    if (first.ok()) first = refreshed.first_error;
  }
  return first;
}

}  // namespace keyline::server
