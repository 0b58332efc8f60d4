#include "server/keyline_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls_policy.h"
#include "server/ca_rotation.h"
#include "server/credentials.h"
#include "server/hsm_setup.h"
#include "store/ca_repository.h"
#include "store/migrator.h"

namespace keyline::server {
namespace {

constexpr std::string_view kCaSyncTask = "ca.sync";

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const Config& config) {
  const CredentialFiles files = ServerTlsFiles(config);
  KEYLINE_ASSIGN_OR_RETURN(std::string key, ReadFile(files.key, 64 << 10));
  KEYLINE_ASSIGN_OR_RETURN(std::string chain, ReadFile(files.certificate, 1 << 20));
  KEYLINE_ASSIGN_OR_RETURN(std::string root, ReadFile(files.ca, 1 << 20));
  grpc::SslServerCredentialsOptions options(
      // Verify a client certificate when one is presented, but let calls without one through to
      // the handlers: they answer UNAUTHENTICATED with a message, which a failed handshake cannot.
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = std::move(root);
  options.pem_key_cert_pairs.push_back({std::move(key), std::move(chain)});
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeylineServer>> KeylineServer::Start(const Config& config) {
  KEYLINE_RETURN_IF_ERROR(RequireTls13ForThisProcess());
  std::unique_ptr<KeylineServer> server(new KeylineServer());
  server->config_ = config;
  KEYLINE_RETURN_IF_ERROR(server->Wire());
  return server;
}

absl::Status KeylineServer::Wire() {
  KEYLINE_RETURN_IF_ERROR(PrepareBundledSoftHsm(config_));
  KEYLINE_ASSIGN_OR_RETURN(token_, OpenToken(config_));
  KEYLINE_RETURN_IF_ERROR(store::CheckSchemaCurrent(config_.database.url));
  store::ConnectionPoolOptions pool_options;
  pool_options.database_url = config_.database.url;
  pool_options.size = config_.database.pool_size;
  KEYLINE_ASSIGN_OR_RETURN(pool_, store::ConnectionPool::Create(pool_options));
  ca_repository_ = std::make_unique<store::CaRepository>(*pool_);
  KEYLINE_ASSIGN_OR_RETURN(cas_, LoadCaSet(*token_, *ca_repository_));

  store::IssuanceWriterOptions writer_options;
  writer_options.database_url = config_.database.url;
  writer_options.group_commit_wait = config_.database.group_commit_wait;
  writer_options.group_commit_target = config_.database.group_commit_target;
  KEYLINE_ASSIGN_OR_RETURN(writer_, store::IssuanceWriter::Start(writer_options));
  KEYLINE_ASSIGN_OR_RETURN(challenge_batcher_,
                           store::ChallengeBatcher::Start({.database_url = config_.database.url}));
  certificates_ = std::make_unique<store::CertificateRepository>(*pool_);
  devices_ = std::make_unique<store::DeviceRepository>(*pool_);
  manufacturers_ = std::make_unique<store::ManufacturerRepository>(*pool_);
  enrollments_ = std::make_unique<store::EnrollmentRepository>(*pool_);
  revocations_ = std::make_unique<store::RevocationRepository>(*pool_);
  audit_log_ = std::make_unique<store::AuditLogReader>(*pool_);
  audit_checkpoints_ = std::make_unique<store::AuditCheckpointRepository>(*pool_);
  KEYLINE_ASSIGN_OR_RETURN(audit_signer_, LoadAuditSigner(*token_, *certificates_));
  audit_checkpointer_ = std::make_unique<AuditCheckpointer>(
      *audit_log_, *audit_checkpoints_, *audit_signer_.key, config_.audit.checkpoint_refresh);

  // Before gRPC serves: OCSP signers, status and first CRLs are ready when health says SERVING.
  KEYLINE_ASSIGN_OR_RETURN(status_,
                           StatusService::Start(config_, *token_, cas_, *pool_, *certificates_));
  // What this server issues is `good` at its OCSP responder once stored, not only once the
  // status feed reads it back (which takes milliseconds, long enough for a device that connects
  // right after enrolling to be refused on `unknown`).
  issuance_ = std::make_unique<provisioning::CertificateIssuance>(
      config_.profiles, *writer_, [this](const provisioning::IssuedCertificate& issued) {
        status_->RecordIssued(issued.issuer->id(), issued.serial);
      });
  std::vector<provisioning::DeploymentCa> deployment_cas;
  for (const auto& [deployment, deployment_ca] : cas_.deployments) {
    deployment_cas.push_back({deployment, deployment_ca->certificate()});
    ca_registry_.Add(deployment_ca.get(), deployment);
  }
  // Rotated-out CAs still identify their devices until those renew onto the new CA.
  for (const auto& [deployment, retired] : cas_.retired) {
    deployment_cas.push_back({deployment, retired->certificate()});
  }
  authenticator_ = std::make_unique<provisioning::CallerAuthenticator>(
      cas_.operator_ca->certificate(), deployment_cas);
  // A revoked operator certificate stops working within the status feed's second, on every
  // replica, even on a connection opened before the revocation.
  authenticator_->SetRevokedCheck(
      [this](std::string_view serial) { return status_->IsRevoked(serial); });
  // Threads that may wait on PostgreSQL: enough to keep the pool's connections busy.
  executor_ = std::make_unique<provisioning::BlockingExecutor>(
      std::max<size_t>(4, config_.database.pool_size));

  services_.profiles = &config_.profiles;
  services_.enrollment.challenge_lifetime = config_.enrollment.challenge_lifetime;
  services_.authenticator = authenticator_.get();
  services_.issuance = issuance_.get();
  services_.executor = executor_.get();
  // A few thousand: every manufacturer's anchor and intermediates, and the attestation chains
  // validated in full (those other than the registered one).
  certificate_cache_ = std::make_unique<ca::CertificateCache>(4096);
  services_.certificate_cache = certificate_cache_.get();
  // Tens of seconds of BeginEnrollments at thousands a second, at about 1 KiB each.
  begun_challenges_ = std::make_unique<provisioning::BegunChallenges>(16384);
  services_.begun_challenges = begun_challenges_.get();
  services_.challenge_batcher = challenge_batcher_.get();
  challenge_allowance_ =
      std::make_unique<provisioning::ChallengeAllowance>(provisioning::ChallengeAllowanceSettings{
          config_.enrollment.challenges_per_device, config_.enrollment.challenge_refill});
  services_.challenge_allowance = challenge_allowance_.get();
  KEYLINE_ASSIGN_OR_RETURN(
      http::Counter* const challenges_refused,
      status_->metrics().AddCounter(
          "keyline_enrollment_challenges_refused_total",
          "BeginEnrollment requests refused because the device had been handed "
          "enrollment.challenges_per_device challenges"));
  services_.on_challenge_refused = [challenges_refused] { challenges_refused->Increment(); };
  services_.operator_ca = cas_.operator_ca.get();
  for (const auto& [name, manufacturer_ca] : cas_.manufacturers) {
    services_.hosted_manufacturers[name] = manufacturer_ca.get();
  }
  for (const ca::IssuingCa* issuing_ca : cas_.All()) ca_registry_.Add(issuing_ca);
  services_.cas = &ca_registry_;
  services_.rotate_deployment_ca = [this](const std::string& deployment, const std::string& actor) {
    return RotateDeploymentCa(deployment, actor);
  };
  // Another replica rotated a deployment's CA: look for the new one now rather than at the next
  // resync, so that the refused request's retry gets it. At most twice a second.
  services_.on_issuer_retired = [this] {
    periodic_tasks_->RunSoon(kCaSyncTask, absl::Milliseconds(500));
  };
  services_.certificates = certificates_.get();
  services_.devices = devices_.get();
  services_.manufacturers = manufacturers_.get();
  services_.enrollments = enrollments_.get();
  services_.revocations = revocations_.get();
  services_.audit_log = audit_log_.get();
  services_.audit_checkpoints = audit_checkpoints_.get();
  services_.audit_certificate_der = audit_signer_.certificate_der;
  admin_service_ = std::make_unique<provisioning::AdminServiceImpl>(services_);
  factory_service_ = std::make_unique<provisioning::FactoryServiceImpl>(services_);
  enrollment_service_ = std::make_unique<provisioning::EnrollmentServiceImpl>(services_);

  KEYLINE_ASSIGN_OR_RETURN(auto credentials, ServerCredentials(config_));
  // Before the first RPC: a refused enrollment may ask for the CA sync (on_issuer_retired).
  periodic_tasks_ = std::make_unique<PeriodicTasks>(std::vector<PeriodicTasks::Task>{
      {"status.tick", config_.status.crl_delta_interval,
       [this] { return status_->Tick(absl::Now()); }},
      {std::string(kCaSyncTask), config_.status.resync_interval,
       [this] { return SyncDeploymentCas(); }},
      {"audit.checkpoint", config_.audit.checkpoint_interval,
       [this] { return audit_checkpointer_->CheckpointNow(absl::Now()).status(); }},
      {"challenges.expire", absl::Minutes(1),
       [this] {
         // Kept an hour past expiry, so a late CompleteEnrollment still gets "expired".
         return enrollments_->DeleteExpiredChallenges(absl::Now() - absl::Hours(1)).status();
       }},
  });
  // This replica publishes the CRLs and another rotated a deployment's CA: take the new CA into
  // service now, so that its CRLs are published, at most twice a second.
  status_->SetOnUnknownIssuer(
      [this] { periodic_tasks_->RunSoon(kCaSyncTask, absl::Milliseconds(500)); });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second server on the same port would start and
  // silently take half the connections; a port in use must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(GrpcConfig::kMaxMessageMegabytes << 20);
  grpc::ResourceQuota quota("keyline-grpc");
  quota.Resize(static_cast<size_t>(config_.grpc.memory_limit_megabytes) << 20);
  builder.SetResourceQuota(quota);
  builder.AddListeningPort(config_.grpc.listen, credentials, &grpc_port_);
  builder.RegisterService(admin_service_.get());
  builder.RegisterService(factory_service_.get());
  builder.RegisterService(enrollment_service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (!grpc_server_ || grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("grpc.listen: cannot listen on ", config_.grpc.listen));
  }

  LogEvent(spdlog::level::info, "server.started",
           {{"grpc_listen", config_.grpc.listen}, {"grpc_port", grpc_port_},
            {"status_port", status_->port()},
            {"deployments", cas_.deployments.size()}});
  return absl::OkStatus();
}

absl::StatusOr<provisioning::CaRotation> KeylineServer::RotateDeploymentCa(
    const std::string& deployment, const std::string& actor) {
  KEYLINE_ASSIGN_OR_RETURN(
      RotatedCa rotated,
      server::RotateDeploymentCa(config_, *token_, *cas_.root, *ca_repository_, deployment, actor));
  if (absl::Status synced = SyncDeploymentCas(); !synced.ok()) {
    // An operator who reads only "failed" would rotate again and retire a CA that never issued.
    return absl::Status(
        synced.code(),
        absl::StrCat("the rotation is committed (", rotated.active.name, " is active, ",
                     rotated.retired.name,
                     " retired): do not rotate again. This server has not "
                     "taken the new CA into service yet and retries at every status resync: ",
                     synced.message()));
  }
  return provisioning::CaRotation{std::move(rotated.active), std::move(rotated.retired)};
}

absl::Status KeylineServer::SyncDeploymentCas() {
  std::lock_guard lock(adopt_mutex_);
  KEYLINE_ASSIGN_OR_RETURN(const std::vector<store::CaRecord> records, ca_repository_->List());
  std::map<int32_t, store::CaRecord> by_id;
  for (const store::CaRecord& record : records) by_id.emplace(record.id, record);
  const absl::Time now = absl::Now();
  for (const store::CaRecord& record : records) {
    // The same rule as at start-up: an expired retired CA is not adopted either.
    if (record.kind != "deployment" || !record.deployment || !IsLoadedCa(record, now)) continue;
    const bool active = record.status == "active";
    const ca::IssuingCa* known = ca_registry_.ById(record.id);
    if (known == nullptr) {
      // Loaded once and kept for the server's life from here on: if a step below fails, what
      // the steps before it gave the CA to still points at it, and the next sync retries with it.
      ca::IssuingCa* loaded = AdoptedCa(record.id);
      if (loaded == nullptr) {
        KEYLINE_ASSIGN_OR_RETURN(std::unique_ptr<ca::IssuingCa> fresh,
                                 LoadCa(*token_, record, by_id));
        loaded = fresh.get();
        adopted_cas_.push_back(std::move(fresh));
      }
      // Status first, so the first certificate the new CA signs already has OCSP here, and a
      // CRL when this replica publishes them (else within a second of the publisher seeing the
      // new CA's first certificate, StatusService::SetOnUnknownIssuer).
      KEYLINE_RETURN_IF_ERROR(status_->AddCa(*loaded));
      authenticator_->AddDeploymentCa({*record.deployment, loaded->certificate()});
      known = loaded;
      ca_registry_.Add(known);
      LogEvent(spdlog::level::info, "ca.adopted", {{"ca", record.name}, {"status", record.status}});
    }
    if (active && ca_registry_.CurrentFor(*record.deployment) != known) {
      ca_registry_.Add(known, *record.deployment);
      LogEvent(spdlog::level::info, "ca.current",
               {{"deployment", *record.deployment}, {"ca", record.name}});
    }
  }
  return absl::OkStatus();
}

ca::IssuingCa* KeylineServer::AdoptedCa(int32_t id) const {
  for (const std::unique_ptr<ca::IssuingCa>& adopted : adopted_cas_) {
    if (adopted->id() == id) return adopted.get();
  }
  return nullptr;
}

void KeylineServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  const bool was_serving = grpc_server_ != nullptr && grpc_port_ != 0;
  if (periodic_tasks_) periodic_tasks_->Stop();
  // At once, not after the grace period below: another replica takes the CRL lease over at its
  // next round.
  if (status_) status_->StopPublishingCrls();
  if (grpc_server_) grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  // Before the executor: the batcher's callbacks may hand work to it.
  challenge_batcher_.reset();  // answers what is queued
  executor_.reset();           // finishes queued work
  writer_.reset();             // commits what is queued, telling status_ of what it stored
  status_.reset();
  if (was_serving) LogEvent(spdlog::level::info, "server.stopped");
}

void KeylineServer::Wait() {
  if (grpc_server_) grpc_server_->Wait();
}

KeylineServer::~KeylineServer() { Shutdown(); }

}  // namespace keyline::server
