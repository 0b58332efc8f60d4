// Issuance of one certificate end to end: fresh serial, template from the profile, signature in
// the HSM (on the calling thread), then the certificate, its operator row and its audit event go
// to the group-commit writer; `done` runs when they are durable, right after `stored` (if set)
// was told of the certificate.
//
// A serial that collides with a stored one (126 random bits: it does not happen, but the primary
// key would catch it) is re-issued with a fresh serial, up to three times.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "common/openssl_ptr.h"
#include "store/issuance_writer.h"

namespace keyline::provisioning {

struct IssuedCertificate {
  std::string serial;  // raw big-endian magnitude
  std::string der;
  absl::Time not_before;
  absl::Time not_after;
  const ca::IssuingCa* issuer = nullptr;
};

struct IssuanceJob {
  const ca::IssuingCa* issuer = nullptr;
  std::optional<ca::PublicKeyInfo> subject_key;
  // Fills the template for the given context (serial, time, key, issuer name).
  std::function<ca::CertificateTemplate(const ca::IssueContext&)> make_template;
  std::string subject;  // certificates.subject, e.g. the SAN URI
  std::optional<std::string> device_serial;  // device and attestation certificates
  std::optional<store::OperatorRecord> operator_record;
  // Device certificates: the challenge and request_id the writer checks and records
  // (store/issuance_writer.h). Such jobs are not retried on AlreadyExists: for them it means the
  // request_id was already completed.
  std::optional<store::EnrollmentRecord> enrollment;
  store::AuditEvent audit;  // target and the certificate facts are filled in here
};

// A signed certificate and the row that stores it, before it is stored.
struct SignedCertificate {
  IssuedCertificate issued;
  store::IssuanceWrite write;
};

class CertificateIssuance {
 public:
  using Done = std::function<void(absl::StatusOr<IssuedCertificate>)>;
  // Told of each certificate Issue stored, on the writer's thread, before its `done` runs: the
  // server's OCSP status index learns of it there, so that its caller, and a relying party the
  // caller tells, get `good` and not `unknown` from this server. Must not block.
  using Stored = std::function<void(const IssuedCertificate&)>;

  CertificateIssuance(const ca::ProfileSettings& settings, store::IssuanceWriter& writer,
                      Stored stored = {})
      : settings_(settings), writer_(writer), stored_(std::move(stored)) {}

  // Signs now, on the calling thread; `done` runs on the writer's thread once the rows are
  // committed (or with the error that stopped them).
  void Issue(std::shared_ptr<IssuanceJob> job, Done done);

  // Issue, waiting for the commit. For init and tests; request handlers use Issue.
  [[nodiscard]] absl::StatusOr<IssuedCertificate> IssueAndWait(std::shared_ptr<IssuanceJob> job);

  // Signs without storing, for callers that store the row in a transaction of their own
  // (factory batches register devices and their attestation certificates together).
  [[nodiscard]] absl::StatusOr<SignedCertificate> Sign(const IssuanceJob& job) const;

 private:
  void Attempt(std::shared_ptr<IssuanceJob> job, Done done, int attempt);

  const ca::ProfileSettings& settings_;
  store::IssuanceWriter& writer_;
  const Stored stored_;
};

}  // namespace keyline::provisioning
