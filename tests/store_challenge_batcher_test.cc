// ChallengeBatcher against PostgreSQL, as the service login: many BeginEnrollment look-ups at
// once, each answered as EnrollmentRepository::FindDeviceAndCreateChallenge answers one; a
// challenge id already taken fails only its own request; a lost connection is replaced.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <thread>
#include <vector>

#include "store/challenge_batcher.h"
#include "store/challenge_creation.h"
#include "store/connection_pool.h"
#include "store/device_repository.h"
#include "store/enrollment_repository.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::PostgresCluster;
using testing::TestChallenge;

using Result = absl::StatusOr<DeviceWithChallenge>;

class ChallengeBatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::MigratedStore> store = testing::CreateMigratedStore(2);
    ASSERT_TRUE(store.ok()) << store.status();
    database_ = store->database;
    pool_ = std::move(store->pool);
    absl::StatusOr<testing::EnrollmentWorld> world =
        testing::SeedEnrollmentWorld(*pool_, "acme", 3);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = *world;
    for (const std::string& serial : world_.device_serials) {
      absl::StatusOr<DeviceRecord> device = DeviceRepository(*pool_).Find(serial);
      ASSERT_TRUE(device.ok()) << device.status();
      key_hashes_.push_back(device->attestation_key_sha256);
    }
    absl::StatusOr<std::unique_ptr<ChallengeBatcher>> batcher =
        ChallengeBatcher::Start({.database_url = database_.app_url});
    ASSERT_TRUE(batcher.ok()) << batcher.status();
    batcher_ = *std::move(batcher);
  }

  // Submits and waits for the answer.
  Result Ask(ChallengeRequest request) {
    std::promise<Result> answer;
    batcher_->Submit(std::move(request), [&answer](Result result) { answer.set_value(result); });
    return answer.get_future().get();
  }

  int64_t Challenges() {
    absl::StatusOr<int64_t> count = testing::QueryCount(*pool_, "SELECT count(*) FROM challenges");
    EXPECT_TRUE(count.ok()) << count.status();
    return count.value_or(-1);
  }

  PostgresCluster::Database database_;
  std::unique_ptr<ConnectionPool> pool_;
  testing::EnrollmentWorld world_;
  std::vector<std::string> key_hashes_;
  std::unique_ptr<ChallengeBatcher> batcher_;
};

// 8 threads × 40 requests of three kinds: a device's own key (stored), another key (the device,
// nothing stored) and an unknown device (NotFound). Each answer is its own request's.
TEST_F(ChallengeBatcherTest, ConcurrentRequestsEachGetTheirOwnAnswer) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::future<Result>>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const uint64_t number = static_cast<uint64_t>(t * kPerThread + i + 1);
        const size_t device = number % world_.device_serials.size();
        ChallengeRequest request{TestChallenge(number, world_.device_serials[device]),
                                 key_hashes_[device]};
        if (i % 3 == 1) request.attestation_key_sha256 = std::string(32, 'x');
        if (i % 3 == 2)
          request.challenge.device_serial = "no-such-device-" + std::to_string(number);
        auto answer = std::make_shared<std::promise<Result>>();
        answers[t].push_back(answer->get_future());
        batcher_->Submit(std::move(request),
                         [answer](Result result) { answer->set_value(std::move(result)); });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  int64_t created = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const uint64_t number = static_cast<uint64_t>(t * kPerThread + i + 1);
      const Result result = answers[t][i].get();
      if (i % 3 == 2) {
        EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
        EXPECT_EQ(result.status().message(),
                  "device_serial: no device no-such-device-" + std::to_string(number));
        continue;
      }
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->device.device.serial,
                world_.device_serials[number % world_.device_serials.size()]);
      EXPECT_EQ(result->device.manufacturer.id, world_.manufacturer_id);
      EXPECT_EQ(result->challenge_created, i % 3 == 0) << number;
      if (result->challenge_created) {
        ++created;
        const absl::StatusOr<ChallengeRecord> stored =
            EnrollmentRepository(*pool_).FindChallenge(testing::TestChallengeId(number));
        ASSERT_TRUE(stored.ok()) << stored.status();
        EXPECT_EQ(stored->device_serial, result->device.device.serial);
      }
    }
  }
  EXPECT_EQ(Challenges(), created);
  EXPECT_EQ(created, kThreads * ((kPerThread + 2) / 3));
}

// Several requests in one statement, in order, as the repository's one-request form answers.
TEST_F(ChallengeBatcherTest, OneStatementAnswersEachRequestInOrder) {
  const ChallengeRequest stored{TestChallenge(1, world_.device_serials[2]), key_hashes_[2]};
  const ChallengeRequest unknown{TestChallenge(2, "no-such-device"), key_hashes_[0]};
  const ChallengeRequest other_key{TestChallenge(3, world_.device_serials[0]), key_hashes_[1]};
  const ChallengeRequest* const requests[] = {&stored, &unknown, &other_key};
  pqxx::connection connection(database_.app_url);
  pqxx::nontransaction transaction(connection);
  const std::vector<Result> results = FindDevicesAndCreateChallenges(transaction, requests);
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  EXPECT_EQ(results[0]->device.device.serial, world_.device_serials[2]);
  EXPECT_TRUE(results[0]->challenge_created);
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(results[2].ok()) << results[2].status();
  EXPECT_EQ(results[2]->device.device.serial, world_.device_serials[0]);
  EXPECT_FALSE(results[2]->challenge_created);
  EXPECT_EQ(Challenges(), 1);
}

TEST_F(ChallengeBatcherTest, ATakenIdFailsOnlyItsOwnRequest) {
  ASSERT_TRUE(EnrollmentRepository(*pool_)
                  .CreateChallenge(TestChallenge(1, world_.device_serials[0]))
                  .ok());
  // Submitted from the batcher's own thread, while it answers the first request, the next two
  // queue together and go in one statement, which the taken id fails as a whole.
  std::promise<Result> taken;
  std::promise<Result> fresh;
  const ChallengeRequest opener{TestChallenge(2, world_.device_serials[1]), key_hashes_[1]};
  const Result first = [&] {
    std::promise<Result> answer;
    batcher_->Submit(opener, [&](Result result) {
      batcher_->Submit({TestChallenge(1, world_.device_serials[2]), key_hashes_[2]},
                       [&taken](Result r) { taken.set_value(std::move(r)); });
      batcher_->Submit({TestChallenge(3, world_.device_serials[2]), key_hashes_[2]},
                       [&fresh](Result r) { fresh.set_value(std::move(r)); });
      answer.set_value(std::move(result));
    });
    return answer.get_future().get();
  }();
  ASSERT_TRUE(first.ok()) << first.status();
  const Result taken_result = taken.get_future().get();
  EXPECT_EQ(taken_result.status().code(), absl::StatusCode::kAlreadyExists)
      << taken_result.status();
  EXPECT_EQ(taken_result.status().message(), "challenge.id: a challenge with this id exists");
  const Result fresh_result = fresh.get_future().get();
  ASSERT_TRUE(fresh_result.ok()) << fresh_result.status();
  EXPECT_TRUE(fresh_result->challenge_created);
  EXPECT_EQ(Challenges(), 3);  // 1 (already there), 2 and 3
}

TEST_F(ChallengeBatcherTest, ABadRequestIsRefusedBeforeSubmitReturnsAndStoresNothing) {
  ChallengeRequest short_nonce{TestChallenge(1, world_.device_serials[0]), key_hashes_[0]};
  short_nonce.challenge.nonce.resize(31);
  std::optional<Result> answer;
  batcher_->Submit(short_nonce, [&answer](Result result) { answer = std::move(result); });
  ASSERT_TRUE(answer.has_value());  // before Submit returned, on this thread
  EXPECT_EQ(answer->status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(answer->status().message(), "challenge.nonce: must be 32 bytes, not 31");
  EXPECT_EQ(Challenges(), 0);
}

TEST_F(ChallengeBatcherTest, ALostConnectionIsReplacedForTheNextBatch) {
  ASSERT_TRUE(Ask({TestChallenge(1, world_.device_serials[0]), key_hashes_[0]}).ok());
  {
    pqxx::connection superuser(database_.superuser_url);
    pqxx::work tx(superuser);
    const pqxx::result killed = tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND usename = 'keyline_app'");
    tx.commit();
    ASSERT_GE(killed.size(), 1u);
  }
  // The batch that finds the connection dead fails as a whole, and says so.
  const Result during = Ask({TestChallenge(2, world_.device_serials[0]), key_hashes_[0]});
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable) << during.status();
  const Result after = Ask({TestChallenge(3, world_.device_serials[0]), key_hashes_[0]});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->challenge_created);
}

}  // namespace
}  // namespace keyline::store
