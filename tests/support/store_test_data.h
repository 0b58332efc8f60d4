// Rows and databases for store/ integration tests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/audit_chain.h"
#include "store/connection_pool.h"
#include "store/device_repository.h"
#include "store/issuance_writer.h"
#include "store/records.h"
#include "tests/support/postgres_cluster.h"

namespace keyline::testing {

// A fresh database with every embedded migration applied.
[[nodiscard]] absl::StatusOr<PostgresCluster::Database> CreateMigratedDatabase(
    PostgresCluster& cluster);

// A fresh migrated database on the shared cluster (SharedPostgresCluster) and a pool of
// `pool_size` connections to it as the service login.
struct MigratedStore {
  PostgresCluster::Database database;
  std::unique_ptr<store::ConnectionPool> pool;
};
[[nodiscard]] absl::StatusOr<MigratedStore> CreateMigratedStore(size_t pool_size = 4);

// A deployment CA row named `name` with plausible contents (not a real certificate).
store::CaRecord TestCa(const std::string& name);

// A 16-byte serial (no leading zero byte) unique per (namespace_byte, number).
std::string TestSerial(uint8_t namespace_byte, uint64_t number);

// A device certificate write for `issuer_id` with ~700 bytes of pseudo-random "DER", an
// operator record every 16th row, and its audit event.
store::IssuanceWrite TestIssuance(int32_t issuer_id, const std::string& serial);

// A manufacturer named `name` with a plausible trust anchor (not a real certificate).
store::ManufacturerRecord TestManufacturer(const std::string& name);

// A registration of `serial` for `manufacturer_id`: its attestation key hash is derived from
// (serial, key_version), so a different key_version is a different key.
store::DeviceRegistration TestDevice(int32_t manufacturer_id, const std::string& serial,
                                     int key_version = 1);

// A voucher of `owner` for `serial`, valid for a year, with `tag` in its signed bytes.
store::VoucherRecord TestVoucher(const std::string& serial, const std::string& owner,
                                 const std::string& tag = "v1");

// A 16-byte challenge id unique per number.
std::string TestChallengeId(uint64_t number);

// An unused challenge for `device_serial`, expiring `ttl` from now (negative: already expired).
store::ChallengeRecord TestChallenge(uint64_t number, const std::string& device_serial,
                                     absl::Duration ttl = absl::Seconds(60),
                                     const std::string& purpose = "enroll");

// A device certificate write (TestIssuance) that completes an enrollment.
store::IssuanceWrite TestEnrollmentIssuance(int32_t issuer_id, const std::string& serial,
                                            const std::string& request_id,
                                            const std::string& challenge_id,
                                            const std::string& device_serial,
                                            const std::string& deployment,
                                            const std::string& purpose = "enroll");

// What SeedEnrollmentWorld made.
struct EnrollmentWorld {
  int32_t manufacturer_id = 0;
  int32_t ca_id = 0;                       // the deployment CA "deployment/<deployment>"
  std::vector<std::string> device_serials;  // "dev-00000", ... registered and claimed
};

// As the service would: a trusted manufacturer, a deployment CA and `devices` devices registered
// and claimed by `deployment` (in batches of 5,000). Their attestation certificates are a few
// dozen octets unless padded to `attestation_certificate_bytes`, for rows of a real size.
[[nodiscard]] absl::StatusOr<EnrollmentWorld> SeedEnrollmentWorld(
    store::ConnectionPool& pool, const std::string& deployment, size_t devices,
    size_t attestation_certificate_bytes = 0);

// The single bigint of `sql` (e.g. "SELECT count(*) FROM devices"), run through `pool`.
[[nodiscard]] absl::StatusOr<int64_t> QueryCount(store::ConnectionPool& pool,
                                                 const std::string& sql);

// Reads the whole audit log and checks its chain and head. The rows, or the first problem.
[[nodiscard]] absl::StatusOr<std::vector<store::AuditRow>> VerifiedAuditLog(
    store::ConnectionPool& pool);

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
