// IssuanceWriter rows that complete enrollments (IssuanceWrite::enrollment) against PostgreSQL:
// single use of challenges within and across batches, every refusal (which writes nothing),
// row locks against concurrent decommissioning, a request retried concurrently on two writers,
// and a throughput printout.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "store/certificate_repository.h"
#include "store/challenge_creation.h"
#include "store/connection_pool.h"
#include "store/device_repository.h"
#include "store/enrollment_repository.h"
#include "store/issuance_batch.h"
#include "store/issuance_writer.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::Completions;
using testing::PostgresCluster;
using testing::TestChallenge;
using testing::TestChallengeId;
using testing::TestEnrollmentIssuance;
using testing::TestSerial;

class IssuanceEnrollmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresCluster*> cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    absl::StatusOr<PostgresCluster::Database> database = CreateMigratedDatabase(**cluster);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    absl::StatusOr<std::unique_ptr<ConnectionPool>> pool =
        ConnectionPool::Create({.database_url = database_.app_url, .size = 4});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
  }

  void Seed(size_t acme_devices, size_t attestation_certificate_bytes = 0) {
    absl::StatusOr<testing::EnrollmentWorld> acme =
        testing::SeedEnrollmentWorld(*pool_, "acme", acme_devices, attestation_certificate_bytes);
    ASSERT_TRUE(acme.ok()) << acme.status();
    acme_ = *acme;
    absl::StatusOr<testing::EnrollmentWorld> globex =
        testing::SeedEnrollmentWorld(*pool_, "globex", 1);
    ASSERT_TRUE(globex.ok()) << globex.status();
    globex_ = *globex;
  }

  std::unique_ptr<IssuanceWriter> StartWriter() {
    absl::StatusOr<std::unique_ptr<IssuanceWriter>> writer =
        IssuanceWriter::Start({.database_url = database_.app_url});
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? *std::move(writer) : nullptr;
  }

  void CreateChallenge(const ChallengeRecord& challenge) {
    const absl::Status status = EnrollmentRepository(*pool_).CreateChallenge(challenge);
    ASSERT_TRUE(status.ok()) << status;
  }

  // Challenge i (TestChallengeId(i)) for each of acme's first `count` devices, in bulk, as
  // BeginEnrollment would have made them one by one.
  void MakeChallenges(size_t count) {
    const absl::Status status = pool_->RunTransaction("make challenges", [&](pqxx::work& tx) {
      tx.exec_params(
          "INSERT INTO challenges (id, device_serial, nonce, purpose, requested_by, expires_at) "
          "SELECT decode('1111111111111111' || lpad(to_hex(n), 16, '0'), 'hex'), "
          "format('acme-dev-%s', lpad(n::text, 5, '0')), sha256(n::text::bytea), 'enroll', "
          "'device', now() + interval '10 minutes' FROM generate_series(0, $1 - 1) AS n",
          static_cast<int64_t>(count));
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status;
  }

  // Submits `writes` and waits for all of them.
  static std::vector<absl::Status> SubmitAll(IssuanceWriter& writer,
                                             const std::vector<IssuanceWrite>& writes) {
    Completions completions(writes.size());
    for (size_t i = 0; i < writes.size(); ++i) writer.Submit(writes[i], completions.Callback(i));
    return completions.Wait();
  }

  // Submits `writes` so that they form one batch: the writer is held on the audit head's lock by
  // its previous batch until every row is queued.
  std::vector<absl::Status> SubmitAsOneBatch(IssuanceWriter& writer,
                                             const std::vector<IssuanceWrite>& writes) {
    pqxx::connection blocker_connection(database_.superuser_url);
    pqxx::work blocker(blocker_connection);
    blocker.exec("SELECT * FROM audit_head FOR UPDATE");
    Completions stalled(1);
    writer.Submit(testing::TestIssuance(acme_.ca_id, TestSerial(60, next_plain_++)),
                  stalled.Callback(0));
    WaitForLockWaiters(1);
    Completions completions(writes.size());
    for (size_t i = 0; i < writes.size(); ++i) writer.Submit(writes[i], completions.Callback(i));
    blocker.commit();
    EXPECT_TRUE(stalled.Wait()[0].ok());
    return completions.Wait();
  }

  // Until at least `count` lock requests wait; ctest's timeout catches a hang.
  void WaitForLockWaiters(int count) {
    pqxx::connection observer(database_.superuser_url);
    for (;;) {
      pqxx::nontransaction query(observer);
      if (query.exec1("SELECT count(*) FROM pg_locks WHERE NOT granted")[0].as<int>() >= count) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  int64_t Count(const std::string& sql) {
    absl::StatusOr<int64_t> count = testing::QueryCount(*pool_, sql);
    EXPECT_TRUE(count.ok()) << sql << ": " << count.status();
    return count.value_or(-1);
  }

  // Rows of the tables an enrollment writes, and of the audit log (verified).
  struct Footprint {
    int64_t certificates, enrollments, used_challenges, enrolled_devices, audit_rows;
    bool operator==(const Footprint&) const = default;
  };
  Footprint Snapshot() {
    absl::StatusOr<std::vector<AuditRow>> log = testing::VerifiedAuditLog(*pool_);
    EXPECT_TRUE(log.ok()) << log.status();
    return {Count("SELECT count(*) FROM certificates"), Count("SELECT count(*) FROM enrollments"),
            Count("SELECT count(*) FROM challenges WHERE used_at IS NOT NULL"),
            Count("SELECT count(*) FROM devices WHERE state = 'enrolled'"),
            log.ok() ? static_cast<int64_t>(log->size()) : -1};
  }

  IssuanceWrite Enroll(uint64_t serial, const std::string& request_id, uint64_t challenge,
                       const std::string& device, const std::string& deployment = "acme",
                       const std::string& purpose = "enroll") {
    return TestEnrollmentIssuance(acme_.ca_id, TestSerial(50, serial), request_id,
                                  TestChallengeId(challenge), device, deployment, purpose);
  }

  PostgresCluster::Database database_;
  std::unique_ptr<ConnectionPool> pool_;
  testing::EnrollmentWorld acme_;
  testing::EnrollmentWorld globex_;
  uint64_t next_plain_ = 0;
};

void ExpectStatus(const absl::Status& status, absl::StatusCode code, const std::string& message) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(std::string(status.message()), message);
}

TEST_F(IssuanceEnrollmentTest, CompletedEnrollmentStoresEverythingTogether) {
  Seed(2);
  const std::string device = acme_.device_serials[0];
  CreateChallenge(TestChallenge(1, device));
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  const Footprint before = Snapshot();
  IssuanceWrite write = Enroll(1, "req-1", 1, device);
  write.certificate.not_after = absl::Now() + absl::Hours(1);  // renewed with below
  ASSERT_TRUE(SubmitAll(*writer, {write})[0].ok());

  const absl::StatusOr<CompletedEnrollment> completed =
      EnrollmentRepository(*pool_).FindByRequestId("req-1");
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->device_serial, device);
  EXPECT_EQ(completed->certificate.serial, write.certificate.serial);
  EXPECT_EQ(completed->certificate.device_serial, device);  // filled in from the enrollment
  EXPECT_TRUE(EnrollmentRepository(*pool_).FindChallenge(TestChallengeId(1))->used_at);
  EXPECT_EQ(DeviceRepository(*pool_).Find(device)->state, "enrolled");
  EXPECT_EQ(DeviceRepository(*pool_).Find(acme_.device_serials[1])->state, "claimed");
  const auto certificates = DeviceRepository(*pool_).Certificates(device);
  ASSERT_TRUE(certificates.ok()) << certificates.status();
  ASSERT_EQ(certificates->size(), 1u);
  EXPECT_EQ(certificates->front().serial, write.certificate.serial);
  const Footprint after = Snapshot();
  EXPECT_EQ(after, (Footprint{before.certificates + 1, 1, 1, 1, before.audit_rows + 1}));
  EXPECT_EQ(testing::VerifiedAuditLog(*pool_)->back().event.action, "device.enrolled");

  // A renewal of the enrolled device (its own challenge purpose) also passes.
  CreateChallenge(TestChallenge(2, device, absl::Seconds(60), "renew"));
  IssuanceWrite renewal = Enroll(2, "req-2", 2, device, "acme", "renew");
  renewal.enrollment->renewed_certificate_serial = write.certificate.serial;
  const absl::Status renewed = SubmitAll(*writer, {renewal})[0];
  ASSERT_TRUE(renewed.ok()) << renewed;
  EXPECT_EQ(DeviceRepository(*pool_).Certificates(device)->size(), 2u);

  // The certificate a renewal presents, revoked or expired by the time the renewal commits: the
  // renewal is refused and writes nothing.
  for (const auto& [change, message] : std::vector<std::pair<std::string, std::string>>{
           {"status = 'revoked', revoked_at = now()", "client certificate: revoked"},
           {"not_after = now()", "client certificate: expired"}}) {
    const IssuanceWrite& presented = change.starts_with("status") ? renewal : write;
    pqxx::connection owner(database_.owner_url);
    pqxx::work update(owner);
    update.exec_params0("UPDATE certificates SET " + change + " WHERE serial = $1",
                        pqxx::binarystring(presented.certificate.serial));
    update.commit();
    const uint64_t next = change.starts_with("status") ? 3 : 4;
    CreateChallenge(TestChallenge(next, device, absl::Seconds(60), "renew"));
    IssuanceWrite refused =
        Enroll(next, "req-" + std::to_string(next), next, device, "acme", "renew");
    refused.enrollment->renewed_certificate_serial = presented.certificate.serial;
    const Footprint unchanged = Snapshot();
    ExpectStatus(SubmitAll(*writer, {refused})[0], absl::StatusCode::kPermissionDenied, message);
    EXPECT_EQ(Snapshot(), unchanged);
  }
}

// A rotation retired the CA after CompleteEnrollment picked it (here, or on a replica that has not
// adopted the new CA yet): the batch refuses the device certificate with UNAVAILABLE, so that the
// retry goes to the new CA, and writes nothing for it. A plain certificate from that CA (an OCSP
// signer's, in the service) is still stored.
TEST_F(IssuanceEnrollmentTest, NoDeviceCertificateFromACaRetiredMeanwhile) {
  Seed(1);
  const std::string device = acme_.device_serials[0];
  CreateChallenge(TestChallenge(1, device));
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  {
    pqxx::connection app(database_.app_url);
    pqxx::work retire(app);
    retire.exec_params0("UPDATE certificate_authorities SET status = 'retired' WHERE id = $1",
                        acme_.ca_id);
    retire.commit();
  }
  const Footprint before = Snapshot();
  ExpectStatus(SubmitAll(*writer, {Enroll(1, "req-1", 1, device)})[0],
               absl::StatusCode::kUnavailable,
               "issuer: the deployment CA was retired by a rotation after this request was "
               "checked; retry, and the new CA issues");
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(EnrollmentRepository(*pool_).FindChallenge(TestChallengeId(1))->used_at);
  EXPECT_TRUE(SubmitAll(*writer, {testing::TestIssuance(acme_.ca_id, TestSerial(62, 1))})[0].ok());
}

// The writer's statements are prepared once per connection. Planned while the tables are nearly
// empty, as here, PostgreSQL would pick sequential scans and keep them as the tables grow; on a
// connection set up by UseKeyLookupPlans each statement keeps its index look-ups.
TEST_F(IssuanceEnrollmentTest, PreparedStatementsKeepIndexLookUpsPlannedOnEmptyTables) {
  Seed(1);
  const std::string device = acme_.device_serials[0];
  CreateChallenge(TestChallenge(1, device));
  {
    // Statistics that say each table fits in a page, as early in a fleet's life.
    pqxx::connection superuser(database_.superuser_url);
    pqxx::nontransaction(superuser).exec0(
        "ANALYZE challenges, devices, manufacturers, enrollments, certificates");
  }
  pqxx::connection connection(database_.app_url);
  UseKeyLookupPlans(connection);
  {
    pqxx::work transaction(connection);
    // An enrollment, then a plain certificate: each kind of batch prepares its statements.
    const IssuanceWrite enrollment = Enroll(1, "req-1", 1, device);
    const IssuanceWrite plain = testing::TestIssuance(acme_.ca_id, TestSerial(61, 1));
    for (const IssuanceWrite* write : {&enrollment, &plain}) {
      absl::StatusOr<std::vector<absl::Status>> statuses = StoreIssuances(transaction, {&write, 1});
      ASSERT_TRUE(statuses.ok()) << statuses.status();
      ASSERT_TRUE((*statuses)[0].ok()) << (*statuses)[0];
    }
    // A second request on the used challenge: the request_ids are read again after the locks.
    const IssuanceWrite replay = Enroll(2, "req-2", 1, device);
    const IssuanceWrite* const replays[] = {&replay};
    absl::StatusOr<std::vector<absl::Status>> statuses = StoreIssuances(transaction, replays);
    ASSERT_TRUE(statuses.ok()) << statuses.status();
    ExpectStatus((*statuses)[0], absl::StatusCode::kFailedPrecondition, "challenge: already used");
    transaction.commit();
  }
  {
    // BeginEnrollment's batched look-up (ChallengeBatcher) runs on such a connection too.
    pqxx::nontransaction transaction(connection);
    const ChallengeRequest request{TestChallenge(2, device), std::string(32, 'x')};
    const ChallengeRequest* const requests[] = {&request};
    ASSERT_TRUE(FindDevicesAndCreateChallenges(transaction, requests)[0].ok());
  }
  // The write statements as the two batches composed them (ComposedStatement::Name).
  const std::string enrollment_write =
      "issuance.write:certificates_inserted,challenges_used,devices_enrolled,"
      "enrollments_recorded,audit_appended,audit_head_moved";
  const std::string plain_write =
      "issuance.write:certificates_inserted,audit_appended,audit_head_moved";
  const std::string certificate_columns =
      "'{\\x01}', '{1}', '{device}', '{x}', '{2030-01-01Z}', '{2030-01-01Z}', '{\\x00}', "
      "'{good}', '{NULL}', '{NULL}', '{x}'";
  const std::string audit_columns =
      R"('{1}', now(), '{a}', '{a}', '{a}', '{"{}"}', '{\\x00}', '{\\x00}', 1, '\x00')";
  const std::map<std::string, std::string> executions = {
      {"challenge.find_devices_and_create",
       "('{\\x00}', '{x}', '{\\x00}', '{enroll}', '{device}', '{2030-01-01Z}', '{\\x00}')"},
      {"issuance.read", "('{\\x00}', '{x}', '{x}', '{\\x00}', '{\\x00}', '{1}')"},
      {"issuance.recorded_request_ids", "('{x}')"},
      {enrollment_write, absl::StrCat("(", certificate_columns,
                                      ", now(), '{\\x00}', '{x}', "
                                      "'{x}', '{x}', '{\\x00}', ",
                                      audit_columns, ")")},
      {plain_write, absl::StrCat("(", certificate_columns, ", ", audit_columns, ")")}};
  pqxx::work explain(connection);
  for (const auto& [statement, parameters] : executions) {
    std::string plan;
    for (const pqxx::row& row :
         explain.exec(absl::StrCat("EXPLAIN EXECUTE \"", statement, "\"", parameters))) {
      plan += row[0].as<std::string>() + "\n";
    }
    // Sequential scans off cost a table without an index path above jit_above_cost.
    EXPECT_EQ(plan.find("JIT"), std::string::npos) << statement << ":\n" << plan;
    // Inserts and the audit head (one row) need no index; every look-up must use one.
    if (statement != plain_write) {
      EXPECT_NE(plan.find("Index Cond"), std::string::npos) << statement << ":\n" << plan;
    }
    for (const char* table : {"challenges", "devices", "enrollments", "certificates"}) {
      EXPECT_EQ(plan.find(absl::StrCat("Seq Scan on ", table)), std::string::npos)
          << statement << ":\n"
          << plan;
    }
  }
}

TEST_F(IssuanceEnrollmentTest, ChallengeIsUsedOnceWithinAndAcrossBatches) {
  Seed(2);
  const std::string device = acme_.device_serials[0];
  CreateChallenge(TestChallenge(1, device));
  CreateChallenge(TestChallenge(2, device));
  CreateChallenge(TestChallenge(3, acme_.device_serials[1]));
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);

  const std::vector<absl::Status> batch = SubmitAsOneBatch(
      *writer, {Enroll(1, "req-1", 1, device),
                Enroll(2, "req-2", 1, device),                       // challenge 1 again
                Enroll(3, "req-1", 2, device),                       // request_id again
                testing::TestIssuance(acme_.ca_id, TestSerial(61, 1)),  // a plain row
                Enroll(4, "req-4", 2, device)});                      // challenge 2, still free
  EXPECT_TRUE(batch[0].ok()) << batch[0];
  ExpectStatus(batch[1], absl::StatusCode::kFailedPrecondition, "challenge: already used");
  ExpectStatus(batch[2], absl::StatusCode::kAlreadyExists, "request_id: already completed");
  EXPECT_TRUE(batch[3].ok()) << batch[3];
  EXPECT_TRUE(batch[4].ok()) << batch[4];
  const Footprint after_first = Snapshot();
  EXPECT_EQ(after_first.enrollments, 2);
  EXPECT_EQ(after_first.used_challenges, 2);

  // In later batches: the used challenge, and the recorded request_id (which wins over the
  // challenge: a retry of a completed request hears that it completed).
  const std::vector<absl::Status> later =
      SubmitAll(*writer, {Enroll(5, "req-5", 1, device), Enroll(6, "req-1", 3, device)});
  ExpectStatus(later[0], absl::StatusCode::kFailedPrecondition, "challenge: already used");
  ExpectStatus(later[1], absl::StatusCode::kAlreadyExists, "request_id: already completed");
  EXPECT_EQ(Snapshot(), after_first);
  EXPECT_EQ(EnrollmentRepository(*pool_).FindByRequestId("req-1")->certificate.serial,
            TestSerial(50, 1));
}

TEST_F(IssuanceEnrollmentTest, RefusedRowsWriteNothing) {
  Seed(3);
  const std::string& device = acme_.device_serials[0];
  const std::string& globex_device = globex_.device_serials[0];
  CreateChallenge(TestChallenge(1, device, -absl::Seconds(1)));                 // expired
  CreateChallenge(TestChallenge(2, acme_.device_serials[1]));                  // another device's
  CreateChallenge(TestChallenge(3, device, absl::Seconds(60), "renew"));      // renew, not enroll
  CreateChallenge(TestChallenge(4, globex_device));                            // globex's device
  CreateChallenge(TestChallenge(5, acme_.device_serials[2]));                  // decommissioned
  ASSERT_TRUE(
      DeviceRepository(*pool_).Decommission(acme_.device_serials[2], "system:test", "test").ok());
  // A registered device nobody claimed.
  ASSERT_TRUE(DeviceRepository(*pool_)
                  .Register({testing::TestDevice(acme_.manufacturer_id, "unclaimed")},
                            "system:test")
                  .ok());
  CreateChallenge(TestChallenge(6, "unclaimed"));
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  const Footprint before = Snapshot();

  const std::vector<absl::Status> statuses = SubmitAsOneBatch(
      *writer, {Enroll(1, "r1", 1, device), Enroll(2, "r2", 2, device),
                Enroll(3, "r3", 3, device), Enroll(4, "r4", 4, globex_device),
                Enroll(5, "r5", 5, acme_.device_serials[2]), Enroll(6, "r6", 6, "unclaimed"),
                Enroll(7, "r7", 99, device)});
  ExpectStatus(statuses[0], absl::StatusCode::kFailedPrecondition, "challenge: expired");
  ExpectStatus(statuses[1], absl::StatusCode::kFailedPrecondition,
               "challenge: issued for another device");
  ExpectStatus(statuses[2], absl::StatusCode::kFailedPrecondition,
               "challenge: issued for renew, not enroll");
  ExpectStatus(statuses[3], absl::StatusCode::kFailedPrecondition,
               "device: owned by another deployment");
  ExpectStatus(statuses[4], absl::StatusCode::kFailedPrecondition, "device: decommissioned");
  ExpectStatus(statuses[5], absl::StatusCode::kFailedPrecondition, "device: not claimed");
  ExpectStatus(statuses[6], absl::StatusCode::kFailedPrecondition, "challenge: not found");
  // Only SubmitAsOneBatch's own plain row was stored.
  Footprint expected = before;
  expected.certificates += 1;
  expected.audit_rows += 1;
  EXPECT_EQ(Snapshot(), expected);
  EXPECT_EQ(Count("SELECT count(*) FROM challenges WHERE used_at IS NOT NULL"), 0);

  // Rejected before queueing: a certificate that names another device than the enrollment.
  IssuanceWrite mismatched = Enroll(8, "r8", 3, device);
  mismatched.certificate.device_serial = acme_.device_serials[1];
  const std::vector<absl::Status> invalid = SubmitAll(*writer, {mismatched});
  EXPECT_EQ(invalid[0].code(), absl::StatusCode::kInvalidArgument) << invalid[0];
}

// DeviceRepository::Decommission holds the device's row lock while the writer's batch wants it:
// the batch waits, then sees the device decommissioned.
TEST_F(IssuanceEnrollmentTest, DeviceDecommissionedMidFlightIsSeenUnderTheLock) {
  Seed(1);
  const std::string& device = acme_.device_serials[0];
  CreateChallenge(TestChallenge(1, device));
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  const Footprint before = Snapshot();

  pqxx::connection admin_connection(database_.app_url);
  pqxx::work admin(admin_connection);
  admin.exec_params("SELECT 1 FROM devices WHERE serial = $1 FOR UPDATE", device);
  admin.exec_params(
      "UPDATE devices SET state = 'decommissioned', decommissioned_at = now() WHERE serial = $1",
      device);
  Completions completions(1);
  writer->Submit(Enroll(1, "r1", 1, device), completions.Callback(0));
  WaitForLockWaiters(1);
  admin.commit();
  ExpectStatus(completions.Wait()[0], absl::StatusCode::kFailedPrecondition,
               "device: decommissioned");
  EXPECT_EQ(Snapshot(), before);
}

// Ten retries of one CompleteEnrollment (same request_id and challenge, fresh serials) on two
// writers (two replicas) at once: one certificate, and every other retry hears that the request
// completed. A used challenge's request_id is read again after its lock is granted, so none of
// them gets "challenge: already used".
TEST_F(IssuanceEnrollmentTest, RequestRetriedConcurrentlyIssuesOnce) {
  Seed(1);
  const std::string& device = acme_.device_serials[0];
  CreateChallenge(TestChallenge(1, device));
  std::unique_ptr<IssuanceWriter> writers[2] = {StartWriter(), StartWriter()};
  ASSERT_NE(writers[0], nullptr);
  ASSERT_NE(writers[1], nullptr);
  const Footprint before = Snapshot();

  constexpr size_t kRetries = 10;
  Completions completions(kRetries);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kRetries; ++i) {
    threads.emplace_back([&, i] {
      writers[i % 2]->Submit(Enroll(100 + i, "retried", 1, device), completions.Callback(i));
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<absl::Status> statuses = completions.Wait();
  size_t ok = 0;
  for (const absl::Status& status : statuses) {
    if (status.ok()) {
      ++ok;
    } else {
      ExpectStatus(status, absl::StatusCode::kAlreadyExists, "request_id: already completed");
    }
  }
  EXPECT_EQ(ok, 1u);
  EXPECT_EQ(Snapshot(), (Footprint{before.certificates + 1, 1, 1, 1, before.audit_rows + 1}));
  EXPECT_EQ(DeviceRepository(*pool_).Certificates(device)->size(), 1u);
}

// The same request_id for two devices on two writers: nothing locks both rows, so the second
// batch meets the first's enrollment only as a unique violation; its row is then retried alone and
// told precisely.
TEST_F(IssuanceEnrollmentTest, RequestIdStoredConcurrentlyElsewhereIsAlreadyExists) {
  Seed(2);
  CreateChallenge(TestChallenge(1, acme_.device_serials[0]));
  CreateChallenge(TestChallenge(2, acme_.device_serials[1]));
  std::unique_ptr<IssuanceWriter> first = StartWriter();
  std::unique_ptr<IssuanceWriter> second = StartWriter();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const Footprint before = Snapshot();

  pqxx::connection blocker_connection(database_.superuser_url);
  pqxx::work blocker(blocker_connection);
  blocker.exec("SELECT * FROM audit_head FOR UPDATE");
  Completions completions(2);
  first->Submit(Enroll(1, "shared", 1, acme_.device_serials[0]), completions.Callback(0));
  WaitForLockWaiters(1);  // the first batch has recorded "shared" and waits for the audit head
  second->Submit(Enroll(2, "shared", 2, acme_.device_serials[1]), completions.Callback(1));
  WaitForLockWaiters(2);  // the second waits for the first's enrollments row
  blocker.commit();
  const std::vector<absl::Status> statuses = completions.Wait();
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  ExpectStatus(statuses[1], absl::StatusCode::kAlreadyExists, "request_id: already completed");
  EXPECT_EQ(Snapshot(), (Footprint{before.certificates + 1, 1, 1, 1, before.audit_rows + 1}));
}

// Not an assertion on speed: prints the durable throughput of enrollment rows (challenge and
// device locked, challenge used, device enrolled, certificate, enrollment and audit event).
// Enrolling changes only a device's state, which no index covers: with room left on the device's
// page (migration 0007) PostgreSQL keeps the new version beside the old one (a HOT update: no
// index entries, a smaller WAL record) and the row stays in its block. Devices enroll in random
// order, a few per transaction, as group commit batches them.
TEST_F(IssuanceEnrollmentTest, EnrollingKeepsTheDeviceRowInItsBlock) {
  constexpr size_t kDevices = 600;
  constexpr size_t kPerBatch = 8;
  // Rows of a real device's size: about 1 KiB with its attestation certificate and chain.
  Seed(kDevices, 900);
  MakeChallenges(kDevices);
  const auto blocks = [&] {
    std::map<std::string, int64_t> block_of;
    const absl::Status status = pool_->RunTransaction("read blocks", [&](pqxx::work& tx) {
      for (const pqxx::row& row :
           tx.exec("SELECT serial, (ctid::text::point)[0]::bigint FROM devices "
                   "WHERE deployment = 'acme'")) {
        block_of[row[0].as<std::string>()] = row[1].as<int64_t>();
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return block_of;
  };
  const std::map<std::string, int64_t> before = blocks();
  ASSERT_EQ(before.size(), kDevices);

  std::vector<size_t> order(kDevices);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(20261129));
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  for (size_t start = 0; start < kDevices; start += kPerBatch) {
    std::vector<IssuanceWrite> batch;
    for (size_t k = start; k < std::min(kDevices, start + kPerBatch); ++k) {
      const size_t i = order[k];
      batch.push_back(Enroll(i, absl::StrCat("req-", i), i, acme_.device_serials[i]));
    }
    for (const absl::Status& status : SubmitAll(*writer, batch)) ASSERT_TRUE(status.ok()) << status;
  }

  const std::map<std::string, int64_t> after = blocks();
  size_t moved = 0;
  for (const auto& [serial, block] : before) moved += after.at(serial) != block;
  EXPECT_EQ(Count("SELECT count(*) FROM devices WHERE state = 'enrolled'"),
            static_cast<int64_t>(kDevices));
  // With pages packed full (fillfactor 100), 102 of the 600 moved; under bench/enroll, 59%.
  EXPECT_LE(moved, kDevices / 50) << moved << " of " << kDevices << " devices left their block";
}

TEST_F(IssuanceEnrollmentTest, ThroughputPrintout) {
  constexpr size_t kRows = 20'000;
  Seed(kRows);
  MakeChallenges(kRows);
  std::vector<IssuanceWrite> writes;
  writes.reserve(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    writes.push_back(Enroll(i, absl::StrCat("req-", i), i, acme_.device_serials[i]));
  }
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  Completions completions(kRows);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> submitters;
  for (size_t t = 0; t < 8; ++t) {
    submitters.emplace_back([&, t] {
      for (size_t i = t; i < kRows; i += 8) {
        writer->Submit(std::move(writes[i]), completions.Callback(i));
      }
    });
  }
  for (std::thread& submitter : submitters) submitter.join();
  const std::vector<absl::Status> statuses = completions.Wait();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const absl::Status& status : statuses) ASSERT_TRUE(status.ok()) << status;
  std::printf("issuance writer: %zu enrollments (700-byte DER) durably stored in %.2f s: %.0f/s\n",
              kRows, seconds, kRows / seconds);
  EXPECT_EQ(Count("SELECT count(*) FROM enrollments"), static_cast<int64_t>(kRows));
  EXPECT_EQ(Count("SELECT count(*) FROM devices WHERE state = 'enrolled'"),
            static_cast<int64_t>(kRows));
  EXPECT_TRUE(testing::VerifiedAuditLog(*pool_).ok());
}

}  // namespace
}  // namespace keyline::store
