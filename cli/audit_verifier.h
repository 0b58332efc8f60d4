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
//
// Every problem is a DataLoss status with that message. Without checkpoints, rows removed from
// the end of the log cannot be told from a log that never had them; the caller says so.
// Not thread-safe.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "store/audit_chain.h"

namespace keyline::cli {

// A checkpoint as keyline-server lists it: the chain's row_hash at `seq`, signed by the HSM
// audit key over store::AuditCheckpointMessage(seq, row_hash).
struct SignedCheckpoint {
  int64_t seq = 0;
  std::string row_hash;   // 32 raw bytes
  std::string signature;  // ECDSA, DER
};

class AuditLogVerifier {
 public:
  explicit AuditLogVerifier(std::vector<SignedCheckpoint> checkpoints);

  // Each checkpoint's signature by `audit_key` (whose certificate the caller has verified).
  [[nodiscard]] absl::Status CheckSignatures(EVP_PKEY* audit_key) const;

  // The next rows of the log, in the order the server returned them (ascending seq expected).
  // After the first problem every call returns it again.
  [[nodiscard]] absl::Status AddRows(std::span<const store::AuditRow> rows);

  // After the last row: no checkpoint may lie beyond it.
  [[nodiscard]] absl::Status Finish();

  int64_t rows_verified() const { return rows_verified_; }
  int64_t last_seq() const { return last_seq_; }
  size_t checkpoint_count() const { return checkpoints_.size(); }
  std::optional<int64_t> last_checkpoint_seq() const;

 private:
  absl::Status CheckRow(std::span<const store::AuditRow> rows, size_t index);
  absl::Status MatchCheckpoints(const store::AuditRow& row);

  std::vector<SignedCheckpoint> checkpoints_;  // ascending seq
  size_t next_checkpoint_ = 0;
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
