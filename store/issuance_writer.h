// Group commit for issued certificates: many request threads hand in rows, one writer thread
// commits them in batches, each batch one transaction (operators upserted, certificates inserted,
// one audit event per certificate appended to the hash chain), and each caller's callback runs
// once its row is durable (after COMMIT returned with synchronous_commit on).
//
// Thread safety: Submit may be called from any thread. Callbacks run on the writer thread and
// must not block.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/records.h"

namespace keyline::store {

struct IssuanceWrite {
  CertificateRecord certificate;
  std::optional<OperatorRecord> operator_record;  // inserted if new, left alone if it exists
  // Device certificates: in the same transaction, under row locks on the challenge and the
  // device, the challenge must exist for this device and purpose, be unused and unexpired, and the
  // device must be "claimed" or "enrolled" by expected_deployment; then the challenge is marked
  // used, the device becomes "enrolled", and (request_id -> certificate) is recorded. Otherwise
  // nothing of this row is written and `done` gets FailedPrecondition naming what failed
  // ("challenge: already used", "challenge: expired", "device: decommissioned", ...), or
  // AlreadyExists "request_id: already completed" when the request_id is already recorded
  // (the caller then returns the recorded certificate). Two rows of one batch with the same
  // challenge or request_id: the first wins. The request_id is checked first, after the
  // challenge's lock is granted, so retries of one request (same challenge) that race get
  // AlreadyExists; "challenge: already used" means another request_id used it. The certificate is
  // stored with device_serial = enrollment's device_serial (a different one set in the record is
  // InvalidArgument).
  std::optional<EnrollmentRecord> enrollment;
  AuditEvent audit;                               // appended only if the certificate is stored
};

// Whether `done` got Unavailable because the enrollment row's CA was no longer active when the
// batch locked it: a rotation committed since the caller picked the deployment's CA, perhaps on
// another replica, and the caller's view of the deployment's current CA is out of date.
[[nodiscard]] bool IsIssuerRetired(const absl::Status& status);

struct IssuanceWriterOptions {
  std::string database_url;   // the service's (least-privilege) connection string
  size_t max_batch = 512;     // rows per transaction at most
  size_t max_queue = 65536;   // Submit fails with ResourceExhausted beyond this many waiting rows
  // A batch of fewer than group_commit_target rows waits up to group_commit_wait for more before
  // its transaction starts (BatchWorker's fill wait). 0: what queued during the previous commit
  // is the batch.
  std::chrono::microseconds group_commit_wait{0};
  size_t group_commit_target = 1;
};

class IssuanceWriter {
 public:
  // Connects and starts the writer thread. Unavailable when the database cannot be reached.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<IssuanceWriter>> Start(
      const IssuanceWriterOptions& options);

  // Stops accepting rows, commits what is queued, joins the writer thread.
  virtual ~IssuanceWriter() = default;

  // `done` gets OK once the row is committed; AlreadyExists if a certificate with this serial
  // is already stored (nothing of this row was written; the caller re-issues with a fresh
  // serial); for enrollment rows, AlreadyExists or FailedPrecondition as IssuanceWrite::enrollment
  // says; Unavailable if the database failed (nothing of the batch was written);
  // Unknown if the connection broke during COMMIT and the writer could not find out whether the
  // batch was stored; FailedPrecondition if the row breaks a rule of the schema (e.g. unknown
  // issuer_id; only that row fails); ResourceExhausted if the queue is full, InvalidArgument if
  // the row cannot be stored as given (see ValidateIssuanceWrite in store/issuance_batch.h) and
  // Unavailable once the writer is shutting down: in these three cases `done` runs before Submit
  // returns.
  virtual void Submit(IssuanceWrite write, std::function<void(absl::Status)> done) = 0;
};

}  // namespace keyline::store
