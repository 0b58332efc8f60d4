// CRL numbers (RFC 5280 5.2.3): one increasing sequence per CA, shared by its full and delta CRLs
// and by every replica, kept in crl_numbers so it survives restarts. Thread-safe as the pool.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "store/connection_pool.h"

namespace keyline::store {

class CrlNumberRepository {
 public:
  explicit CrlNumberRepository(ConnectionPool& pool) : pool_(pool) {}

  // The next number for `ca_id` (1 for the first), taken atomically. FailedPrecondition for an
  // unknown CA.
  [[nodiscard]] absl::StatusOr<uint64_t> Next(int32_t ca_id);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
