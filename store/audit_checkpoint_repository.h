// Signed checkpoints of the audit chain (who signs: server/audit_checkpointer). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace keyline::store {

struct AuditCheckpointRecord {
  int64_t seq = 0;
  std::string row_hash;   // the chain's row_hash at seq
  std::string signature;  // DER ECDSA by the audit key
  absl::Time created_at;  // set by the database
  // When it was signed, covered by the signature (message v2); unset for v1 checkpoints, whose
  // signature covers seq and row_hash only. Whole microseconds: what PostgreSQL keeps.
  std::optional<absl::Time> signed_at;
};

class AuditCheckpointRepository {
 public:
  explicit AuditCheckpointRepository(ConnectionPool& pool) : pool_(pool) {}

  // AlreadyExists when a checkpoint for this seq with the same signed_at (or, for v1, any
  // checkpoint without one) exists, or, with `unless_signed_within` > 0, one for this seq or a
  // later one signed less than that before (or up to that after) this one's signed_at (another
  // replica was first:
  // appends take a transaction-level advisory lock, so replicas see each other's);
  // FailedPrecondition when the audit log
  // has no row `seq` or its row_hash differs; InvalidArgument for seq <= 0, a row_hash that is not
  // 32 bytes or an empty signature. Appends no audit event (that would chain forever).
  [[nodiscard]] absl::Status Append(const AuditCheckpointRecord& checkpoint,
                                    absl::Duration unless_signed_within = absl::ZeroDuration());
  // Ascending by seq, then signed_at (v1 first).
  [[nodiscard]] absl::StatusOr<std::vector<AuditCheckpointRecord>> List();
  // The newest, or NotFound when there is none.
  [[nodiscard]] absl::StatusOr<AuditCheckpointRecord> Latest();

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
