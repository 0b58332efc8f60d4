// What the gRPC services share: settings, the caller authenticator, the CAs, the issuance
// pipeline, the executor for blocking work and the repositories. keyline-server owns every
// object; services hold this struct by reference for their lifetime.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/certificate_cache.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "provisioning/begun_challenges.h"
#include "provisioning/blocking_executor.h"
#include "provisioning/ca_registry.h"
#include "provisioning/caller_authenticator.h"
#include "provisioning/certificate_issuance.h"
#include "provisioning/challenge_allowance.h"
#include "store/audit_checkpoint_repository.h"
#include "store/audit_log_reader.h"
#include "store/certificate_repository.h"
#include "store/challenge_batcher.h"
#include "store/device_repository.h"
#include "store/enrollment_repository.h"
#include "store/manufacturer_repository.h"
#include "store/records.h"
#include "store/revocation_repository.h"

namespace keyline::provisioning {

struct EnrollmentSettings {
  absl::Duration challenge_lifetime = absl::Seconds(60);
  size_t max_batch = 5000;  // devices per factory or claim call
};

// A deployment CA rotation as it was stored (server/ca_rotation.h does it).
struct CaRotation {
  store::CaRecord active;
  store::CaRecord retired;
};

struct ServiceContext {
  const ca::ProfileSettings* profiles = nullptr;
  EnrollmentSettings enrollment;
  CallerAuthenticator* authenticator = nullptr;
  CertificateIssuance* issuance = nullptr;
  BlockingExecutor* executor = nullptr;
  // Parsed certificates that requests meet again: trust anchors, attestation chains.
  ca::CertificateCache* certificate_cache = nullptr;
  // What BeginEnrollment read, for the CompleteEnrollment that follows (may be null: then
  // CompleteEnrollment always reads the database).
  BegunChallenges* begun_challenges = nullptr;
  // BeginEnrollment's device look-ups, batched (required).
  store::ChallengeBatcher* challenge_batcher = nullptr;
  // How many challenges a device may be handed (may be null: no cap).
  ChallengeAllowance* challenge_allowance = nullptr;
  // Called (any thread, must not block) when BeginEnrollment refused a device over its allowance.
  // May be empty.
  std::function<void()> on_challenge_refused;

  const ca::IssuingCa* operator_ca = nullptr;
  std::map<std::string, const ca::IssuingCa*> hosted_manufacturers;  // by manufacturer name
  // Every loaded CA by id, and each deployment's current CA (changes on rotation).
  CaRegistry* cas = nullptr;

  store::CertificateRepository* certificates = nullptr;
  store::DeviceRepository* devices = nullptr;
  store::ManufacturerRepository* manufacturers = nullptr;
  store::EnrollmentRepository* enrollments = nullptr;
  store::RevocationRepository* revocations = nullptr;
  store::AuditLogReader* audit_log = nullptr;
  store::AuditCheckpointRepository* audit_checkpoints = nullptr;
  std::string audit_certificate_der;  // the HSM audit key's certificate

  // Rotates a deployment's CA and makes this server issue from the new one; `actor` is audited.
  std::function<absl::StatusOr<CaRotation>(const std::string& deployment, const std::string& actor)>
      rotate_deployment_ca;
  // Called (on the issuance writer's thread; it must not block) when an enrollment or renewal was
  // refused because its deployment's CA was retired meanwhile (store::IsIssuerRetired): this
  // server's view of the current CAs is out of date. May be empty.
  std::function<void()> on_issuer_retired;
};

}  // namespace keyline::provisioning
