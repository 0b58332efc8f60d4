// Reads the audit log back, for `keylinectl audit verify` (with VerifyAuditChain) and tests.
//
// Thread safety: as the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/audit_chain.h"
#include "store/connection_pool.h"

namespace keyline::store {

class AuditLogReader {
 public:
  // `pool` must outlive the reader.
  explicit AuditLogReader(ConnectionPool& pool) : pool_(pool) {}

  struct Head {
    int64_t seq = 0;       // of the last row; 0 when the log is empty
    std::string row_hash;  // raw 32 bytes; GenesisAuditHash() when the log is empty
  };
  [[nodiscard]] absl::StatusOr<Head> ReadHead();

  // Up to `limit` rows with seq > after_seq, in seq order. Internal error (naming the seq) for a
  // row whose details are not valid JSON, which jsonb makes impossible short of tampering.
  [[nodiscard]] absl::StatusOr<std::vector<AuditRow>> ReadRows(int64_t after_seq, size_t limit);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
