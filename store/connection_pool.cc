#include "store/connection_pool.h"

#include "absl/strings/str_cat.h"
#include "store/store_errors.h"

namespace keyline::store {

absl::StatusOr<std::unique_ptr<pqxx::connection>> OpenConnection(const std::string& database_url) {
  try {
    return std::make_unique<pqxx::connection>(database_url);
  } catch (...) {
    absl::Status status = MapCurrentException("connect to the database");
    // Whatever went wrong while connecting, the caller can only retry later.
    if (status.code() != absl::StatusCode::kUnavailable) {
      status = absl::UnavailableError(status.message());
    }
    return status;
  }
}

void UseKeyLookupPlans(pqxx::connection& connection) {
  pqxx::nontransaction session(connection);
  session.exec0("SET enable_seqscan = off");
  // With sequential scans off, a table that has no other path (audit_head) is costed above
  // jit_above_cost, and PostgreSQL JIT-compiled that one-row look-up on every batch: ~150 ms.
  session.exec0("SET jit = off");
  session.exec0("SET plan_cache_mode = force_generic_plan");
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> OpenKeyLookupConnection(
    const std::string& database_url) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = OpenConnection(database_url);
  if (!connection.ok()) return connection.status();
  try {
    UseKeyLookupPlans(**connection);
  } catch (...) {
    return MapCurrentException("set up a connection for key look-ups");
  }
  return connection;
}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      connection_(std::move(other.connection_)),
      broken_(other.broken_) {}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(connection_), broken_);
}

absl::Status ConnectionPool::Lease::Reconnect() {
  connection_.reset();
  absl::StatusOr<std::unique_ptr<pqxx::connection>> fresh = OpenConnection(pool_->database_url());
  if (!fresh.ok()) {
    broken_ = true;
    return fresh.status();
  }
  connection_ = *std::move(fresh);
  broken_ = false;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Create(
    ConnectionPoolOptions options) {
  if (options.size == 0) return absl::InvalidArgumentError("connection pool size: must be > 0");
  absl::StatusOr<std::unique_ptr<pqxx::connection>> first = OpenConnection(options.database_url);
  if (!first.ok()) return first.status();
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool(std::move(options)));
  pool->idle_.push_back(*std::move(first));
  pool->open_ = 1;
  return pool;
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire() {
  std::unique_lock lock(mutex_);
  const bool available =
      returned_.wait_for(lock, absl::ToChronoMilliseconds(options_.acquire_timeout),
                         [this] { return !idle_.empty() || open_ < options_.size; });
  if (!available) {
    return absl::UnavailableError(
        absl::StrCat("all ", options_.size, " database connections are busy"));
  }
  if (!idle_.empty()) {
    std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  // Connect outside the lock: it takes a round trip or more.
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection =
      OpenConnection(options_.database_url);
  if (!connection.ok()) {
    Return(nullptr, /*broken=*/true);
    return connection.status();
  }
  return Lease(this, *std::move(connection));
}

void ConnectionPool::Return(std::unique_ptr<pqxx::connection> connection, bool broken) {
  {
    std::lock_guard lock(mutex_);
    if (broken || connection == nullptr || !connection->is_open()) {
      --open_;  // the slot is free; the next Acquire opens a new connection
    } else {
      idle_.push_back(std::move(connection));
    }
  }
  returned_.notify_one();
  // A broken connection is closed here, outside the lock, when `connection` goes out of scope.
}

namespace {

// One body in a Transaction (pqxx::work or pqxx::nontransaction) on a leased connection, with the
// error handling both share.
template <typename Transaction>
absl::Status RunIn(ConnectionPool::Lease& lease, std::string_view context,
                   absl::FunctionRef<absl::Status(Transaction&)> body) {
  for (int attempt = 0;; ++attempt) {
    std::optional<Transaction> transaction;
    try {
      transaction.emplace(lease.connection());
    } catch (...) {
      absl::Status status = MapCurrentException(context);
      // BEGIN failed, so nothing ran: after a server restart an idle connection is stale, and
      // one fresh connection is worth a try.
      if (status.code() == absl::StatusCode::kUnavailable && attempt == 0) {
        if (absl::Status reconnected = lease.Reconnect(); reconnected.ok()) continue;
      }
      lease.MarkBroken();
      return status;
    }
    try {
      absl::Status status = body(*transaction);
      if (!status.ok()) {
        // The destructor rolls back and never throws, so the body's status is what the caller
        // sees even if the connection died meanwhile.
        transaction.reset();
        return status;
      }
      transaction->commit();
      return status;
    } catch (...) {
      absl::Status status = MapCurrentException(context);
      if (!lease.connection().is_open() || status.code() == absl::StatusCode::kUnavailable ||
          status.code() == absl::StatusCode::kUnknown) {
        lease.MarkBroken();
      }
      return status;
    }
  }
}

}  // namespace

absl::Status ConnectionPool::RunTransaction(std::string_view context,
                                            absl::FunctionRef<absl::Status(pqxx::work&)> body) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  return RunIn<pqxx::work>(*lease, context, body);
}

absl::Status ConnectionPool::RunStatement(
    std::string_view context, absl::FunctionRef<absl::Status(pqxx::nontransaction&)> body) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  return RunIn<pqxx::nontransaction>(*lease, context, body);
}

}  // namespace keyline::store
