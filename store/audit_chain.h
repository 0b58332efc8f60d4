// The audit log's hash chain (DESIGN.md, "Audit"): each row stores
//   row_hash = SHA-256(prev_hash || canonical event)
// where prev_hash is the previous row's row_hash (32 zero bytes before the first row) and the
// canonical event is the compact JSON, keys sorted, of
//   {"action", "actor", "details", "occurred_at", "seq", "target"}
// with occurred_at in RFC 3339 UTC with microseconds ("2026-11-26T15:39:39.123456Z").
//
// These are pure functions: the appender uses them to write rows and `keylinectl audit verify`
// recomputes them from the stored rows. Anything that changes the bytes of the canonical form
// breaks every existing chain, so it has a test pinning an exact hash.
//
// Because verification re-reads details from a jsonb column, details must survive a round trip
// through jsonb unchanged: ValidateAuditEvent rejects what would not (floating-point numbers,
// whose text form jsonb normalizes; NUL characters, which text and jsonb cannot hold; invalid
// UTF-8) and non-object details.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/records.h"

namespace keyline::store {

// The prev_hash of the first row and audit_head's initial row_hash: 32 zero bytes.
std::string GenesisAuditHash();

// OK if `event` can be chained and stored; InvalidArgument naming the offending field otherwise.
[[nodiscard]] absl::Status ValidateAuditEvent(const AuditEvent& event);

// The canonical bytes of an event. Fails as ValidateAuditEvent does. occurred_at is truncated
// to the microsecond, as the database stores it.
[[nodiscard]] absl::StatusOr<std::string> CanonicalAuditEvent(int64_t seq, absl::Time occurred_at,
                                                              const AuditEvent& event);

// SHA-256(prev_hash || canonical), 32 raw bytes.
std::string AuditRowHash(std::string_view prev_hash, std::string_view canonical);

// One stored row of audit_log.
struct AuditRow {
  int64_t seq = 0;
  absl::Time occurred_at;
  AuditEvent event;
  std::string prev_hash;  // raw 32 bytes
  std::string row_hash;   // raw 32 bytes
};

// Checks that `rows` continue a chain whose last row had `previous_seq` and `previous_hash`
// (0 and GenesisAuditHash() for the whole log): consecutive seq, each prev_hash equal to the
// previous row_hash, each row_hash recomputed. OK, or DataLoss naming the first bad row's seq.
[[nodiscard]] absl::Status VerifyAuditChain(std::span<const AuditRow> rows,
                                            int64_t previous_seq = 0,
                                            std::string_view previous_hash = {});

}  // namespace keyline::store
