// The running service: HSM token, database, CAs, group-commit writer, the gRPC services with
// TLS 1.3 and client certificates, and the periodic upkeep (audit checkpoints, expired
// challenges). `keyline-server serve` runs one; integration tests run one in-process when they
// need to reach behind it (the HSM session pool, for instance).
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/certificate_cache.h"
#include "hsm/token.h"
#include "provisioning/admin_service.h"
#include "provisioning/enrollment_service.h"
#include "provisioning/factory_service.h"
#include "provisioning/service_context.h"
#include "server/audit_checkpointer.h"
#include "server/audit_signer.h"
#include "server/ca_hierarchy.h"
#include "server/config.h"
#include "server/periodic_tasks.h"
#include "server/status_service.h"
#include "store/challenge_batcher.h"
#include "store/connection_pool.h"
#include "store/issuance_writer.h"

namespace keyline::server {

class KeylineServer {
 public:
  // Opens everything and starts listening. FailedPrecondition when init has not run or the
  // database schema is not current; Unavailable when the database or HSM cannot be reached.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KeylineServer>> Start(const Config& config);

  // Stops accepting calls, lets running calls finish (up to `grace`), drains the writer.
  void Shutdown(absl::Duration grace = absl::Seconds(10));
  ~KeylineServer();

  int grpc_port() const { return grpc_port_; }
  // The status (OCSP, CRL, health) HTTP port.
  int status_port() const { return status_ ? status_->port() : 0; }
  hsm::Token& token() { return *token_; }
  const CaSet& cas() const { return cas_; }
  AuditCheckpointer& audit_checkpointer() { return *audit_checkpointer_; }

  // Blocks until Shutdown is called from another thread.
  void Wait();

 private:
  KeylineServer() = default;
  absl::Status Wire();
  // AdminService.RotateDeploymentCa's work: rotate in the database, then adopt the new CA.
  absl::StatusOr<provisioning::CaRotation> RotateDeploymentCa(const std::string& deployment,
                                                              const std::string& actor);
  // Adopts deployment CAs the database has and this server has not loaded (a rotation here or
  // on another replica), and makes each deployment's active CA its current one.
  absl::Status SyncDeploymentCas();
  // The rotated-in CA with this id that SyncDeploymentCas loaded, adopted or not; null if none.
  ca::IssuingCa* AdoptedCa(int32_t id) const;

  Config config_;
  std::unique_ptr<hsm::Token> token_;
  std::unique_ptr<store::ConnectionPool> pool_;
  CaSet cas_;
  std::unique_ptr<store::CaRepository> ca_repository_;
  provisioning::CaRegistry ca_registry_;
  std::mutex adopt_mutex_;                                   // one rotation or sync at a time
  // Rotated in while running, once loaded (adopted or not yet: see SyncDeploymentCas).
  std::vector<std::unique_ptr<ca::IssuingCa>> adopted_cas_;
  std::unique_ptr<store::IssuanceWriter> writer_;
  std::unique_ptr<store::ChallengeBatcher> challenge_batcher_;  // BeginEnrollment's look-ups

  // What the services share (provisioning/service_context.h) and the objects it points to.
  std::unique_ptr<store::CertificateRepository> certificates_;
  std::unique_ptr<store::DeviceRepository> devices_;
  std::unique_ptr<store::ManufacturerRepository> manufacturers_;
  std::unique_ptr<store::EnrollmentRepository> enrollments_;
  std::unique_ptr<store::RevocationRepository> revocations_;
  std::unique_ptr<store::AuditLogReader> audit_log_;
  std::unique_ptr<store::AuditCheckpointRepository> audit_checkpoints_;
  std::unique_ptr<provisioning::CertificateIssuance> issuance_;
  std::unique_ptr<provisioning::CallerAuthenticator> authenticator_;
  std::unique_ptr<provisioning::BlockingExecutor> executor_;
  std::unique_ptr<ca::CertificateCache> certificate_cache_;
  std::unique_ptr<provisioning::BegunChallenges> begun_challenges_;
  std::unique_ptr<provisioning::ChallengeAllowance> challenge_allowance_;
  provisioning::ServiceContext services_;
  AuditSigner audit_signer_;
  std::unique_ptr<AuditCheckpointer> audit_checkpointer_;

  std::unique_ptr<provisioning::AdminServiceImpl> admin_service_;
  std::unique_ptr<provisioning::FactoryServiceImpl> factory_service_;
  std::unique_ptr<provisioning::EnrollmentServiceImpl> enrollment_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<StatusService> status_;  // before periodic_tasks_, which uses it
  std::unique_ptr<PeriodicTasks> periodic_tasks_;
  int grpc_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace keyline::server
