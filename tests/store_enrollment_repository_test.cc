// EnrollmentRepository against PostgreSQL, as the service login: challenges (create, look up,
// refusals, expiry sweep) and look-ups of completed enrollments.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "store/certificate_repository.h"
#include "store/connection_pool.h"
#include "store/device_repository.h"
#include "store/enrollment_repository.h"
#include "store/manufacturer_repository.h"
#include "store/timestamps.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::PostgresCluster;
using testing::TestChallenge;

class EnrollmentRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::MigratedStore> store = testing::CreateMigratedStore();
    ASSERT_TRUE(store.ok()) << store.status();
    database_ = store->database;
    pool_ = std::move(store->pool);
    absl::StatusOr<testing::EnrollmentWorld> world = testing::SeedEnrollmentWorld(*pool_, "acme", 2);
    ASSERT_TRUE(world.ok()) << world.status();
    world_ = *world;
  }

  int64_t Count(const std::string& sql) {
    absl::StatusOr<int64_t> count = testing::QueryCount(*pool_, sql);
    EXPECT_TRUE(count.ok()) << sql << ": " << count.status();
    return count.value_or(-1);
  }

  PostgresCluster::Database database_;
  std::unique_ptr<ConnectionPool> pool_;
  testing::EnrollmentWorld world_;
};

TEST_F(EnrollmentRepositoryTest, CreateAndFindChallenge) {
  EnrollmentRepository enrollments(*pool_);
  ChallengeRecord challenge = TestChallenge(1, world_.device_serials[0]);
  challenge.expires_at += absl::Nanoseconds(789);  // stored to the microsecond
  challenge.requested_by = "urn:keyline:role:gateway:ward-7";
  const size_t events_before = testing::VerifiedAuditLog(*pool_)->size();
  ASSERT_TRUE(enrollments.CreateChallenge(challenge).ok());

  const absl::StatusOr<ChallengeRecord> found = enrollments.FindChallenge(challenge.id);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, challenge.id);
  EXPECT_EQ(found->device_serial, challenge.device_serial);
  EXPECT_EQ(found->nonce, challenge.nonce);
  EXPECT_EQ(found->purpose, "enroll");
  EXPECT_EQ(found->requested_by, "urn:keyline:role:gateway:ward-7");
  EXPECT_EQ(found->expires_at, TruncateToMicros(challenge.expires_at));
  EXPECT_EQ(found->used_at, std::nullopt);
  // Challenges are ephemeral: no audit event.
  EXPECT_EQ(testing::VerifiedAuditLog(*pool_)->size(), events_before);

  EXPECT_EQ(enrollments.FindChallenge(testing::TestChallengeId(2)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EnrollmentRepositoryTest, FindsAChallengeWithItsDeviceAndManufacturerInOneRead) {
  EnrollmentRepository enrollments(*pool_);
  DeviceRepository devices(*pool_);
  ChallengeRecord challenge = TestChallenge(1, world_.device_serials[1]);
  challenge.requested_by = "urn:keyline:role:gateway:ward-7";
  ASSERT_TRUE(enrollments.CreateChallenge(challenge).ok());
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(2, world_.device_serials[0])).ok());

  const absl::StatusOr<ChallengeWithDevice> found =
      enrollments.FindChallengeWithDevice(challenge.id);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->challenge.id, challenge.id);
  EXPECT_EQ(found->challenge.device_serial, world_.device_serials[1]);
  EXPECT_EQ(found->challenge.nonce, challenge.nonce);
  EXPECT_EQ(found->challenge.requested_by, "urn:keyline:role:gateway:ward-7");
  EXPECT_EQ(found->challenge.expires_at, TruncateToMicros(challenge.expires_at));
  EXPECT_EQ(found->challenge.used_at, std::nullopt);
  // The same device and manufacturer as their own look-ups give.
  const absl::StatusOr<DeviceRecord> device = devices.Find(world_.device_serials[1]);
  ASSERT_TRUE(device.ok()) << device.status();
  const absl::StatusOr<ManufacturerRecord> manufacturer =
      ManufacturerRepository(*pool_).FindById(world_.manufacturer_id);
  ASSERT_TRUE(manufacturer.ok()) << manufacturer.status();
  EXPECT_EQ(found->device.device.serial, world_.device_serials[1]);
  EXPECT_EQ(found->device.device.manufacturer_name, "maker-for-acme");
  EXPECT_EQ(found->device.device.state, device->state);
  EXPECT_EQ(found->device.device.deployment, device->deployment);
  EXPECT_EQ(found->device.device.attestation_certificate_der, device->attestation_certificate_der);
  EXPECT_FALSE(found->device.device.attestation_chain_der.empty());
  EXPECT_EQ(found->device.device.attestation_chain_der, device->attestation_chain_der);
  EXPECT_EQ(found->device.device.attestation_key_sha256, device->attestation_key_sha256);
  EXPECT_EQ(found->device.device.registered_at, device->registered_at);
  EXPECT_EQ(found->device.manufacturer.id, world_.manufacturer_id);
  EXPECT_EQ(found->device.manufacturer.name, "maker-for-acme");
  EXPECT_EQ(found->device.manufacturer.trust_anchor_der, manufacturer->trust_anchor_der);
  EXPECT_EQ(found->device.manufacturer.anchor_key_id, manufacturer->anchor_key_id);
  EXPECT_EQ(found->device.manufacturer.added_at, manufacturer->added_at);
  EXPECT_EQ(found->device.manufacturer.status, "trusted");
  EXPECT_EQ(found->device.manufacturer.revoked_at, std::nullopt);

  // A revocation of the manufacturer shows at the next look-up.
  ASSERT_TRUE(ManufacturerRepository(*pool_)
                  .Revoke("maker-for-acme", "urn:keyline:role:admin:alice", "test")
                  .ok());
  const absl::StatusOr<ChallengeWithDevice> after =
      enrollments.FindChallengeWithDevice(challenge.id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->device.manufacturer.status, "revoked");
  EXPECT_NE(after->device.manufacturer.revoked_at, std::nullopt);

  EXPECT_EQ(enrollments.FindChallengeWithDevice(testing::TestChallengeId(3)).status().code(),
            absl::StatusCode::kNotFound);
}

// BeginEnrollment's single round trip: the device is always returned; the challenge is stored
// only when the device is claimed or enrolled, its manufacturer trusted and the key hash its own.
TEST_F(EnrollmentRepositoryTest, FindDeviceAndCreateChallengeStoresOnlyWhatMayBeUsed) {
  EnrollmentRepository enrollments(*pool_);
  DeviceRepository devices(*pool_);
  const std::string& serial = world_.device_serials[0];
  const absl::StatusOr<DeviceRecord> device = devices.Find(serial);
  ASSERT_TRUE(device.ok()) << device.status();
  const std::string key_hash = device->attestation_key_sha256;
  const absl::StatusOr<ManufacturerRecord> manufacturer =
      ManufacturerRepository(*pool_).FindById(world_.manufacturer_id);
  ASSERT_TRUE(manufacturer.ok()) << manufacturer.status();
  const auto challenges = [&] { return Count("SELECT count(*) FROM challenges"); };
  pqxx::connection superuser(database_.superuser_url);
  const auto as_superuser = [&](const std::string& sql) {
    pqxx::work tx(superuser);
    tx.exec(sql);
    tx.commit();
  };

  ChallengeRecord challenge = TestChallenge(1, serial);
  absl::StatusOr<DeviceWithChallenge> found =
      enrollments.FindDeviceAndCreateChallenge(challenge, key_hash);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->challenge_created);
  EXPECT_EQ(found->device.device.serial, serial);
  EXPECT_EQ(found->device.device.attestation_certificate_der, device->attestation_certificate_der);
  EXPECT_EQ(found->device.manufacturer.trust_anchor_der, manufacturer->trust_anchor_der);
  const absl::StatusOr<ChallengeRecord> stored = enrollments.FindChallenge(challenge.id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->nonce, challenge.nonce);
  EXPECT_EQ(stored->device_serial, serial);

  ASSERT_TRUE(enrollments.DeleteChallenge(challenge.id).ok());
  EXPECT_EQ(challenges(), 0);
  EXPECT_TRUE(enrollments.DeleteChallenge(challenge.id).ok());  // none: still fine

  // Each condition that fails stores nothing but still returns the device.
  found = enrollments.FindDeviceAndCreateChallenge(TestChallenge(2, serial), std::string(32, 'x'));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->challenge_created);
  EXPECT_EQ(found->device.device.serial, serial);
  as_superuser(
      "UPDATE devices SET state = 'decommissioned', decommissioned_at = now() "
      "WHERE serial = '" +
      serial + "'");
  found = enrollments.FindDeviceAndCreateChallenge(TestChallenge(3, serial), key_hash);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->challenge_created);
  EXPECT_EQ(found->device.device.state, "decommissioned");
  // Undone for the next case, past the trigger that keeps decommissioning permanent (schema 8).
  as_superuser(
      "SET LOCAL session_replication_role = replica; "
      "UPDATE devices SET state = 'enrolled', decommissioned_at = NULL "
      "WHERE serial = '" +
      serial + "'");
  as_superuser("UPDATE manufacturers SET status = 'revoked', revoked_at = now()");
  found = enrollments.FindDeviceAndCreateChallenge(TestChallenge(4, serial), key_hash);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->challenge_created);
  EXPECT_EQ(found->device.manufacturer.status, "revoked");
  EXPECT_EQ(challenges(), 0);
  as_superuser(
      "SET LOCAL session_replication_role = replica; "
      "UPDATE manufacturers SET status = 'trusted', revoked_at = NULL");
  found = enrollments.FindDeviceAndCreateChallenge(TestChallenge(5, serial), key_hash);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->challenge_created);  // enrolled devices renew

  const absl::StatusOr<DeviceWithChallenge> unknown =
      enrollments.FindDeviceAndCreateChallenge(TestChallenge(6, "no-such-device"), key_hash);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
  ChallengeRecord short_nonce = TestChallenge(7, serial);
  short_nonce.nonce.resize(31);
  EXPECT_EQ(enrollments.FindDeviceAndCreateChallenge(short_nonce, key_hash).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      enrollments.FindDeviceAndCreateChallenge(TestChallenge(5, serial), key_hash).status().code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(challenges(), 1);
}

TEST_F(EnrollmentRepositoryTest, ChallengeRefusals) {
  EnrollmentRepository enrollments(*pool_);
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(1, world_.device_serials[0])).ok());

  const absl::Status duplicate =
      enrollments.CreateChallenge(TestChallenge(1, world_.device_serials[1]));
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  EXPECT_EQ(duplicate.message(), "challenge.id: a challenge with this id exists");

  const absl::Status unknown = enrollments.CreateChallenge(TestChallenge(2, "no-such-device"));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kFailedPrecondition) << unknown;
  EXPECT_EQ(unknown.message(), "challenge.device_serial: no device no-such-device");

  ChallengeRecord short_nonce = TestChallenge(3, world_.device_serials[0]);
  short_nonce.nonce.resize(31);
  EXPECT_EQ(enrollments.CreateChallenge(short_nonce).message(),
            "challenge.nonce: must be 32 bytes, not 31");
  ChallengeRecord short_id = TestChallenge(3, world_.device_serials[0]);
  short_id.id.resize(8);
  EXPECT_EQ(enrollments.CreateChallenge(short_id).message(), "challenge.id: must be 16 bytes, not 8");
  ChallengeRecord bad_purpose = TestChallenge(3, world_.device_serials[0], absl::Seconds(60), "x");
  EXPECT_EQ(enrollments.CreateChallenge(bad_purpose).code(), absl::StatusCode::kInvalidArgument);
  ChallengeRecord used = TestChallenge(3, world_.device_serials[0]);
  used.used_at = absl::Now();
  EXPECT_EQ(enrollments.CreateChallenge(used).code(), absl::StatusCode::kInvalidArgument);
  ChallengeRecord forever = TestChallenge(3, world_.device_serials[0]);
  forever.expires_at = absl::InfiniteFuture();
  EXPECT_EQ(enrollments.CreateChallenge(forever).code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(Count("SELECT count(*) FROM challenges"), 1);
  EXPECT_EQ(enrollments.FindChallenge(testing::TestChallengeId(1))->device_serial,
            world_.device_serials[0]);
}

// Challenges are ephemeral (migrations/0005): unlogged, and making one locks no device row (the
// foreign key's KEY SHARE lock would be WAL, and would wait here for the holder of FOR UPDATE).
TEST_F(EnrollmentRepositoryTest, ChallengesAreUnloggedAndTakeNoLockOnTheirDevice) {
  EXPECT_EQ(Count("SELECT count(*) FROM pg_class WHERE relname = 'challenges' "
                  "AND relpersistence = 'u'"),
            1);
  pqxx::connection holder_connection(database_.owner_url);
  pqxx::work holder(holder_connection);
  holder.exec_params("SELECT 1 FROM devices WHERE serial = $1 FOR UPDATE",
                     world_.device_serials[0]);

  EnrollmentRepository enrollments(*pool_);
  std::future<absl::Status> created = std::async(std::launch::async, [&] {
    return enrollments.CreateChallenge(TestChallenge(1, world_.device_serials[0]));
  });
  const bool waited = created.wait_for(std::chrono::seconds(5)) != std::future_status::ready;
  holder.abort();
  EXPECT_FALSE(waited) << "creating a challenge waited for a lock on its device";
  EXPECT_TRUE(created.get().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM challenges"), 1);
}

TEST_F(EnrollmentRepositoryTest, DeleteExpiredChallengesSkipsLockedOnes) {
  EnrollmentRepository enrollments(*pool_);
  const std::string& device = world_.device_serials[0];
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(1, device, -absl::Minutes(10))).ok());
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(2, device, -absl::Minutes(5))).ok());
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(3, device, -absl::Minutes(1))).ok());
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(4, device, absl::Minutes(5))).ok());

  // Challenge 2 is held by a transaction (an enrollment in progress): left for the next sweep,
  // and the sweep does not wait for it.
  pqxx::connection holder_connection(database_.superuser_url);
  pqxx::work holder(holder_connection);
  holder.exec_params("SELECT 1 FROM challenges WHERE id = $1::bytea FOR UPDATE",
                     pqxx::binarystring(testing::TestChallengeId(2)));
  const absl::StatusOr<int64_t> deleted =
      enrollments.DeleteExpiredChallenges(absl::Now() - absl::Minutes(2));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);  // challenge 1
  holder.commit();
  EXPECT_EQ(enrollments.FindChallenge(testing::TestChallengeId(1)).status().code(),
            absl::StatusCode::kNotFound);

  const absl::StatusOr<int64_t> rest = enrollments.DeleteExpiredChallenges(absl::Now());
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, 2);  // challenges 2 and 3
  EXPECT_TRUE(enrollments.FindChallenge(testing::TestChallengeId(4)).ok());
  EXPECT_EQ(*enrollments.DeleteExpiredChallenges(absl::Now()), 0);
}

TEST_F(EnrollmentRepositoryTest, FindByRequestIdReturnsTheStoredCertificate) {
  EnrollmentRepository enrollments(*pool_);
  const std::string& device = world_.device_serials[1];
  ASSERT_TRUE(enrollments.CreateChallenge(TestChallenge(1, device)).ok());
  // One-off path (CertificateRepository) with an enrollment: stored as the writer would.
  const IssuanceWrite write = testing::TestEnrollmentIssuance(
      world_.ca_id, testing::TestSerial(40, 1), "req-1", testing::TestChallengeId(1), device,
      "acme");
  ASSERT_TRUE(CertificateRepository(*pool_).InsertWithAudit(write).ok());

  const absl::StatusOr<CompletedEnrollment> completed = enrollments.FindByRequestId("req-1");
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->request_id, "req-1");
  EXPECT_EQ(completed->device_serial, device);
  EXPECT_EQ(completed->certificate.serial, write.certificate.serial);
  EXPECT_EQ(completed->certificate.der, write.certificate.der);
  EXPECT_EQ(completed->certificate.device_serial, device);
  EXPECT_EQ(completed->certificate.issuer_id, world_.ca_id);
  EXPECT_TRUE(enrollments.FindChallenge(testing::TestChallengeId(1))->used_at.has_value());
  EXPECT_EQ(DeviceRepository(*pool_).Find(device)->state, "enrolled");

  const absl::StatusOr<CompletedEnrollment> missing = enrollments.FindByRequestId("req-2");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);

  // The same request through the one-off path again: AlreadyExists, nothing written.
  IssuanceWrite retry = write;
  retry.certificate.serial = testing::TestSerial(40, 2);
  const absl::Status again = CertificateRepository(*pool_).InsertWithAudit(retry);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(again.message(), "request_id: already completed");
  EXPECT_EQ(Count("SELECT count(*) FROM certificates WHERE device_serial IS NOT NULL"), 1);
}

}  // namespace
}  // namespace keyline::store
