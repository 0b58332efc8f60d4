// Signed checkpoints of the audit chain (who signs: server/audit_checkpointer). Thread-safe.
#pragma once

#include <cstdint>
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
};

class AuditCheckpointRepository {
 public:
  explicit AuditCheckpointRepository(ConnectionPool& pool) : pool_(pool) {}

  // AlreadyExists when a checkpoint for this seq exists; FailedPrecondition when the audit log
  // has no row `seq` or its row_hash differs; InvalidArgument for seq <= 0, a row_hash that is not
  // 32 bytes or an empty signature. Appends no audit event (that would chain forever).
  [[nodiscard]] absl::Status Append(const AuditCheckpointRecord& checkpoint);
  // Ascending by seq.
  [[nodiscard]] absl::StatusOr<std::vector<AuditCheckpointRecord>> List();
  // The newest, or NotFound when there is none.
  [[nodiscard]] absl::StatusOr<AuditCheckpointRecord> Latest();

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
