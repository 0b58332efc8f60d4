#include "store/issuance_writer.h"

#include <functional>
#include <optional>
#include <pqxx/connection>
#include <pqxx/result>
#include <pqxx/transaction>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "common/logging.h"
#include "store/batch_worker.h"
#include "store/connection_pool.h"
#include "store/issuance_batch.h"
#include "store/store_errors.h"

namespace keyline::store {
namespace {

class IssuanceWriterImpl final : public IssuanceWriter {
 public:
  IssuanceWriterImpl(IssuanceWriterOptions options, std::unique_ptr<pqxx::connection> connection)
      : options_(std::move(options)),
        connection_(std::move(connection)),
        worker_(
            "issuance writer", "issuance_callback_threw", options_.max_batch, options_.max_queue,
            [this](std::span<const IssuanceWrite* const> writes) { return WriteBatch(writes); },
            options_.group_commit_wait, options_.group_commit_target) {}

  void Submit(IssuanceWrite write, std::function<void(absl::Status)> done) override {
    if (absl::Status status = ValidateIssuanceWrite(write); !status.ok()) {
      done(std::move(status));
      return;
    }
    worker_.Submit(std::move(write), std::move(done));
  }

 private:
  // Writes `writes` in one transaction; one status per row. If the transaction fails for a reason
  // that a single row can cause (a constraint, bad data, a serial or request_id stored
  // concurrently), each row is retried alone, in order, so only the rows at fault fail.
  std::vector<absl::Status> WriteBatch(std::span<const IssuanceWrite* const> writes) {
    absl::StatusOr<std::vector<absl::Status>> statuses = WriteTransaction(writes);
    // A deadlock or serialization failure rolled everything back: once more is the remedy.
    if (statuses.status().code() == absl::StatusCode::kAborted) {
      statuses = WriteTransaction(writes);
    }
    if (statuses.ok()) return *std::move(statuses);
    const absl::StatusCode code = statuses.status().code();
    // A unique violation is what a concurrent transaction storing the same serial or request_id
    // looks like; retried, even alone, the row's look-ups see the committed one and name it.
    if ((writes.size() == 1 && code != absl::StatusCode::kAlreadyExists) ||
        code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kUnknown ||
        code == absl::StatusCode::kAborted) {
      return std::vector<absl::Status>(writes.size(), statuses.status());
    }
    std::vector<absl::Status> one_by_one;
    one_by_one.reserve(writes.size());
    for (const IssuanceWrite* write : writes) {
      absl::StatusOr<std::vector<absl::Status>> single = WriteTransaction({&write, 1});
      one_by_one.push_back(single.ok() ? (*single)[0] : single.status());
    }
    return one_by_one;
  }

  absl::StatusOr<std::vector<absl::Status>> WriteTransaction(
      std::span<const IssuanceWrite* const> writes) {
    static constexpr std::string_view kContext = "store issued certificates";
    std::optional<pqxx::work> transaction;
    for (int attempt = 0; !transaction; ++attempt) {
      if (!connection_) {
        absl::StatusOr<std::unique_ptr<pqxx::connection>> fresh =
            OpenKeyLookupConnection(options_.database_url);
        if (!fresh.ok()) return fresh.status();
        connection_ = *std::move(fresh);
      }
      try {
        transaction.emplace(*connection_);
      } catch (...) {
        absl::Status status = MapCurrentException(kContext);
        connection_.reset();
        // BEGIN failed, so nothing ran: a connection the server closed since the last batch
        // (a restart) is worth replacing once.
        if (attempt > 0 || status.code() != absl::StatusCode::kUnavailable) return status;
      }
    }
    std::vector<absl::Status> statuses;
    try {
      absl::StatusOr<std::vector<absl::Status>> stored = StoreIssuances(*transaction, writes);
      if (!stored.ok()) {
        transaction.reset();  // rolls back; never throws
        return stored.status();
      }
      statuses = *std::move(stored);
      transaction->commit();
      return statuses;
    } catch (...) {
      absl::Status status = MapCurrentException(kContext);
      const bool lost = !connection_->is_open() ||
                        status.code() == absl::StatusCode::kUnavailable ||
                        status.code() == absl::StatusCode::kUnknown;
      transaction.reset();
      if (lost) connection_.reset();
      if (status.code() == absl::StatusCode::kUnknown && !statuses.empty()) {
        return ResolveInDoubt(writes, std::move(statuses), std::move(status));
      }
      return status;
    }
  }

  // The connection broke during COMMIT. The transaction was atomic, so looking up the serials it
  // inserted on a new connection tells whether it committed. Without a connection the outcome
  // stays unknown.
  absl::StatusOr<std::vector<absl::Status>> ResolveInDoubt(
      std::span<const IssuanceWrite* const> writes, std::vector<absl::Status> statuses,
      absl::Status in_doubt) {
    std::string serials_hex = "{";
    int64_t inserted = 0;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (!statuses[i].ok()) continue;
      if (inserted++ > 0) serials_hex += ',';
      serials_hex += HexEncode(writes[i]->certificate.serial);
    }
    serials_hex += '}';
    if (inserted == 0) return statuses;  // nothing was inserted either way
    absl::StatusOr<std::unique_ptr<pqxx::connection>> fresh =
        OpenKeyLookupConnection(options_.database_url);
    if (!fresh.ok()) return in_doubt;
    try {
      pqxx::read_transaction check(**fresh);
      const int64_t found = check
                                .exec_params1(
                                    "SELECT count(*) FROM certificates WHERE serial = ANY "
                                    "(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)",
                                    serials_hex)[0]
                                .as<int64_t>();
      connection_ = *std::move(fresh);
      if (found == 0) {
        return absl::UnavailableError("connection lost during COMMIT; the batch was not stored");
      }
      // Another writer may have stored some of these serials since, so only all of them proves
      // that this batch committed.
      if (found != inserted) return in_doubt;
      LogEvent(spdlog::level::warn, "issuance_commit_in_doubt_resolved", {{"stored", found}});
      return statuses;
    } catch (...) {
      return in_doubt;
    }
  }

  const IssuanceWriterOptions options_;
  std::unique_ptr<pqxx::connection> connection_;  // used by the writer thread only
  BatchWorker<IssuanceWrite, absl::Status> worker_;  // last: destroyed first, draining the queue
};

}  // namespace

absl::StatusOr<std::unique_ptr<IssuanceWriter>> IssuanceWriter::Start(
    const IssuanceWriterOptions& options) {
  if (options.max_batch == 0) return absl::InvalidArgumentError("max_batch: must be > 0");
  if (options.max_queue == 0) return absl::InvalidArgumentError("max_queue: must be > 0");
  if (options.group_commit_wait.count() < 0) {
    return absl::InvalidArgumentError("group_commit_wait: must be >= 0");
  }
  if (options.group_commit_target == 0 || options.group_commit_target > options.max_batch) {
    return absl::InvalidArgumentError("group_commit_target: must be 1 to max_batch");
  }
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection =
      OpenKeyLookupConnection(options.database_url);
  if (!connection.ok()) return connection.status();
  return std::make_unique<IssuanceWriterImpl>(options, *std::move(connection));
}

}  // namespace keyline::store
