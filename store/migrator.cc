#include "store/migrator.h"

#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/logging.h"
#include "store/connection_pool.h"
#include "store/sha256.h"
#include "store/store_errors.h"

namespace keyline::store {
namespace {

using migrations::Migration;

// pg_advisory_lock key for migration runs: the ASCII bytes of "keyline" read as an integer. Any
// fixed value works as long as every Keyline version uses the same one.
constexpr int64_t kMigrationLockKey = 0x6b65796c696e65;

constexpr char kCreateSchemaMigrations[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,  -- SHA-256 hex of the migration's SQL as applied
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

// keyline_service is created by 0001_initial.sql, so the grant waits until the role exists.
constexpr char kGrantSchemaMigrations[] = R"sql(
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyline_service') THEN
    GRANT SELECT ON schema_migrations TO keyline_service;
  END IF;
END
$$)sql";

struct RecordedMigration {
  std::string name;
  std::string checksum;
};

std::string Checksum(std::string_view sql) { return HexEncode(Sha256(sql)); }

absl::StatusOr<std::map<int, RecordedMigration>> ReadRecorded(pqxx::transaction_base& tx) {
  std::map<int, RecordedMigration> recorded;
  for (const pqxx::row& row :
       tx.exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version")) {
    recorded[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  }
  return recorded;
}

// Compares what the database recorded with what this binary embeds; returns the migrations still
// to apply, in order, or FailedPrecondition naming the first disagreement.
absl::StatusOr<std::vector<const Migration*>> Pending(
    const std::map<int, RecordedMigration>& recorded, std::span<const Migration> migrations) {
  std::map<int, const Migration*> known;
  for (const Migration& migration : migrations) known[migration.version] = &migration;
  for (const auto& [version, row] : recorded) {
    const auto it = known.find(version);
    if (it == known.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("database is newer than this keyline-server: migration ", row.name,
                       " (version ", version, ") is applied but unknown to this binary"));
    }
    if (Checksum(it->second->sql) != row.checksum) {
      return absl::FailedPreconditionError(
          absl::StrCat("migration ", AsAbsl(it->second->name), " was edited after it was applied"));
    }
  }
  const int newest_applied = recorded.empty() ? 0 : recorded.rbegin()->first;
  std::vector<const Migration*> pending;
  for (const auto& [version, migration] : known) {
    if (recorded.contains(version)) continue;
    if (version < newest_applied) {
      return absl::FailedPreconditionError(absl::StrCat(
          "migration ", AsAbsl(migration->name), " is pending but the later migration ",
          recorded.rbegin()->second.name, " is already applied"));
    }
    pending.push_back(migration);
  }
  return pending;
}

absl::Status ApplyOne(pqxx::connection& connection, const Migration& migration) {
  pqxx::work tx(connection);
  tx.exec(std::string(migration.sql));
  tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                 migration.version, std::string(migration.name), Checksum(migration.sql));
  tx.commit();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AppliedMigration>> ApplyLocked(pqxx::connection& connection,
                                                          std::span<const Migration> migrations,
                                                          std::string& context) {
  {
    pqxx::work tx(connection);
    tx.exec(kCreateSchemaMigrations);
    tx.commit();
  }
  absl::StatusOr<std::vector<const Migration*>> pending;
  {
    pqxx::read_transaction tx(connection);
    absl::StatusOr<std::map<int, RecordedMigration>> recorded = ReadRecorded(tx);
    if (!recorded.ok()) return recorded.status();
    pending = Pending(*recorded, migrations);
  }
  if (!pending.ok()) return pending.status();

  std::vector<AppliedMigration> applied;
  for (const Migration* migration : *pending) {
    context = absl::StrCat("apply migration ", AsAbsl(migration->name));
    if (absl::Status status = ApplyOne(connection, *migration); !status.ok()) return status;
    applied.push_back({migration->version, std::string(migration->name)});
    LogEvent(spdlog::level::info, "migration_applied",
             {{"version", migration->version}, {"name", migration->name}});
  }
  context = "grant SELECT on schema_migrations";
  pqxx::work tx(connection);
  tx.exec(kGrantSchemaMigrations);
  tx.commit();
  return applied;
}

}  // namespace

absl::StatusOr<std::vector<AppliedMigration>> ApplyMigrations(
    const std::string& owner_url, std::span<const Migration> migrations) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = OpenConnection(owner_url);
  if (!connection.ok()) return connection.status();
  std::string context = "lock for migrations";
  try {
    // The advisory lock belongs to this session: a silent reconnect would lose it and let a
    // concurrent run in, so a lost connection must fail the run instead.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    (*connection)->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    {
      pqxx::nontransaction session(**connection);
      // CREATE ... IF NOT EXISTS and the like report NOTICEs that libpqxx would print.
      session.exec("SET client_min_messages = warning");
      // Blocks while another run holds it; released when this connection closes.
      session.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    }
    context = "create schema_migrations";
    return ApplyLocked(**connection, migrations, context);
  } catch (...) {
    return MapCurrentException(context);
  }
}

absl::Status CheckSchemaCurrent(const std::string& database_url,
                                std::span<const Migration> migrations) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = OpenConnection(database_url);
  if (!connection.ok()) return connection.status();
  try {
    pqxx::read_transaction tx(**connection);
    if (tx.exec1("SELECT to_regclass('schema_migrations') IS NULL")[0].as<bool>()) {
      return absl::FailedPreconditionError(
          "database has no Keyline schema: run keyline-server migrate");
    }
    absl::StatusOr<std::map<int, RecordedMigration>> recorded = ReadRecorded(tx);
    if (!recorded.ok()) return recorded.status();
    absl::StatusOr<std::vector<const Migration*>> pending = Pending(*recorded, migrations);
    if (!pending.ok()) return pending.status();
    if (!pending->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(pending->size(), " migration(s) pending, the first ",
                       AsAbsl(pending->front()->name), ": run keyline-server migrate"));
    }
    return absl::OkStatus();
  } catch (...) {
    return MapCurrentException("check schema version");
  }
}

}  // namespace keyline::store
