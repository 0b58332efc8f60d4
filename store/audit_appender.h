// Internal to store/: appends events to the hash-chained audit log inside the caller's open
// transaction, so a state change and its audit events commit (or roll back) together.
//
// It locks the chain's head (SELECT ... FOR UPDATE on audit_head), so appenders on every replica
// serialize and seq has no gaps; the lock is held until the caller's transaction ends, so call it
// as late in the transaction as possible. occurred_at is the database's clock_timestamp() read
// after the lock, so times follow seq order whatever the replicas' clocks say.
//
// A caller that writes much else in the same transaction (the issuance writer) may instead lock
// the head within its own read (AuditHeadLockSql) and add the events to its own write statement
// (AppendAuditEventsAfter), saving two round trips.
//
// Throws libpqxx exceptions: call it inside ConnectionPool::RunTransaction (or catch them).
#pragma once

#include <cstdint>
#include <functional>
#include <pqxx/result>
#include <pqxx/transaction_base>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/composed_statement.h"
#include "store/records.h"

namespace keyline::store {

// Called with the number of events written so far, every kAuditProgressStep events, for callers
// that show progress on long batches.
using AuditProgress = std::function<void(size_t written)>;
inline constexpr size_t kAuditProgressStep = 1000;

// Appends `events` in order and returns the seq given to the first (the rest follow it).
// InvalidArgument, before touching the database, if an event fails ValidateAuditEvent. With no
// events it does nothing and returns 0.
[[nodiscard]] absl::StatusOr<int64_t> AppendAuditEvents(pqxx::transaction_base& transaction,
                                                        std::span<const AuditEvent* const> events,
                                                        const AuditProgress& progress = nullptr);

// The chain's head as read under its lock, with the database's clock read after the lock.
struct AuditHead {
  int64_t seq = 0;
  std::string row_hash;  // raw SHA-256
  absl::Time now;        // occurred_at of the events appended after it
};

// A SELECT of three columns (seq, row_hash as hex, the clock as epoch microseconds) that locks the
// head, for a WITH clause of a caller's read; take it last, after the caller's other locks.
const std::string& AuditHeadLockSql();

// The head from the three columns AuditHeadLockSql reads, wherever the caller's row holds them.
// Internal if the hash is not a SHA-256 digest.
[[nodiscard]] absl::StatusOr<AuditHead> AuditHeadFromColumns(const pqxx::field& seq,
                                                             const pqxx::field& row_hash_hex,
                                                             const pqxx::field& clock);

// As AppendAuditEvents, after `head`, which this transaction holds locked: up to 64 events become
// WITH clauses of `statement` (their rows and the head's update), which the caller must execute in
// this transaction; more go in by COPY at once, then the head's UPDATE. On an error (an event
// failing ValidateAuditEvent) the caller must roll the transaction back.
[[nodiscard]] absl::StatusOr<int64_t> AppendAuditEventsAfter(
    pqxx::transaction_base& transaction, const AuditHead& head,
    std::span<const AuditEvent* const> events, ComposedStatement& statement,
    const AuditProgress& progress = nullptr);

}  // namespace keyline::store
