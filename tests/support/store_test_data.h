// Rows and databases for store/ integration tests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/issuance_writer.h"
#include "store/records.h"
#include "tests/support/postgres_cluster.h"

namespace keyline::testing {

// A fresh database with every embedded migration applied.
[[nodiscard]] absl::StatusOr<PostgresCluster::Database> CreateMigratedDatabase(
    PostgresCluster& cluster);

// A deployment CA row named `name` with plausible contents (not a real certificate).
store::CaRecord TestCa(const std::string& name);

// A 16-byte serial (no leading zero byte) unique per (namespace_byte, number).
std::string TestSerial(uint8_t namespace_byte, uint64_t number);

// A device certificate write for `issuer_id` with ~700 bytes of pseudo-random "DER", an
// operator record every 16th row, and its audit event.
store::IssuanceWrite TestIssuance(int32_t issuer_id, const std::string& serial);

// Collects the statuses of asynchronous callbacks and waits (without a deadline: ctest's
// timeout catches a hang) until a number of them arrived.
class Completions {
 public:
  explicit Completions(size_t expected) : statuses_(expected) {}
  // A callback storing its status at `index`.
  std::function<void(absl::Status)> Callback(size_t index);
  // Blocks until every expected callback ran, then returns their statuses.
  std::vector<absl::Status> Wait();

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<absl::Status> statuses_;
  size_t arrived_ = 0;
};

}  // namespace keyline::testing
