// StatusSync (server/status_sync.cc) against PostgreSQL: notifications that arrive while it waits
// out its minimum gap between reads are read together from the earliest notifying transaction's
// start, so a transaction that began before another but committed after it is never lost. The
// periodic resync is an hour away here: every revocation must come from a notification.
#include "server/status_sync.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/certificate_status_index.h"
#include "store/ca_repository.h"
#include "store/certificate_repository.h"
#include "store/certificate_status_feed.h"
#include "store/connection_pool.h"
#include "store/sql_text.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::server {
namespace {

using testing::PostgresCluster;

constexpr char kAdmin[] = "urn:keyline:role:admin:alice";

// Revocations the sync reported, for the test thread to wait on.
class RevokedSerials {
 public:
  void Add(const std::string& serial) {
    std::lock_guard lock(mutex_);
    serials_.insert(serial);
    changed_.notify_all();
  }
  // True when every one of `serials` was reported within `timeout`.
  bool WaitFor(const std::set<std::string>& serials, absl::Duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
      for (const std::string& serial : serials) {
        if (!serials_.contains(serial)) return false;
      }
      return true;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> serials_;
};

// A revocation left open: its transaction (and so its now(), the notification's time and the
// row's revoked_at) starts here; Commit makes it visible and sends the notification.
class OpenRevocation {
 public:
  OpenRevocation(const std::string& url, const std::string& serial)
      : connection_(url), transaction_(connection_) {
    transaction_.exec_params(
        "UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 1 "
        "WHERE serial = $1::bytea",
        store::ByteaParam(serial));
    store::NotifyCertificatesChanged(transaction_);
  }
  void Commit() { transaction_.commit(); }

 private:
  pqxx::connection connection_;
  pqxx::work transaction_;
};

// A migrated database of its own, the service's pool on it, and a deployment CA row.
class StatusSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresCluster*> cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *cluster;
    absl::StatusOr<testing::MigratedStore> store = testing::CreateMigratedStore();
    ASSERT_TRUE(store.ok()) << store.status();
    database_ = store->database;
    pool_ = std::move(store->pool);
    const store::CaRecord ca = testing::TestCa("deployment/acme");
    absl::StatusOr<int32_t> ca_id = store::CaRepository(*pool_).Insert(
        ca, {kAdmin, "ca.created", ca.name, nlohmann::json::object()});
    ASSERT_TRUE(ca_id.ok()) << ca_id.status();
    ca_id_ = *ca_id;
  }

  // A sync an hour from its periodic resync, reporting to `revoked` the revocations it reads as
  // changes (not those of its first full read).
  absl::StatusOr<std::unique_ptr<StatusSync>> StartSync(
      CertificateStatusIndex& index, RevokedSerials& revoked,
      absl::Duration resync_interval = absl::Hours(1)) {
    return StatusSync::Start(
        *pool_, index,
        [&revoked](const store::CertificateStatusRow& row, CertificateStatusIndex::Change change,
                   bool initial) {
          if (change == CertificateStatusIndex::Change::kRevoked && !initial) {
            revoked.Add(row.serial);
          }
        },
        resync_interval);
  }

  PostgresCluster* cluster_ = nullptr;
  PostgresCluster::Database database_;
  std::unique_ptr<store::ConnectionPool> pool_;
  int32_t ca_id_ = 0;
};

TEST_F(StatusSyncTest, AnEarlierTransactionCommittedInsideTheReadGapIsNotLost) {
  // Rounds with the late commit at different distances from the one before it, so that in most
  // of them both notifications fall inside one read gap (20 ms) but arrive one at a time.
  constexpr int kRounds = 8;
  std::vector<std::string> serials;
  for (int i = 0; i < 3 * kRounds; ++i) {
    serials.push_back(testing::TestSerial(60, static_cast<uint64_t>(i)));
    ASSERT_TRUE(store::CertificateRepository(*pool_)
                    .InsertWithAudit(testing::TestIssuance(ca_id_, serials.back()))
                    .ok());
  }

  CertificateStatusIndex index;
  RevokedSerials revoked;
  absl::StatusOr<std::unique_ptr<StatusSync>> sync = StartSync(index, revoked);
  ASSERT_TRUE(sync.ok()) << sync.status();

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    const std::string& early = serials[3 * round];
    const std::string& trigger = serials[3 * round + 1];
    const std::string& late = serials[3 * round + 2];
    // Started in this order, so early's time < trigger's < late's.
    OpenRevocation early_revocation(database_.app_url, early);
    absl::SleepFor(absl::Milliseconds(2));
    OpenRevocation trigger_revocation(database_.app_url, trigger);
    absl::SleepFor(absl::Milliseconds(2));
    OpenRevocation late_revocation(database_.app_url, late);
    // The trigger makes the sync read now; the late one arrives during or just after that read,
    // the early one a little later, inside the gap the sync keeps between reads. Reading only
    // from the late one's time would skip the early revocation until the resync.
    trigger_revocation.Commit();
    absl::SleepFor(absl::Milliseconds(1));
    late_revocation.Commit();
    absl::SleepFor(absl::Milliseconds(1 + 2 * round));
    early_revocation.Commit();
    EXPECT_TRUE(revoked.WaitFor({early, trigger, late}, absl::Seconds(3)))
        << "a revocation was not read after its notification";
  }
}

// The listener's connection is lost (a failover, a network cut), and a revocation commits before it
// is back: its notification went nowhere. The full read after reconnecting finds it, and must
// report it as a change, not as part of a first load: the OCSP responder drops its cached answers
// only for changes, and would otherwise keep signing `good` until the answer's refresh.
TEST_F(StatusSyncTest, ARevocationMissedWhileTheListenerWasDownIsReportedAsAChange) {
  const std::string serial = testing::TestSerial(61, 1);
  ASSERT_TRUE(store::CertificateRepository(*pool_)
                  .InsertWithAudit(testing::TestIssuance(ca_id_, serial))
                  .ok());

  CertificateStatusIndex index;
  RevokedSerials revoked;
  absl::StatusOr<std::unique_ptr<StatusSync>> sync = StartSync(index, revoked);
  ASSERT_TRUE(sync.ok()) << sync.status();

  {
    // Revoked without a notification: the one sent while the listener is down is lost anyway.
    pqxx::connection connection(database_.app_url);
    pqxx::work transaction(connection);
    transaction.exec_params(
        "UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 1 "
        "WHERE serial = $1::bytea",
        store::ByteaParam(serial));
    transaction.commit();
  }
  // The listener's session is the one whose last statement was its "SELECT 1" (Connect).
  ASSERT_TRUE(cluster_
                  ->ExecuteAsSuperuser(database_.name,
                                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = current_database() AND query = 'SELECT 1' "
                                       "AND pid <> pg_backend_pid()")
                  .ok());
  EXPECT_TRUE(revoked.WaitFor({serial}, absl::Seconds(10)))
      << "the revocation found after reconnecting was not reported as a change";
}

// While the service role cannot reach the database (here: CONNECT revoked on it and its sessions
// ended), the sync is out of step within its window (3 s for a 1 s resync), and in step again
// once it can.
TEST_F(StatusSyncTest, IsOutOfStepWhileTheDatabaseIsUnreachableAndBackInStepAfter) {
  CertificateStatusIndex index;
  RevokedSerials revoked;
  absl::StatusOr<std::unique_ptr<StatusSync>> sync = StartSync(index, revoked, absl::Seconds(1));
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_TRUE((*sync)->InStep(absl::Now()));
  const auto wait_until = [&](bool in_step) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while ((*sync)->InStep(absl::Now()) != in_step && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    return (*sync)->InStep(absl::Now()) == in_step;
  };

  ASSERT_TRUE(cluster_
                  ->ExecuteAsSuperuser(database_.name,
                                       "REVOKE CONNECT ON DATABASE \"" + database_.name +
                                           "\" FROM PUBLIC; "
                                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                           "WHERE datname = current_database() AND "
                                           "pid <> pg_backend_pid()")
                  .ok());
  EXPECT_TRUE(wait_until(false)) << "still in step with the database unreachable";
  ASSERT_TRUE(cluster_
                  ->ExecuteAsSuperuser(database_.name, "GRANT CONNECT ON DATABASE \"" +
                                                           database_.name + "\" TO PUBLIC")
                  .ok());
  EXPECT_TRUE(wait_until(true)) << "not back in step once the database is reachable";
}

}  // namespace
}  // namespace keyline::server
