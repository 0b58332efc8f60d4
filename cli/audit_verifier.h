// `keylinectl audit verify`'s logic, free of gRPC so that it runs on in-memory rows in tests:
// recomputes the audit log's hash chain (store/audit_chain.h decides what a valid row is), checks
// the signed checkpoints against it, and names the first problem:
//
//   "row 1234: hash mismatch (altered?)"              contents changed, row_hash left alone
//   "row 1235 missing" / "rows 1235 to 1240 missing"  a gap in seq
//   "rows 7 and 8 out of order (reordered?)"           seq not ascending
//   "row 7: out of place: the row that follows row 6 is stored at seq 8 (reordered?)"
//   "row 1235: prev_hash does not match the hash of row 1234 (...)"
//   "row 900: hash differs from the checkpoint signed at seq 900 (rows up to 900 rewritten?)"
//   "rows after 900 missing: checkpoint at 1000 signed"
//   "checkpoint at seq 1000: signature does not verify (forged?)"
//   "row 900: hash differs from the head recorded at seq 900 (log rewritten?)"
//   "rows after 850 missing: the head was recorded at seq 900 (rows dropped?)"
//   "no checkpoint signed between 2026-11-30T01:00:00Z and 2026-11-30T03:00:00Z (7200 s, more
//    than the 3600 s allowed): rows and checkpoints of that time removed, or no server running?"
//   "checkpoint at seq 900 signed at 2026-11-30T05:00:00Z, after now (a server clock ahead?)"
//   "newest checkpoint signed at 2026-11-30T01:00:00Z, 7200 s ago, more than the 3600 s allowed:
//    rows and checkpoints after it removed, or no server running?"
//
// Every problem is a DataLoss status with that message. The checkpoints live in the database they
// vouch for: whoever can drop the log's tail can drop the checkpoints that cover it too, and
// without checkpoints rows removed from the end cannot be told from a log that never had them.
// A head recorded outside the database at an earlier verify (ExpectHead) closes that gap. So does
// a bound on the time between checkpoints (ExpectCheckpointsEvery): a running server signs the
// head at least every audit.checkpoint_refresh_seconds, idle or not (server/audit_checkpointer.h),
// and the signature covers the time. Rows removed with the checkpoints that covered them leave a
// stretch of time without a checkpoint that nobody without the HSM key can fill, even after the
// server has signed the shortened head.
// Not thread-safe.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "store/audit_chain.h"

namespace keyline::cli {

// A checkpoint as keyline-server lists it: the chain's row_hash at `seq`, signed by the HSM
// audit key over store::AuditCheckpointMessage(seq, row_hash).
struct SignedCheckpoint {
  int64_t seq = 0;
  std::string row_hash;   // 32 raw bytes
  std::string signature;  // ECDSA, DER
  // Covered by the signature (message v2); unset for v1 checkpoints. Whole microseconds.
  std::optional<absl::Time> signed_at;
};

// The log's last row as an earlier verify reported it, kept by the auditor outside the database.
struct RecordedHead {
  int64_t seq = 0;
  std::string row_hash;  // 32 raw bytes
};

class AuditLogVerifier {
 public:
  explicit AuditLogVerifier(std::vector<SignedCheckpoint> checkpoints);

  // The row at `head.seq` must exist and have `head.row_hash`: the log still holds what an earlier
  // verify saw.
  void ExpectHead(RecordedHead head) { recorded_head_ = std::move(head); }

  // From `since` (or, without it, the first checkpoint that carries a signing time) until `now`,
  // no longer than `max_gap` may pass without a checkpoint signed in that time: Finish fails
  // otherwise, and when a checkpoint is dated after `now` (beyond a minute of clock skew).
  // Without `since`, whoever deletes every timed checkpoint moves the start: `since` should be
  // the newest signing time an earlier verify printed, kept outside the database.
  void ExpectCheckpointsEvery(absl::Duration max_gap, absl::Time now,
                              std::optional<absl::Time> since = std::nullopt) {
    max_checkpoint_gap_ = max_gap;
    now_ = now;
    checkpoints_since_ = since;
  }

  // Each checkpoint's signature by `audit_key` (whose certificate the caller has verified).
  [[nodiscard]] absl::Status CheckSignatures(EVP_PKEY* audit_key) const;

  // The next rows of the log, in the order the server returned them (ascending seq expected).
  // After the first problem every call returns it again.
  [[nodiscard]] absl::Status AddRows(std::span<const store::AuditRow> rows);

  // After the last row: no checkpoint may lie beyond it.
  [[nodiscard]] absl::Status Finish();

  int64_t rows_verified() const { return rows_verified_; }
  int64_t last_seq() const { return last_seq_; }
  // The row_hash of the last row verified (the genesis hash before any).
  const std::string& last_hash() const { return last_hash_; }
  size_t checkpoint_count() const { return checkpoints_.size(); }
  std::optional<int64_t> last_checkpoint_seq() const;
  // The latest signing time of any checkpoint; nullopt if none carries one (all v1).
  std::optional<absl::Time> newest_signed_at() const;

 private:
  absl::Status CheckRow(std::span<const store::AuditRow> rows, size_t index);
  absl::Status MatchCheckpoints(const store::AuditRow& row);
  absl::Status MatchRecordedHead(const store::AuditRow& row) const;
  absl::Status CheckCheckpointGaps() const;

  std::vector<SignedCheckpoint> checkpoints_;  // ascending seq
  size_t next_checkpoint_ = 0;
  std::optional<RecordedHead> recorded_head_;
  std::optional<absl::Duration> max_checkpoint_gap_;
  std::optional<absl::Time> checkpoints_since_;
  absl::Time now_;
  int64_t last_seq_ = 0;
  std::string last_hash_;
  int64_t rows_verified_ = 0;
  absl::Status problem_;
};

// Everything in memory: signatures, rows, tail. OK or the first problem, as above.
[[nodiscard]] absl::Status VerifyAuditLog(std::span<const store::AuditRow> rows,
                                          std::vector<SignedCheckpoint> checkpoints,
                                          EVP_PKEY* audit_key);

}  // namespace keyline::cli
