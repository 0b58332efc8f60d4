// Certificate status for relying parties, assembled: the status index and its sync with
// PostgreSQL, a delegated OCSP signer per CA, the OCSP responder with its pre-signed cache, the
// CRL publisher, and the HTTP listener that serves them (server/status_routes.h).
//
// Start reads every certificate's status, makes or loads the OCSP signers, publishes the first
// CRLs and starts listening, so a started server answers from complete data. Tick (a periodic
// task, every crl_delta_interval) publishes CRLs that are due, refreshes OCSP responses before
// they go stale and renews OCSP signers that near expiry.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>

#include "absl/status/statusor.h"
#include "http/http_server.h"
#include "http/metrics.h"
#include "ocsp/ocsp_responder.h"
#include "server/ca_hierarchy.h"
#include "server/certificate_status_index.h"
#include "server/config.h"
#include "server/crl_publisher.h"
#include "server/ocsp_signers.h"
#include "server/status_sync.h"
#include "store/certificate_repository.h"
#include "store/connection_pool.h"
#include "store/crl_number_repository.h"
#include "store/published_crl_repository.h"

namespace keyline::server {

class StatusService {
 public:
  // Everything passed must outlive the service.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StatusService>> Start(
      const Config& config, hsm::Token& token, const CaSet& cas, store::ConnectionPool& pool,
      store::CertificateRepository& certificates);
  ~StatusService();

  absl::Status Tick(absl::Time now);

  // Called on the status feed's thread, while this replica holds the CRL lease, when a
  // certificate issued by a CA it does not run yet appears: another replica rotated a
  // deployment's CA (and issued its OCSP signer). Without it, the new CA's CRLs would be
  // published nowhere until this replica's next CA sync. Set once, after Start.
  void SetOnUnknownIssuer(std::function<void()> callback);

  // Stops publishing CRLs and gives the lease up, so that another replica takes it over at its
  // next round rather than when it runs out (the first step of a shutdown).
  void StopPublishingCrls() { crls_->Release(); }

  // Answers OCSP and publishes CRLs for `ca` too from now on (a rotated-in deployment CA): its
  // OCSP signer, its CRL builder seeded with any revocation of its certificates already stored,
  // and its first CRLs (signed here when this replica holds the CRL lease; else the holder's, once
  // it has the CA: see SetOnUnknownIssuer). `ca` must outlive the service even when this fails: the
  // steps before the failing one keep it. Calling again with the same `ca` (a retry) repeats only
  // what is left.
  absl::Status AddCa(const ca::IssuingCa& ca);

  // A certificate this server just stored (committed): answered `good` from now on, without
  // waiting for the status feed to read it back. A cached `unknown` for it is dropped. Any
  // thread; a revocation already known for the serial stays.
  void RecordIssued(int32_t issuer_id, std::string_view serial);
  // Whether the certificate with this serial is known to be revoked (any thread).
  bool IsRevoked(std::string_view serial) const { return index_->IsRevoked(serial); }

  uint16_t port() const { return http_->port(); }
  // What /metrics serves; others may register metrics of their own (thread-safe).
  http::MetricsRegistry& metrics() { return metrics_; }

 private:
  StatusService(const Config& config, hsm::Token& token, store::ConnectionPool& pool,
                store::CertificateRepository& certificates)
      : config_(config),
        token_(token),
        pool_(pool),
        certificates_(certificates),
        numbers_(pool),
        published_crls_(pool) {}
  absl::Status InstallSigner(const ca::IssuingCa& ca);
  std::shared_ptr<const ocsp::OcspIssuer> IssuerFor(int32_t ca_id) const;
  // The CA certificates Keyline issued (every CA's but the root's) live in certificate_authorities,
  // not in the certificates table the status feed reads: this makes the issuing CA's responder
  // answer `good` for them, as relying parties that check a whole chain by OCSP ask (nginx's
  // ssl_ocsp on). Keyline has no revocation of a CA certificate, so `good` is all it can be.
  void RecordCaCertificate(const ca::IssuingCa& issuing_ca);
  void OnChange(const store::CertificateStatusRow& row, CertificateStatusIndex::Change change,
                bool initial);

  const Config& config_;
  hsm::Token& token_;
  store::ConnectionPool& pool_;
  store::CertificateRepository& certificates_;
  store::CrlNumberRepository numbers_;
  store::PublishedCrlRepository published_crls_;
  std::vector<const ca::IssuingCa*> CasNow() const;

  mutable std::mutex cas_mutex_;
  std::vector<const ca::IssuingCa*> cas_;  // guarded by cas_mutex_
  std::shared_ptr<CertificateStatusIndex> index_;
  std::unique_ptr<ocsp::OcspResponder> responder_;
  mutable std::mutex signers_mutex_;
  std::map<int32_t, OcspSigner> signers_;  // by CA id; guarded by signers_mutex_
  std::unique_ptr<CrlPublisher> crls_;
  std::unique_ptr<StatusSync> sync_;
  std::mutex on_unknown_issuer_mutex_;
  std::function<void()> on_unknown_issuer_;  // guarded by on_unknown_issuer_mutex_
  http::MetricsRegistry metrics_;
  std::unique_ptr<http::HttpServer> http_;
  absl::Time next_ocsp_refresh_;
};

}  // namespace keyline::server
