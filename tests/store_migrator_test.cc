// store/migrator against a real PostgreSQL: first run, re-run, concurrent runs, tampering, a
// database newer than the binary, and the serve-time check.
#include <gtest/gtest.h>

#include <pqxx/connection>
#include <pqxx/transaction>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "store/migrator.h"
#include "tests/support/postgres_cluster.h"

namespace keyline::store {
namespace {

using migrations::EmbeddedMigrations;
using migrations::Migration;
using testing::PostgresCluster;

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresCluster*> cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *cluster;
    absl::StatusOr<PostgresCluster::Database> database = cluster_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
  }

  PostgresCluster* cluster_ = nullptr;
  PostgresCluster::Database database_;
};

TEST_F(MigratorTest, AppliesEverythingToAnEmptyDatabaseThenNothing) {
  const absl::StatusOr<std::vector<AppliedMigration>> first = ApplyMigrations(database_.owner_url);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), EmbeddedMigrations().size());
  EXPECT_EQ((*first)[0].version, 1);
  EXPECT_EQ((*first)[0].name, "0001_initial.sql");

  const absl::StatusOr<std::vector<AppliedMigration>> second = ApplyMigrations(database_.owner_url);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->empty());
}

// A database made by an older keyline-server (0001 only) with data in it takes 0002 alone.
TEST_F(MigratorTest, EnrollmentSchemaAppliesOnTopOfTheInitialOne) {
  const std::span<const Migration> all = EmbeddedMigrations();
  ASSERT_GE(all.size(), 2u);
  ASSERT_EQ(all[1].name, "0002_enrollment.sql");
  const absl::StatusOr<std::vector<AppliedMigration>> first =
      ApplyMigrations(database_.owner_url, all.first(1));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u);
  ASSERT_TRUE(cluster_
                  ->ExecuteAsSuperuser(
                      database_.name,
                      "INSERT INTO certificate_authorities (name, kind, key_label, key_algorithm, "
                      "certificate, subject_key_id, not_before, not_after) VALUES ('root', "
                      "'root', 'k', 'ec-p256', '\\x30', '\\x01', now(), now()); "
                      "INSERT INTO certificates (serial, issuer_id, profile, subject, "
                      "not_before, not_after, der) SELECT '\\x4001', id, 'server', 's', now(), "
                      "now(), '\\x30' FROM certificate_authorities")
                  .ok());

  const absl::StatusOr<std::vector<AppliedMigration>> second = ApplyMigrations(database_.owner_url);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->size(), 9u);
  EXPECT_EQ((*second)[0].version, 2);
  EXPECT_EQ((*second)[0].name, "0002_enrollment.sql");
  EXPECT_EQ((*second)[1].name, "0003_revocation.sql");
  EXPECT_EQ((*second)[2].name, "0004_ca_rotation.sql");
  EXPECT_EQ((*second)[3].name, "0005_ephemeral_challenges.sql");
  EXPECT_EQ((*second)[4].name, "0006_index_diet.sql");
  EXPECT_EQ((*second)[5].name, "0007_device_update_room.sql");
  EXPECT_EQ((*second)[6].name, "0008_permanent_revocation.sql");
  EXPECT_EQ((*second)[7].name, "0009_crl_publication.sql");
  EXPECT_EQ((*second)[8].name, "0010_checkpoint_time.sql");
  EXPECT_TRUE(CheckSchemaCurrent(database_.app_url).ok());
  // The existing certificate is nobody's device's; the service can read the new column.
  pqxx::connection app(database_.app_url);
  pqxx::work tx(app);
  EXPECT_TRUE(tx.exec1("SELECT device_serial FROM certificates")[0].is_null());
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM devices")[0].as<int>(), 0);
}

TEST_F(MigratorTest, ConcurrentRunsApplyEachMigrationOnce) {
  absl::StatusOr<std::vector<AppliedMigration>> results[2];
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] { result = ApplyMigrations(database_.owner_url); });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_EQ(results[0]->size() + results[1]->size(), EmbeddedMigrations().size());
  EXPECT_TRUE(results[0]->empty() || results[1]->empty());
}

TEST_F(MigratorTest, EditedMigrationIsRefusedNamingTheFile) {
  ASSERT_TRUE(ApplyMigrations(database_.owner_url).ok());
  ASSERT_TRUE(cluster_
                  ->ExecuteAsSuperuser(database_.name,
                                       "SET ROLE keyline_owner; UPDATE schema_migrations SET "
                                       "checksum = repeat('0', 64) WHERE version = 1")
                  .ok());
  const auto result = ApplyMigrations(database_.owner_url);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "migration 0001_initial.sql was edited after it was applied");
  const absl::Status check = CheckSchemaCurrent(database_.app_url);
  EXPECT_EQ(check.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(check.message().find("0001_initial.sql"), absl::string_view::npos);
}

TEST_F(MigratorTest, DatabaseNewerThanTheBinaryIsRefused) {
  ASSERT_TRUE(ApplyMigrations(database_.owner_url).ok());
  ASSERT_TRUE(cluster_
                  ->ExecuteAsSuperuser(database_.name,
                                       "INSERT INTO schema_migrations (version, name, checksum) "
                                       "VALUES (9999, '9999_from_the_future.sql', repeat('0', 64))")
                  .ok());
  const auto result = ApplyMigrations(database_.owner_url);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("database is newer than this keyline-server"),
            absl::string_view::npos)
      << result.status();
  EXPECT_EQ(CheckSchemaCurrent(database_.app_url).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(MigratorTest, LaterMigrationsApplyInTheirOwnTransactions) {
  ASSERT_TRUE(ApplyMigrations(database_.owner_url).ok());
  std::vector<Migration> migrations(EmbeddedMigrations().begin(), EmbeddedMigrations().end());
  migrations.push_back({9001, "9001_good.sql", "CREATE TABLE test_good (id int);"});
  migrations.push_back({9002, "9002_broken.sql", "CREATE TABLE test_broken (id int); SELEC 1;"});

  const auto result = ApplyMigrations(database_.owner_url, migrations);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("9002_broken.sql"), absl::string_view::npos)
      << result.status();
  // 9001 stayed applied; 9002 rolled back entirely, so it is still pending.
  const absl::Status check = CheckSchemaCurrent(database_.app_url, migrations);
  EXPECT_EQ(check.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(check.message().find("9002_broken.sql"), absl::string_view::npos) << check;
  migrations.pop_back();
  EXPECT_TRUE(CheckSchemaCurrent(database_.app_url, migrations).ok());
}

TEST_F(MigratorTest, PendingMigrationOlderThanAnAppliedOneIsRefused) {
  std::vector<Migration> migrations(EmbeddedMigrations().begin(), EmbeddedMigrations().end());
  migrations.push_back({9005, "9005_later.sql", "SELECT 1;"});
  ASSERT_TRUE(ApplyMigrations(database_.owner_url, migrations).ok());
  migrations.insert(migrations.end() - 1, {9004, "9004_forgotten.sql", "SELECT 1;"});
  const auto result = ApplyMigrations(database_.owner_url, migrations);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("9004_forgotten.sql"), absl::string_view::npos);
}

TEST_F(MigratorTest, CheckSchemaCurrentBeforeAndAfter) {
  const absl::Status before = CheckSchemaCurrent(database_.app_url);
  EXPECT_EQ(before.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(before.message().find("keyline-server migrate"), absl::string_view::npos);

  ASSERT_TRUE(ApplyMigrations(database_.owner_url).ok());
  // The least-privilege login can run the check.
  EXPECT_TRUE(CheckSchemaCurrent(database_.app_url).ok());

  std::vector<Migration> migrations(EmbeddedMigrations().begin(), EmbeddedMigrations().end());
  migrations.push_back({9003, "9003_next.sql", "SELECT 1;"});
  const absl::Status pending = CheckSchemaCurrent(database_.app_url, migrations);
  EXPECT_EQ(pending.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pending.message().find("9003_next.sql"), absl::string_view::npos);
}

TEST_F(MigratorTest, UnreachableDatabaseIsUnavailable) {
  const std::string url =
      absl::StrCat(database_.owner_url, " host=", cluster_->directory(), "/nonexistent");
  EXPECT_EQ(ApplyMigrations(url).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckSchemaCurrent(url).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace keyline::store
