#include "store/challenge_batcher.h"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <span>
#include <utility>
#include <vector>

#include "store/batch_worker.h"
#include "store/connection_pool.h"
#include "store/store_errors.h"

namespace keyline::store {
namespace {

using Result = absl::StatusOr<DeviceWithChallenge>;

class ChallengeBatcherImpl final : public ChallengeBatcher {
 public:
  ChallengeBatcherImpl(ChallengeBatcherOptions options,
                       std::unique_ptr<pqxx::connection> connection)
      : options_(std::move(options)),
        connection_(std::move(connection)),
        worker_("challenge batcher", "challenge_callback_threw", options_.max_batch,
                options_.max_queue, [this](std::span<const ChallengeRequest* const> requests) {
                  return Answer(requests);
                }) {}

  void Submit(ChallengeRequest request, Done done) override {
    if (absl::Status status = ValidateChallenge(request.challenge); !status.ok()) {
      done(std::move(status));
      return;
    }
    worker_.Submit(std::move(request), std::move(done));
  }

 private:
  // One result per request. If the statement fails for a reason one request can cause (a
  // challenge id already stored), each request is run alone, so only the one at fault fails.
  std::vector<Result> Answer(std::span<const ChallengeRequest* const> requests) {
    absl::StatusOr<std::vector<Result>> results = Run(requests);
    if (results.ok()) return *std::move(results);
    if (requests.size() == 1 || !absl::IsAlreadyExists(results.status())) {
      return std::vector<Result>(requests.size(), results.status());
    }
    std::vector<Result> one_by_one;
    one_by_one.reserve(requests.size());
    for (const ChallengeRequest* request : requests) {
      absl::StatusOr<std::vector<Result>> single = Run({&request, 1});
      one_by_one.push_back(single.ok() ? std::move((*single)[0]) : Result(single.status()));
    }
    return one_by_one;
  }

  // The statement for `requests`; a failed statement (or connection) is the error.
  absl::StatusOr<std::vector<Result>> Run(std::span<const ChallengeRequest* const> requests) {
    if (!connection_) {
      absl::StatusOr<std::unique_ptr<pqxx::connection>> fresh =
          OpenKeyLookupConnection(options_.database_url);
      if (!fresh.ok()) return fresh.status();
      connection_ = *std::move(fresh);
    }
    try {
      pqxx::nontransaction transaction(*connection_);
      return FindDevicesAndCreateChallenges(transaction, requests);
    } catch (...) {
      absl::Status failed =
          NameTakenChallengeId(MapCurrentException("find devices and create challenges"));
      // Opened again for the next batch.
      if (!connection_->is_open() || absl::IsUnavailable(failed)) connection_.reset();
      return failed;
    }
  }

  const ChallengeBatcherOptions options_;
  std::unique_ptr<pqxx::connection> connection_;  // used by the worker's thread only
  BatchWorker<ChallengeRequest, Result> worker_;  // last: destroyed first, draining the queue
};

}  // namespace

absl::StatusOr<std::unique_ptr<ChallengeBatcher>> ChallengeBatcher::Start(
    const ChallengeBatcherOptions& options) {
  if (options.max_batch == 0) return absl::InvalidArgumentError("max_batch: must be > 0");
  if (options.max_queue == 0) return absl::InvalidArgumentError("max_queue: must be > 0");
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection =
      OpenKeyLookupConnection(options.database_url);
  if (!connection.ok()) return connection.status();
  return std::make_unique<ChallengeBatcherImpl>(options, *std::move(connection));
}

}  // namespace keyline::store
