// Revocation of certificates, one by serial or all of a device's, in batches that commit as one
// transaction with their audit events and a notification, so every replica's OCSP and CRL state
// learns of it (store/certificate_status_feed.h).
//
// Revoking a certificate that is already revoked changes nothing (no row, no audit event) and is
// not an error; the result counts it. A batch naming an unknown certificate or device fails as a
// whole with NotFound naming the target ("targets[3].certificate_serial: ...") and nothing is
// written. A dry run takes the same row locks, reports exactly what would change and writes
// nothing.
//
// Thread safety: as the pool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace keyline::store {

struct RevocationTarget {
  enum class Kind { kCertificate, kDevice };
  Kind kind = Kind::kCertificate;
  std::string id;                // certificate serial (raw big-endian magnitude) or device serial
  std::optional<int> reason;     // CRLReason code; the request's reason when unset
};

// A batch's steps, in order; `done` of `total` within the step.
struct RevocationProgress {
  enum class Step { kLocking, kChecking, kUpdating, kRecording, kCommitting };
  Step step = Step::kLocking;
  size_t done = 0;
  size_t total = 0;
};

// "locking", "checking", "updating", "recording", "committing".
std::string_view RevocationStepName(RevocationProgress::Step step);

// Told where a batch is; returning false stops it (see RevocationRequest::progress).
using RevocationProgressCallback = std::function<bool(const RevocationProgress&)>;

struct RevocationRequest {
  std::vector<RevocationTarget> targets{};
  int reason = 0;                            // CRLReason code (ca/revocation_reason.h)
  std::optional<absl::Time> invalidity_date = std::nullopt;  // RFC 5280 5.3.2, when known
  std::string actor;
  bool dry_run = false;
  // Told where a long batch is, from inside the transaction; may be empty. Returning false stops
  // the batch: Revoke rolls back and returns Cancelled (the caller went away). Once it has been
  // told kCommitting, the batch commits.
  RevocationProgressCallback progress = nullptr;
};

struct RevokedCertificate {
  std::string serial;  // raw
  int32_t issuer_id = 0;
  std::string profile;
  std::optional<std::string> device_serial;
  int reason = 0;
  size_t target_index = 0;  // the first target that named it
};

struct RevocationResult {
  std::vector<RevokedCertificate> revoked;  // newly revoked (would be, on a dry run), in order
  int64_t already_revoked = 0;              // certificates named that were revoked before
  absl::Time revoked_at;                    // the transaction's time, every row carries it
};

class RevocationRepository {
 public:
  explicit RevocationRepository(ConnectionPool& pool) : pool_(pool) {}

  // InvalidArgument (nothing written) for an empty batch, an empty id, a reason outside the
  // allowed CRLReason codes or an empty actor, naming the target; NotFound for an unknown
  // certificate or device.
  [[nodiscard]] absl::StatusOr<RevocationResult> Revoke(const RevocationRequest& request);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
