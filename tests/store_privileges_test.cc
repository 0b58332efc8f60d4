// Least privilege: what the service login (keyline_app, member of keyline_service) may and may
// not do, and that not even a superuser can change the audit log. Errors are checked through
// store/'s error mapping, as the service would see them.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/audit_checkpoint_repository.h"
#include "store/audit_log_reader.h"
#include "store/ca_repository.h"
#include "store/certificate_repository.h"
#include "store/connection_pool.h"
#include "store/device_repository.h"
#include "store/enrollment_repository.h"
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

// Schema 2: rows of every enrollment table, made as the service makes them, and what the
// service may then do to them.
class EnrollmentPrivilegesTest : public PrivilegesTest {
 protected:
  void SetUp() override {
    PrivilegesTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<testing::EnrollmentWorld> world =
        testing::SeedEnrollmentWorld(*app_, "acme", 1);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = *world;
    ASSERT_TRUE(EnrollmentRepository(*app_)
                    .CreateChallenge(testing::TestChallenge(1, world_.device_serials[0]))
                    .ok());
    absl::StatusOr<AuditLogReader::Head> head = AuditLogReader(*app_).ReadHead();
    ASSERT_TRUE(head.ok()) << head.status();
    ASSERT_TRUE(AuditCheckpointRepository(*app_)
                    .Append({head->seq, head->row_hash, "signature", absl::Time(), std::nullopt})
                    .ok());
  }

  testing::EnrollmentWorld world_;
};

TEST_F(EnrollmentPrivilegesTest, ServiceCannotDeleteOrRewriteEnrollmentState) {
  for (const char* sql :
       {"DELETE FROM devices", "DELETE FROM manufacturers", "DELETE FROM enrollments",
        "DELETE FROM audit_checkpoints", "DELETE FROM vouchers", "TRUNCATE challenges",
        "UPDATE devices SET attestation_key_sha256 = decode(repeat('00', 32), 'hex')",
        "UPDATE devices SET manufacturer_id = manufacturer_id",
        "UPDATE manufacturers SET trust_anchor = '\\x00'",
        "UPDATE certificates SET device_serial = NULL",
        "UPDATE enrollments SET certificate_serial = certificate_serial",
        "UPDATE challenges SET nonce = nonce", "UPDATE audit_checkpoints SET signature = '\\x00'",
        "UPDATE vouchers SET device_serial = device_serial",
        "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"}) {
    const absl::Status status = Execute(*app_, sql);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << sql << ": " << status;
  }
  // What the service's own code does is allowed.
  for (const char* sql :
       {"UPDATE devices SET state = state, deployment = deployment, claimed_at = claimed_at, "
        "decommissioned_at = decommissioned_at",
        "UPDATE manufacturers SET status = status, revoked_at = revoked_at",
        "UPDATE vouchers SET owner = owner, expires_at = expires_at, signed = signed",
        "UPDATE challenges SET used_at = now()", "DELETE FROM challenges"}) {
    const absl::Status status = Execute(*app_, sql);
    EXPECT_TRUE(status.ok()) << sql << ": " << status;
  }
  absl::StatusOr<int64_t> challenges = testing::QueryCount(*app_, "SELECT count(*) FROM challenges");
  ASSERT_TRUE(challenges.ok()) << challenges.status();
  EXPECT_EQ(*challenges, 0);
}

// Schema 8: what is revoked, decommissioned or retired stays so, whoever asks. Setting the same
// values again is allowed (the service's own statements may touch such rows).
TEST_F(EnrollmentPrivilegesTest, RevocationDecommissioningAndRetirementCannotBeUndone) {
  for (const char* sql :
       {"UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 1",
        "UPDATE manufacturers SET status = 'revoked', revoked_at = now()",
        "UPDATE devices SET state = 'decommissioned', decommissioned_at = now()",
        "UPDATE certificate_authorities SET status = 'retired'"}) {
    const absl::Status status = Execute(*app_, sql);
    ASSERT_TRUE(status.ok()) << sql << ": " << status;
  }
  const auto snapshot = [this] {
    absl::StatusOr<std::string> rows =
        superuser_->WithTransaction("snapshot", [](pqxx::work& tx) -> absl::StatusOr<std::string> {
          return tx
              .exec1(
                  "SELECT (SELECT string_agg(status || revoked_at || revocation_reason || "
                  "coalesce(invalidity_date::text, '-'), ',') FROM certificates) || "
                  "(SELECT string_agg(status || revoked_at, ',') FROM manufacturers) || "
                  "(SELECT string_agg(state || decommissioned_at || coalesce(deployment, "
                  "'-'), ',') FROM devices) || "
                  "(SELECT string_agg(status, ',') FROM certificate_authorities)")[0]
              .as<std::string>();
        });
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::string();
  };
  const std::string before = snapshot();
  ASSERT_FALSE(before.empty());

  for (ConnectionPool* pool : {app_.get(), superuser_.get()}) {
    for (const char* sql :
         {"UPDATE certificates SET status = 'good', revoked_at = NULL, revocation_reason = NULL",
          "UPDATE certificates SET revoked_at = revoked_at + interval '1 day'",
          "UPDATE certificates SET revocation_reason = 0",
          "UPDATE certificates SET invalidity_date = now() - interval '1 day'",
          "UPDATE manufacturers SET status = 'trusted', revoked_at = NULL",
          "UPDATE manufacturers SET revoked_at = revoked_at - interval '1 day'",
          "UPDATE devices SET state = 'enrolled', decommissioned_at = NULL",
          "UPDATE devices SET state = 'claimed'", "UPDATE devices SET deployment = 'elsewhere'",
          "UPDATE certificate_authorities SET status = 'active'"}) {
      const absl::Status status = Execute(*pool, sql);
      EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << sql << ": " << status;
    }
  }
  EXPECT_EQ(snapshot(), before);

  // Unchanged values, and a retired CA revoked, are allowed.
  for (const char* sql : {"UPDATE certificates SET status = status, revoked_at = revoked_at",
                          "UPDATE manufacturers SET status = status, revoked_at = revoked_at",
                          "UPDATE devices SET state = state, decommissioned_at = decommissioned_at",
                          "UPDATE certificate_authorities SET status = 'revoked'"}) {
    const absl::Status status = Execute(*app_, sql);
    EXPECT_TRUE(status.ok()) << sql << ": " << status;
  }
  const absl::Status back = Execute(*app_, "UPDATE certificate_authorities SET status = 'retired'");
  EXPECT_EQ(back.code(), absl::StatusCode::kPermissionDenied) << back;
  EXPECT_NE(back.message().find("it cannot become retired"), absl::string_view::npos) << back;
}

TEST_F(EnrollmentPrivilegesTest, EvenTheSuperuserCannotChangeAuditCheckpoints) {
  for (const char* sql : {"UPDATE audit_checkpoints SET signature = '\\x00'",
                          "DELETE FROM audit_checkpoints", "TRUNCATE audit_checkpoints"}) {
    const absl::Status status = Execute(*superuser_, sql);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << sql << ": " << status;
    EXPECT_NE(status.message().find("audit_checkpoints is append-only"), absl::string_view::npos)
        << status;
  }
  absl::StatusOr<std::vector<AuditCheckpointRecord>> checkpoints =
      AuditCheckpointRepository(*app_).List();
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
  ASSERT_EQ(checkpoints->size(), 1u);
  EXPECT_EQ((*checkpoints)[0].signature, "signature");
}

}  // namespace
}  // namespace keyline::store
