#include "store/challenge_batcher.h"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <span>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "store/batch_worker.h"
#include "store/connection_pool.h"
#include "store/store_errors.h"

namespace keyline::store {
namespace {

struct Pending {
  ChallengeRequest request;
  ChallengeBatcher::Done done;
};

class ChallengeBatcherImpl final : public ChallengeBatcher {
 public:
  ChallengeBatcherImpl(ChallengeBatcherOptions options,
                       std::unique_ptr<pqxx::connection> connection)
      : options_(std::move(options)),
        connection_(std::move(connection)),
        worker_("challenge batcher", options_.max_batch, options_.max_queue,
                [this](std::vector<Pending>& batch) { Process(batch); }) {}

  void Submit(ChallengeRequest request, Done done) override {
    if (absl::Status status = ValidateChallenge(request.challenge); !status.ok()) {
      done(std::move(status));
      return;
    }
    Pending pending{std::move(request), std::move(done)};
    if (absl::Status status = worker_.Submit(std::move(pending)); !status.ok()) {
      pending.done(std::move(status));
    }
  }

 private:
  void Process(std::vector<Pending>& batch) {
    std::vector<const ChallengeRequest*> requests;
    requests.reserve(batch.size());
    for (const Pending& pending : batch) requests.push_back(&pending.request);
    std::vector<absl::StatusOr<DeviceWithChallenge>> results = Run(requests);
    // The statement failed as a whole for a reason one request can cause (a challenge id already
    // stored): each request alone, so only the one at fault fails.
    if (batch.size() > 1 && results[0].status().code() == absl::StatusCode::kAlreadyExists) {
      for (size_t i = 0; i < requests.size(); ++i)
        results[i] = std::move(Run({&requests[i], 1})[0]);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      try {
        batch[i].done(std::move(results[i]));
      } catch (...) {
        LogEvent(spdlog::level::err, "challenge_callback_threw");
      }
    }
  }

  // One result per request; a failed statement gives every request its status.
  std::vector<absl::StatusOr<DeviceWithChallenge>> Run(
      std::span<const ChallengeRequest* const> requests) {
    absl::Status failed;
    if (!connection_) {
      absl::StatusOr<std::unique_ptr<pqxx::connection>> fresh =
          OpenKeyLookupConnection(options_.database_url);
      if (fresh.ok()) {
        connection_ = *std::move(fresh);
      } else {
        failed = fresh.status();
      }
    }
    if (failed.ok()) {
      try {
        pqxx::nontransaction transaction(*connection_);
        return FindDevicesAndCreateChallenges(transaction, requests);
      } catch (...) {
        failed = MapCurrentException("find devices and create challenges");
        if (failed.code() == absl::StatusCode::kAlreadyExists) {
          failed = absl::AlreadyExistsError("challenge.id: a challenge with this id exists");
        }
        if (!connection_->is_open() || failed.code() == absl::StatusCode::kUnavailable) {
          connection_.reset();
        }
      }
    }
    return std::vector<absl::StatusOr<DeviceWithChallenge>>(requests.size(), failed);
  }

  const ChallengeBatcherOptions options_;
  std::unique_ptr<pqxx::connection> connection_;  // used by the worker's thread only
  BatchWorker<Pending> worker_;                   // last: destroyed first, draining the queue
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
