// Least privilege: what the service login (keyline_app, member of keyline_service) may and may
// not do, and that not even a superuser can change the audit log. Errors are checked through
// store/'s error mapping, as the service would see them.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/ca_repository.h"
#include "store/certificate_repository.h"
#include "store/connection_pool.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::PostgresCluster;

class PrivilegesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PostgresCluster*> cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    absl::StatusOr<PostgresCluster::Database> database = CreateMigratedDatabase(**cluster);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    for (auto& [url, pool] :
         {std::pair{database_.app_url, &app_}, std::pair{database_.superuser_url, &superuser_}}) {
      absl::StatusOr<std::unique_ptr<ConnectionPool>> created =
          ConnectionPool::Create({.database_url = url, .size = 2});
      ASSERT_TRUE(created.ok()) << created.status();
      *pool = *std::move(created);
    }
    // As the service: a CA, a certificate and so two audit rows.
    CaRepository cas(*app_);
    absl::StatusOr<int32_t> ca_id = cas.Insert(
        testing::TestCa("acme"), {"system:test", "ca.created", "acme", nlohmann::json::object()});
    ASSERT_TRUE(ca_id.ok()) << ca_id.status();
    CertificateRepository certificates(*app_);
    ASSERT_TRUE(
        certificates.InsertWithAudit(testing::TestIssuance(*ca_id, testing::TestSerial(1, 1)))
            .ok());
  }

  static absl::Status Execute(ConnectionPool& pool, const std::string& sql) {
    return pool.RunTransaction("test statement", [&](pqxx::work& tx) {
      tx.exec(sql);
      return absl::OkStatus();
    });
  }

  PostgresCluster::Database database_;
  std::unique_ptr<ConnectionPool> app_;
  std::unique_ptr<ConnectionPool> superuser_;
};

TEST_F(PrivilegesTest, ServiceMayInsertAndRevokeButNotRewrite) {
  EXPECT_TRUE(Execute(*app_,
                      "INSERT INTO operators (role, name, created_by) "
                      "VALUES ('factory', 'line-9', 'test')")
                  .ok());
  EXPECT_TRUE(Execute(*app_,
                      "UPDATE certificates SET status = 'revoked', revoked_at = now(), "
                      "revocation_reason = 1")
                  .ok());
  EXPECT_TRUE(Execute(*app_, "UPDATE certificate_authorities SET status = 'retired'").ok());

  EXPECT_EQ(Execute(*app_, "UPDATE certificates SET der = '\\x00'").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "DELETE FROM certificates").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "DELETE FROM operators").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "UPDATE certificate_authorities SET key_label = 'other'").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PrivilegesTest, ServiceCannotChangeTheAuditLog) {
  const absl::Status update = Execute(*app_, "UPDATE audit_log SET actor = 'mallory'");
  EXPECT_EQ(update.code(), absl::StatusCode::kPermissionDenied) << update;
  EXPECT_NE(update.message().find("audit_log"), absl::string_view::npos) << update;
  EXPECT_EQ(Execute(*app_, "DELETE FROM audit_log").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "TRUNCATE audit_log").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "DELETE FROM audit_head").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(PrivilegesTest, ServiceCannotChangeTheSchema) {
  EXPECT_EQ(Execute(*app_, "CREATE TABLE intruder (id int)").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "DROP TABLE certificates").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "DROP TRIGGER audit_log_append_only ON audit_log").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_, "ALTER TABLE audit_log DISABLE TRIGGER USER").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Execute(*app_,
                    "INSERT INTO schema_migrations (version, name, checksum) "
                    "VALUES (99, 'x', 'y')")
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(PrivilegesTest, EvenTheSuperuserCannotChangeTheAuditLog) {
  for (const char* sql : {"UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
                          "DELETE FROM audit_log WHERE seq = 2", "TRUNCATE audit_log"}) {
    const absl::Status status = Execute(*superuser_, sql);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << sql;
    EXPECT_NE(status.message().find("append-only"), absl::string_view::npos) << status;
  }
  absl::StatusOr<int64_t> rows =
      superuser_->WithTransaction("count", [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec1("SELECT count(*) FROM audit_log")[0].as<int64_t>();
      });
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, 2);
}

}  // namespace
}  // namespace keyline::store
