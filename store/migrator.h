// Applies the embedded SQL migrations (migrations/embedded_migrations.h) and checks that a
// database's schema matches this binary.
//
// The schema_migrations table records each applied migration:
//   version int PRIMARY KEY, name text, checksum text (SHA-256 hex of the SQL), applied_at
// A recorded checksum that differs from the embedded SQL, or a recorded version this binary does
// not know, is an error: the database and the binary disagree about the schema.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "migrations/embedded_migrations.h"

namespace keyline::store {

struct AppliedMigration {
  int version = 0;
  std::string name;  // file name, e.g. "0001_initial.sql"
};

// Connects as the owner role (which owns the database and may create roles), takes a
// session-level advisory lock for the whole run so concurrent runs (several replicas starting at
// once) apply each migration once, creates schema_migrations if missing, then applies each
// pending migration in its own transaction together with its schema_migrations row. Returns the
// migrations applied by this run (empty when the schema was current).
//
// Errors: Unavailable (cannot connect; connection lost), FailedPrecondition (a migration was
// edited after it was applied, the database is newer than this binary, or a pending migration is
// older than one already applied), or the mapped error of the failing migration's SQL, whose
// transaction was rolled back (earlier migrations of the run stay applied).
//
// `migrations` defaults to the embedded ones; tests pass their own.
[[nodiscard]] absl::StatusOr<std::vector<AppliedMigration>> ApplyMigrations(
    const std::string& owner_url,
    std::span<const migrations::Migration> migrations = migrations::EmbeddedMigrations());

// For `keyline-server serve`: OK when every migration is applied, unedited, and none unknown is.
// Needs only SELECT on schema_migrations, so the least-privilege service role can run it.
// FailedPrecondition naming the first problem otherwise; Unavailable when the database is
// unreachable.
[[nodiscard]] absl::Status CheckSchemaCurrent(
    const std::string& database_url,
    std::span<const migrations::Migration> migrations = migrations::EmbeddedMigrations());

}  // namespace keyline::store
