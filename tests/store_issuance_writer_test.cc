// IssuanceWriter (group commit) against PostgreSQL: many threads, duplicates, bad rows among good
// ones, the database going away mid-run and coming back, and a throughput printout.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/audit_chain.h"
#include "store/audit_log_reader.h"
#include "store/ca_repository.h"
#include "store/certificate_repository.h"
#include "store/connection_pool.h"
#include "store/issuance_writer.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::Completions;
using testing::PostgresCluster;
using testing::TestIssuance;
using testing::TestSerial;

class IssuanceWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresCluster*> cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *cluster;
    absl::StatusOr<PostgresCluster::Database> database = CreateMigratedDatabase(*cluster_);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    ASSERT_TRUE(OpenPool().ok());
    absl::StatusOr<int32_t> ca = CaRepository(*pool_).Insert(
        testing::TestCa("deployment/acme"),
        {"system:test", "ca.created", "deployment/acme", nlohmann::json::object()});
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_id_ = *ca;
  }

  absl::Status OpenPool() {
    absl::StatusOr<std::unique_ptr<ConnectionPool>> pool =
        ConnectionPool::Create({.database_url = database_.app_url, .size = 2});
    if (!pool.ok()) return pool.status();
    pool_ = *std::move(pool);
    return absl::OkStatus();
  }

  std::unique_ptr<IssuanceWriter> StartWriter(size_t max_batch = 512) {
    absl::StatusOr<std::unique_ptr<IssuanceWriter>> writer =
        IssuanceWriter::Start({.database_url = database_.app_url, .max_batch = max_batch});
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? *std::move(writer) : nullptr;
  }

  // Checks the whole audit log: seq 1..N without gaps, every hash recomputed. Returns N.
  int64_t VerifyAuditLog() {
    absl::StatusOr<std::vector<AuditRow>> rows = AuditLogReader(*pool_).ReadRows(0, 10'000'000);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return -1;
    const absl::Status verified = VerifyAuditChain(*rows);
    EXPECT_TRUE(verified.ok()) << verified;
    const absl::StatusOr<AuditLogReader::Head> head = AuditLogReader(*pool_).ReadHead();
    EXPECT_TRUE(head.ok()) << head.status();
    if (head.ok()) {
      EXPECT_EQ(head->seq, static_cast<int64_t>(rows->size()));
      if (!rows->empty()) {
        EXPECT_EQ(head->row_hash, rows->back().row_hash);
      }
    }
    return static_cast<int64_t>(rows->size());
  }

  // Submits `count` rows with serials (namespace_byte, first..first+count) from `threads`
  // threads and waits for every callback.
  std::vector<absl::Status> SubmitFromThreads(IssuanceWriter& writer, uint8_t namespace_byte,
                                              size_t count, size_t threads) {
    Completions completions(count);
    std::vector<std::thread> submitters;
    for (size_t t = 0; t < threads; ++t) {
      submitters.emplace_back([&, t] {
        for (size_t i = t; i < count; i += threads) {
          writer.Submit(TestIssuance(ca_id_, TestSerial(namespace_byte, i)),
                        completions.Callback(i));
        }
      });
    }
    for (std::thread& submitter : submitters) submitter.join();
    return completions.Wait();
  }

  PostgresCluster* cluster_ = nullptr;
  PostgresCluster::Database database_;
  std::unique_ptr<ConnectionPool> pool_;
  int32_t ca_id_ = 0;
};

TEST_F(IssuanceWriterTest, EightThreadsFiveThousandRowsAllCommittedAndChained) {
  constexpr size_t kRows = 5000;
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  const std::vector<absl::Status> statuses = SubmitFromThreads(*writer, 1, kRows, 8);
  for (size_t i = 0; i < kRows; ++i) ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];

  CertificateRepository certificates(*pool_);
  EXPECT_EQ(*certificates.Count(), static_cast<int64_t>(kRows));
  absl::StatusOr<int64_t> distinct =
      pool_->WithTransaction("count", [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec1("SELECT count(DISTINCT serial) FROM certificates")[0].as<int64_t>();
      });
  EXPECT_EQ(*distinct, static_cast<int64_t>(kRows));
  const absl::StatusOr<CertificateRecord> sample = certificates.FindBySerial(TestSerial(1, 4321));
  ASSERT_TRUE(sample.ok()) << sample.status();
  EXPECT_EQ(sample->der, TestIssuance(ca_id_, TestSerial(1, 4321)).certificate.der);

  // One audit event per certificate plus the CA's, seq 1..N without gaps.
  EXPECT_EQ(VerifyAuditLog(), static_cast<int64_t>(kRows) + 1);
}

TEST_F(IssuanceWriterTest, DuplicateOrBadRowFailsAloneWhileItsBatchCommits) {
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  {
    Completions first(1);
    writer->Submit(TestIssuance(ca_id_, TestSerial(5, 1)), first.Callback(0));
    ASSERT_TRUE(first.Wait()[0].ok());
  }

  // Hold the audit head's lock so the writer stalls on its next batch, and queue the rows under
  // test behind it: they then form one batch when the lock is released.
  pqxx::connection blocker_connection(database_.superuser_url);
  pqxx::work blocker(blocker_connection);
  blocker.exec("SELECT * FROM audit_head FOR UPDATE");
  Completions stalled(1);
  writer->Submit(TestIssuance(ca_id_, TestSerial(5, 2)), stalled.Callback(0));
  {
    pqxx::connection observer(database_.superuser_url);
    for (;;) {  // until the writer waits for the lock; ctest's timeout catches a hang
      pqxx::nontransaction query(observer);
      if (query.exec1("SELECT count(*) FROM pg_locks WHERE NOT granted")[0].as<int>() > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  constexpr size_t kRows = 8;
  Completions batch(kRows);
  std::vector<IssuanceWrite> writes;
  for (uint64_t i = 10; i < 14; ++i) writes.push_back(TestIssuance(ca_id_, TestSerial(5, i)));
  writes.push_back(TestIssuance(ca_id_, TestSerial(5, 1)));   // [4] stored earlier
  writes.push_back(TestIssuance(ca_id_, TestSerial(5, 10)));  // [5] repeats [0] in this batch
  writes.push_back(TestIssuance(4242, TestSerial(5, 20)));    // [6] unknown issuer
  writes.push_back(TestIssuance(ca_id_, TestSerial(5, 21)));  // [7]
  for (size_t i = 0; i < kRows; ++i) writer->Submit(writes[i], batch.Callback(i));

  // Rejected on the caller's thread, before queueing.
  Completions invalid(1);
  writer->Submit(TestIssuance(ca_id_, std::string("\0\x01", 2)), invalid.Callback(0));
  EXPECT_EQ(invalid.Wait()[0].code(), absl::StatusCode::kInvalidArgument);

  blocker.commit();
  EXPECT_TRUE(stalled.Wait()[0].ok());
  const std::vector<absl::Status> statuses = batch.Wait();
  for (size_t i : {0, 1, 2, 3, 7}) EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
  EXPECT_EQ(statuses[4].code(), absl::StatusCode::kAlreadyExists) << statuses[4];
  EXPECT_EQ(statuses[5].code(), absl::StatusCode::kAlreadyExists) << statuses[5];
  EXPECT_EQ(statuses[6].code(), absl::StatusCode::kFailedPrecondition) << statuses[6];

  CertificateRepository certificates(*pool_);
  EXPECT_EQ(*certificates.Count(), 2 + 5);
  // The first row with serial 10 is the one stored.
  EXPECT_EQ(certificates.FindBySerial(TestSerial(5, 10))->der, writes[0].certificate.der);
  EXPECT_EQ(certificates.FindBySerial(TestSerial(5, 1))->der,
            TestIssuance(ca_id_, TestSerial(5, 1)).certificate.der);
  EXPECT_EQ(VerifyAuditLog(), 1 + 2 + 5);
}

TEST_F(IssuanceWriterTest, DatabaseStoppedMidRunFailsCallbacksAndRecovers) {
  std::unique_ptr<IssuanceWriter> writer = StartWriter(/*max_batch=*/64);
  ASSERT_NE(writer, nullptr);
  constexpr size_t kBefore = 3000;
  constexpr size_t kAfter = 20;
  Completions completions(kBefore + kAfter);
  std::vector<std::string> serials;
  for (size_t i = 0; i < kBefore + kAfter; ++i) serials.push_back(TestSerial(6, i));

  std::thread submitter([&] {
    for (size_t i = 0; i < kBefore; ++i) {
      writer->Submit(TestIssuance(ca_id_, serials[i]), completions.Callback(i));
    }
  });
  // Stop while rows are still being submitted and written.
  ASSERT_TRUE(cluster_->Stop().ok());
  submitter.join();
  // The database is down now: these cannot be stored.
  for (size_t i = kBefore; i < kBefore + kAfter; ++i) {
    writer->Submit(TestIssuance(ca_id_, serials[i]), completions.Callback(i));
  }
  const std::vector<absl::Status> statuses = completions.Wait();
  ASSERT_TRUE(cluster_->Restart().ok());

  size_t ok = 0;
  size_t unavailable = 0;
  for (size_t i = 0; i < statuses.size(); ++i) {
    const absl::StatusCode code = statuses[i].code();
    EXPECT_TRUE(code == absl::StatusCode::kOk || code == absl::StatusCode::kUnavailable ||
                code == absl::StatusCode::kUnknown)
        << i << ": " << statuses[i];
    if (code == absl::StatusCode::kOk) ++ok;
    if (code == absl::StatusCode::kUnavailable) ++unavailable;
    if (i >= kBefore) {
      EXPECT_EQ(code, absl::StatusCode::kUnavailable) << i << ": " << statuses[i];
    }
  }
  std::printf("database stopped mid-run: %zu stored, %zu unavailable of %zu\n", ok, unavailable,
              statuses.size());

  // What was confirmed is durable; what was refused was not written.
  ASSERT_TRUE(OpenPool().ok());
  CertificateRepository certificates(*pool_);
  for (size_t i = 0; i < statuses.size(); ++i) {
    const absl::StatusCode found = certificates.FindBySerial(serials[i]).status().code();
    if (statuses[i].ok()) {
      EXPECT_EQ(found, absl::StatusCode::kOk) << i;
    }
    if (statuses[i].code() == absl::StatusCode::kUnavailable) {
      EXPECT_EQ(found, absl::StatusCode::kNotFound) << i;
    }
  }

  // The same writer reconnects for new submissions.
  const std::vector<absl::Status> after = SubmitFromThreads(*writer, 7, 100, 2);
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(after[i].ok()) << i << ": " << after[i];
  EXPECT_GE(VerifyAuditLog(), static_cast<int64_t>(1 + ok + 100));
}

TEST_F(IssuanceWriterTest, DestructorDrainsTheQueue) {
  constexpr size_t kRows = 2000;
  Completions completions(kRows);
  {
    std::unique_ptr<IssuanceWriter> writer = StartWriter(/*max_batch=*/100);
    ASSERT_NE(writer, nullptr);
    for (size_t i = 0; i < kRows; ++i) {
      writer->Submit(TestIssuance(ca_id_, TestSerial(8, i)), completions.Callback(i));
    }
  }
  for (const absl::Status& status : completions.Wait()) EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(*CertificateRepository(*pool_).Count(), static_cast<int64_t>(kRows));
}

TEST_F(IssuanceWriterTest, FullQueueIsResourceExhausted) {
  absl::StatusOr<std::unique_ptr<IssuanceWriter>> writer =
      IssuanceWriter::Start({.database_url = database_.app_url, .max_batch = 1, .max_queue = 1});
  ASSERT_TRUE(writer.ok()) << writer.status();
  // Stall the writer on the audit head so the queue cannot drain.
  pqxx::connection blocker_connection(database_.superuser_url);
  pqxx::work blocker(blocker_connection);
  blocker.exec("SELECT * FROM audit_head FOR UPDATE");
  constexpr size_t kRows = 5;
  Completions completions(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    (*writer)->Submit(TestIssuance(ca_id_, TestSerial(9, i)), completions.Callback(i));
  }
  // At most one row in flight and one queued; the rest were refused at once.
  blocker.commit();
  size_t exhausted = 0;
  for (const absl::Status& status : completions.Wait()) {
    if (status.code() == absl::StatusCode::kResourceExhausted) {
      ++exhausted;
    } else {
      EXPECT_TRUE(status.ok()) << status;
    }
  }
  EXPECT_GE(exhausted, kRows - 2);
}

TEST_F(IssuanceWriterTest, RowsShortOfTheGroupCommitTargetWaitAndCommitTogether) {
  constexpr size_t kRows = 3;
  Completions completions(kRows);
  {
    // Ten minutes: only reaching the target can end this wait within the test's time.
    absl::StatusOr<std::unique_ptr<IssuanceWriter>> writer =
        IssuanceWriter::Start({.database_url = database_.app_url,
                               .group_commit_wait = std::chrono::minutes(10),
                               .group_commit_target = kRows});
    ASSERT_TRUE(writer.ok()) << writer.status();
    (*writer)->Submit(TestIssuance(ca_id_, TestSerial(12, 0)), completions.Callback(0));
    // Without the wait, the writer would commit the first row alone meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (size_t i = 1; i < kRows; ++i) {
      (*writer)->Submit(TestIssuance(ca_id_, TestSerial(12, i)), completions.Callback(i));
    }
    for (const absl::Status& status : completions.Wait()) EXPECT_TRUE(status.ok()) << status;
  }
  pqxx::connection connection(database_.superuser_url);
  pqxx::nontransaction read(connection);
  const pqxx::row rows = read.exec1(
      "SELECT count(*), count(DISTINCT xmin::text) FROM certificates WHERE profile = 'device'");
  EXPECT_EQ(rows[0].as<int>(), static_cast<int>(kRows));
  EXPECT_EQ(rows[1].as<int>(), 1) << "the rows were committed by more than one transaction";
}

TEST_F(IssuanceWriterTest, GroupCommitSettingsOutOfRangeAreInvalid) {
  const auto start = [this](std::chrono::microseconds wait, size_t target) {
    return IssuanceWriter::Start({.database_url = database_.app_url,
                                  .max_batch = 16,
                                  .group_commit_wait = wait,
                                  .group_commit_target = target})
        .status();
  };
  const absl::Status negative_wait = start(std::chrono::microseconds(-1), 1);
  EXPECT_EQ(negative_wait.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(negative_wait.message(), "group_commit_wait: must be >= 0");
  for (const size_t target : {size_t{0}, size_t{17}}) {
    const absl::Status status = start(std::chrono::microseconds(100), target);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << target;
    EXPECT_EQ(status.message(), "group_commit_target: must be 1 to max_batch") << target;
  }
  EXPECT_TRUE(start(std::chrono::microseconds(100), 16).ok());
}

TEST_F(IssuanceWriterTest, UnreachableDatabaseAtStartIsUnavailable) {
  const auto writer = IssuanceWriter::Start(
      {.database_url = database_.app_url + " host=" + cluster_->directory() + "/nonexistent"});
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kUnavailable);
}

// Not an assertion on speed: prints the durable throughput so regressions are visible.
TEST_F(IssuanceWriterTest, ThroughputPrintout) {
  constexpr size_t kRows = 60'000;
  std::unique_ptr<IssuanceWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  std::vector<IssuanceWrite> writes;
  writes.reserve(kRows);
  for (size_t i = 0; i < kRows; ++i) writes.push_back(TestIssuance(ca_id_, TestSerial(10, i)));
  Completions completions(kRows);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> submitters;
  for (size_t t = 0; t < 8; ++t) {
    submitters.emplace_back([&, t] {
      for (size_t i = t; i < kRows; i += 8)
        writer->Submit(std::move(writes[i]), completions.Callback(i));
    });
  }
  for (std::thread& submitter : submitters) submitter.join();
  const std::vector<absl::Status> statuses = completions.Wait();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const absl::Status& status : statuses) ASSERT_TRUE(status.ok()) << status;
  std::printf("issuance writer: %zu certificates (700-byte DER) durably stored in %.2f s: %.0f/s\n",
              kRows, seconds, kRows / seconds);
  EXPECT_EQ(*CertificateRepository(*pool_).Count(), static_cast<int64_t>(kRows));
}

}  // namespace
}  // namespace keyline::store
