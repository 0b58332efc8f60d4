// Internal to store/: appends events to the hash-chained audit log inside the caller's open
// transaction, so a state change and its audit events commit (or roll back) together.
//
// It locks the chain's head (SELECT ... FOR UPDATE on audit_head), so appenders on every replica
// serialize and seq has no gaps; the lock is held until the caller's transaction ends, so call it
// as late in the transaction as possible. occurred_at is the database's clock_timestamp() read
// after the lock, so times follow seq order whatever the replicas' clocks say.
//
// Throws libpqxx exceptions: call it inside ConnectionPool::RunTransaction (or catch them).
#pragma once

#include <cstdint>
#include <functional>
#include <pqxx/transaction_base>
#include <span>

#include "absl/status/statusor.h"
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

}  // namespace keyline::store
