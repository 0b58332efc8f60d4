// A fixed-size pool of libpqxx connections to one database, and the transaction wrapper every
// repository uses.
//
// Connections are opened lazily, up to `size`. A connection that broke (or whose state is
// unknown after an error) is dropped when its lease ends and replaced by a new one on next use;
// a transaction whose BEGIN finds a connection the server has since closed is retried once on a
// fresh connection, since nothing of it ran.
//
// Thread safety: all methods may be called from any thread. The pool must outlive its leases.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::store {

struct ConnectionPoolOptions {
  std::string database_url;                            // libpq connection string or URI
  size_t size = 8;                                     // connections at most
  absl::Duration acquire_timeout = absl::Seconds(10);  // then Unavailable
};

class ConnectionPool {
 public:
  // A connection on loan; returned to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();

    pqxx::connection& connection() { return *connection_; }
    // Drop this connection instead of returning it (after an error that may have broken it).
    void MarkBroken() { broken_ = true; }
    // Replaces the connection with a fresh one now. Unavailable if that fails (the lease is
    // then broken).
    absl::Status Reconnect();

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<pqxx::connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}

    ConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> connection_;
    bool broken_ = false;
  };

  // Opens the first connection to check the URL: Unavailable when the database cannot be
  // reached, InvalidArgument for a size of 0.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ConnectionPool>> Create(
      ConnectionPoolOptions options);

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Waits up to acquire_timeout for an idle connection (opening one if the pool is not full).
  [[nodiscard]] absl::StatusOr<Lease> Acquire();

  // Runs `body` in a transaction (pqxx::work, READ COMMITTED) on a leased connection and commits
  // when it returns OK; rolls back and returns its status otherwise. Every exception from `body`
  // or libpqxx is caught and mapped by MapCurrentException(context).
  [[nodiscard]] absl::Status RunTransaction(std::string_view context,
                                            absl::FunctionRef<absl::Status(pqxx::work&)> body);

  // RunTransaction for bodies that return absl::Status or absl::StatusOr<T>; returns the same type.
  template <typename Fn>
  auto WithTransaction(std::string_view context, Fn&& body)
      -> std::invoke_result_t<Fn&, pqxx::work&>;

  // For one statement that needs no transaction around it (a lookup, a single INSERT): runs in
  // autocommit, one round trip where BEGIN/statement/COMMIT takes three. Same error handling.
  [[nodiscard]] absl::Status RunStatement(
      std::string_view context, absl::FunctionRef<absl::Status(pqxx::nontransaction&)> body);
  template <typename Fn>
  auto WithStatement(std::string_view context, Fn&& body)
      -> std::invoke_result_t<Fn&, pqxx::nontransaction&>;

  const std::string& database_url() const { return options_.database_url; }

 private:
  explicit ConnectionPool(ConnectionPoolOptions options) : options_(std::move(options)) {}
  void Return(std::unique_ptr<pqxx::connection> connection, bool broken);

  const ConnectionPoolOptions options_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mutex_
  size_t open_ = 0;                                      // open or being opened; by mutex_
};

// Opens one connection, mapping failure to Unavailable.
[[nodiscard]] absl::StatusOr<std::unique_ptr<pqxx::connection>> OpenConnection(
    const std::string& database_url);

// For a connection that runs only batched look-ups by key (`= ANY ($1::...[])`) as named prepared
// statements, such as the issuance writer's: sequential scans off, no JIT compilation, and
// prepared statements planned once, generically, rather than for each set of parameters. A plan
// cached while a table was small could otherwise be a sequential scan that stays once it is large
// (prepared_statement.h), and planning on every batch costs more than running the statements.
// Throws what libpqxx throws.
void UseKeyLookupPlans(pqxx::connection& connection);

// OpenConnection, then UseKeyLookupPlans; Unavailable (or the mapped error) on failure.
[[nodiscard]] absl::StatusOr<std::unique_ptr<pqxx::connection>> OpenKeyLookupConnection(
    const std::string& database_url);

namespace internal {

// Adapts a body returning absl::StatusOr<T> to one returning absl::Status, for Run*.
template <typename Transaction, typename Fn, typename Run>
auto RunReturning(Fn& body, Run&& run) -> std::invoke_result_t<Fn&, Transaction&> {
  using Result = std::invoke_result_t<Fn&, Transaction&>;
  if constexpr (std::is_same_v<Result, absl::Status>) {
    return run(body);
  } else {
    std::optional<typename Result::value_type> value;
    absl::Status status = run([&](Transaction& transaction) -> absl::Status {
      Result result = body(transaction);
      if (!result.ok()) return result.status();
      value.emplace(*std::move(result));
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return *std::move(value);
  }
}

}  // namespace internal

template <typename Fn>
auto ConnectionPool::WithTransaction(std::string_view context, Fn&& body)
    -> std::invoke_result_t<Fn&, pqxx::work&> {
  return internal::RunReturning<pqxx::work>(body, [&](auto&& run_body) {
    return RunTransaction(context, run_body);
  });
}

template <typename Fn>
auto ConnectionPool::WithStatement(std::string_view context, Fn&& body)
    -> std::invoke_result_t<Fn&, pqxx::nontransaction&> {
  return internal::RunReturning<pqxx::nontransaction>(body, [&](auto&& run_body) {
    return RunStatement(context, run_body);
  });
}

}  // namespace keyline::store
