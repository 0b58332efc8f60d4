// ManufacturerRepository against PostgreSQL, as the service login: add, look-ups, every refusal
// (which writes nothing), and revocation that is idempotent with one audit event.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/ca_repository.h"
#include "store/connection_pool.h"
#include "store/manufacturer_repository.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::TestManufacturer;

constexpr char kAdmin[] = "urn:keyline:role:admin:alice";

class ManufacturerRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::MigratedStore> store = testing::CreateMigratedStore();
    ASSERT_TRUE(store.ok()) << store.status();
    pool_ = std::move(store->pool);
  }

  std::vector<AuditRow> AuditLog() {
    absl::StatusOr<std::vector<AuditRow>> rows = testing::VerifiedAuditLog(*pool_);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<AuditRow>{};
  }

  int64_t Manufacturers() {
    absl::StatusOr<int64_t> count = testing::QueryCount(*pool_, "SELECT count(*) FROM manufacturers");
    EXPECT_TRUE(count.ok()) << count.status();
    return count.value_or(-1);
  }

  std::unique_ptr<ConnectionPool> pool_;
};

TEST_F(ManufacturerRepositoryTest, AddFindListRoundTrip) {
  ManufacturerRepository manufacturers(*pool_);
  CaRecord hosted_ca = testing::TestCa("manufacturer/keyline");
  hosted_ca.kind = "manufacturer";
  hosted_ca.deployment.reset();
  const absl::StatusOr<int32_t> ca_id =
      CaRepository(*pool_).Insert(hosted_ca, {kAdmin, "ca.created", "m", nlohmann::json::object()});
  ASSERT_TRUE(ca_id.ok()) << ca_id.status();

  ManufacturerRecord hosted = TestManufacturer("keyline");
  hosted.ca_id = *ca_id;
  hosted.added_by = "ignored: the actor is recorded";
  const absl::StatusOr<int32_t> hosted_id = manufacturers.Add(hosted, kAdmin);
  ASSERT_TRUE(hosted_id.ok()) << hosted_id.status();
  const absl::StatusOr<int32_t> vendor_id = manufacturers.Add(TestManufacturer("vendor"), kAdmin);
  ASSERT_TRUE(vendor_id.ok()) << vendor_id.status();
  EXPECT_NE(*hosted_id, *vendor_id);

  const absl::StatusOr<ManufacturerRecord> found = manufacturers.FindByName("keyline");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, *hosted_id);
  EXPECT_EQ(found->name, "keyline");
  EXPECT_EQ(found->ca_id, *ca_id);
  EXPECT_EQ(found->trust_anchor_der, hosted.trust_anchor_der);  // binary, with a NUL byte
  EXPECT_EQ(found->anchor_key_id, hosted.anchor_key_id);
  EXPECT_EQ(found->status, "trusted");
  EXPECT_EQ(found->added_by, kAdmin);
  EXPECT_GT(found->added_at, absl::Now() - absl::Minutes(5));
  EXPECT_EQ(found->revoked_at, std::nullopt);

  const absl::StatusOr<ManufacturerRecord> by_id = manufacturers.FindById(*vendor_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->name, "vendor");
  EXPECT_EQ(by_id->ca_id, std::nullopt);

  const absl::StatusOr<std::vector<ManufacturerRecord>> all = manufacturers.List();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "keyline");
  EXPECT_EQ((*all)[1].name, "vendor");

  EXPECT_EQ(manufacturers.FindByName("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manufacturers.FindById(9999).status().code(), absl::StatusCode::kNotFound);

  // CA + two manufacturers, each with its event.
  const std::vector<AuditRow> log = AuditLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1].event.action, "manufacturer.added");
  EXPECT_EQ(log[1].event.actor, kAdmin);
  EXPECT_EQ(log[1].event.target, "keyline");
  EXPECT_EQ(log[1].event.details["hosted"], true);
  EXPECT_EQ(log[2].event.details["hosted"], false);
  EXPECT_EQ(log[2].event.details["anchor_key_id"].get<std::string>().size(), 40u);
}

TEST_F(ManufacturerRepositoryTest, RefusalsWriteNothing) {
  ManufacturerRepository manufacturers(*pool_);
  ASSERT_TRUE(manufacturers.Add(TestManufacturer("vendor"), kAdmin).ok());

  const absl::StatusOr<int32_t> duplicate = manufacturers.Add(TestManufacturer("vendor"), kAdmin);
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(duplicate.status().message(), "manufacturer.name: \"vendor\" already exists");

  ManufacturerRecord unknown_ca = TestManufacturer("hosted");
  unknown_ca.ca_id = 4242;
  const absl::StatusOr<int32_t> no_ca = manufacturers.Add(unknown_ca, kAdmin);
  EXPECT_EQ(no_ca.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(no_ca.status().message(), "manufacturer.ca_id: no certificate authority with id 4242");

  // A deployment CA must never become a trust anchor for attestation.
  const absl::StatusOr<int32_t> deployment_ca = CaRepository(*pool_).Insert(
      testing::TestCa("deployment/acme"), {kAdmin, "ca.created", "d", nlohmann::json::object()});
  ASSERT_TRUE(deployment_ca.ok());
  ManufacturerRecord wrong_kind = TestManufacturer("hosted");
  wrong_kind.ca_id = *deployment_ca;
  const absl::StatusOr<int32_t> refused = manufacturers.Add(wrong_kind, kAdmin);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("not a manufacturer CA"), absl::string_view::npos)
      << refused.status();

  ManufacturerRecord no_name = TestManufacturer("");
  EXPECT_EQ(manufacturers.Add(no_name, kAdmin).status().message(), "manufacturer.name: empty");
  ManufacturerRecord no_anchor = TestManufacturer("x");
  no_anchor.trust_anchor_der.clear();
  EXPECT_EQ(manufacturers.Add(no_anchor, kAdmin).status().message(),
            "manufacturer.trust_anchor: empty");
  ManufacturerRecord revoked = TestManufacturer("x");
  revoked.status = "revoked";
  EXPECT_EQ(manufacturers.Add(revoked, kAdmin).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manufacturers.Add(TestManufacturer("x"), "").status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(Manufacturers(), 1);
  EXPECT_EQ(AuditLog().size(), 2u);  // the first manufacturer and the CA
}

TEST_F(ManufacturerRepositoryTest, RevokeIsIdempotentWithOneAuditEvent) {
  ManufacturerRepository manufacturers(*pool_);
  ASSERT_TRUE(manufacturers.Add(TestManufacturer("vendor"), kAdmin).ok());
  ASSERT_TRUE(manufacturers.Add(TestManufacturer("other"), kAdmin).ok());

  const absl::StatusOr<ManufacturerRecord> revoked =
      manufacturers.Revoke("vendor", kAdmin, "key compromise at the vendor");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->status, "revoked");
  ASSERT_TRUE(revoked->revoked_at.has_value());
  const absl::StatusOr<ManufacturerRecord> again =
      manufacturers.Revoke("vendor", "urn:keyline:role:admin:bob", "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->status, "revoked");
  EXPECT_EQ(again->revoked_at, revoked->revoked_at);  // unchanged
  EXPECT_EQ(manufacturers.FindByName("vendor")->revoked_at, revoked->revoked_at);
  EXPECT_EQ(manufacturers.FindByName("other")->status, "trusted");

  const absl::StatusOr<ManufacturerRecord> unknown = manufacturers.Revoke("nope", kAdmin, "r");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);

  const std::vector<AuditRow> log = AuditLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].event.action, "manufacturer.revoked");
  EXPECT_EQ(log[2].event.target, "vendor");
  EXPECT_EQ(log[2].event.actor, kAdmin);
  EXPECT_EQ(log[2].event.details, (nlohmann::json{{"reason", "key compromise at the vendor"}}));
}

}  // namespace
}  // namespace keyline::store
