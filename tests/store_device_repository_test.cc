// DeviceRepository against PostgreSQL, as the service login: atomic, idempotent registration;
// claims with vouchers; decommissioning that revokes exactly the device's good certificates; and
// that every refusal leaves tables and audit log as they were.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/time/clock.h"
#include "common/hex.h"
#include "store/ca_repository.h"
#include "store/certificate_repository.h"
#include "store/connection_pool.h"
#include "store/device_repository.h"
#include "store/manufacturer_repository.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

using testing::TestDevice;
using testing::TestVoucher;

constexpr char kFactory[] = "urn:keyline:role:factory:line-3";
constexpr char kAdmin[] = "urn:keyline:role:admin:alice";

class DeviceRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::MigratedStore> store = testing::CreateMigratedStore();
    ASSERT_TRUE(store.ok()) << store.status();
    pool_ = std::move(store->pool);
    database_ = store->database;
    absl::StatusOr<int32_t> manufacturer =
        ManufacturerRepository(*pool_).Add(testing::TestManufacturer("vendor"), kAdmin);
    ASSERT_TRUE(manufacturer.ok()) << manufacturer.status();
    manufacturer_id_ = *manufacturer;
    CaRecord ca = testing::TestCa("manufacturer/keyline");
    ca.kind = "manufacturer";
    ca.deployment.reset();
    absl::StatusOr<int32_t> ca_id =
        CaRepository(*pool_).Insert(ca, {kAdmin, "ca.created", ca.name, nlohmann::json::object()});
    ASSERT_TRUE(ca_id.ok()) << ca_id.status();
    ca_id_ = *ca_id;
    baseline_events_ = 2;
  }

  int64_t Count(const std::string& sql) {
    absl::StatusOr<int64_t> count = testing::QueryCount(*pool_, sql);
    EXPECT_TRUE(count.ok()) << sql << ": " << count.status();
    return count.value_or(-1);
  }

  std::vector<AuditRow> AuditLog() {
    absl::StatusOr<std::vector<AuditRow>> rows = testing::VerifiedAuditLog(*pool_);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<AuditRow>{};
  }

  // Events after SetUp's.
  std::vector<AuditRow> NewEvents() {
    std::vector<AuditRow> rows = AuditLog();
    rows.erase(rows.begin(), rows.begin() + std::min<size_t>(rows.size(), baseline_events_));
    return rows;
  }

  // An attestation certificate that Keyline's manufacturer CA issued for `serial`.
  CertificateRecord Attestation(const std::string& device_serial, uint64_t number) {
    CertificateRecord certificate =
        testing::TestIssuance(ca_id_, testing::TestSerial(20, number)).certificate;
    certificate.profile = "attestation";
    certificate.subject = device_serial;
    return certificate;
  }

  std::unique_ptr<ConnectionPool> pool_;
  testing::PostgresCluster::Database database_;
  int32_t manufacturer_id_ = 0;
  int32_t ca_id_ = 0;
  size_t baseline_events_ = 0;
};

TEST_F(DeviceRepositoryTest, RegisterStoresDevicesCertificatesAndEvents) {
  DeviceRepository devices(*pool_);
  std::vector<DeviceRegistration> batch = {TestDevice(manufacturer_id_, "sn-1"),
                                           TestDevice(manufacturer_id_, "sn-2")};
  batch[0].issued_certificate = Attestation("sn-1", 1);
  batch[1].device.attestation_chain_der = {std::string("\x30\x01\x00", 3), "\x30\x02second"};
  const absl::StatusOr<RegistrationResult> result = devices.Register(batch, kFactory);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->newly_registered(), 2);
  EXPECT_EQ(result->unchanged, 0);
  EXPECT_EQ(result->registered, (std::unordered_set<std::string>{"sn-1", "sn-2"}));

  const absl::StatusOr<DeviceRecord> found = devices.Find("sn-2");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->serial, "sn-2");
  EXPECT_EQ(found->manufacturer_id, manufacturer_id_);
  EXPECT_EQ(found->manufacturer_name, "vendor");
  EXPECT_EQ(found->hardware_model, "StO2-Sensor-R2");
  EXPECT_EQ(found->attestation_certificate_der, batch[1].device.attestation_certificate_der);
  EXPECT_EQ(found->attestation_chain_der, batch[1].device.attestation_chain_der);  // order kept
  EXPECT_EQ(found->attestation_key_sha256, batch[1].device.attestation_key_sha256);
  EXPECT_EQ(found->state, "registered");
  EXPECT_EQ(found->deployment, std::nullopt);
  EXPECT_EQ(found->registered_by, kFactory);
  EXPECT_EQ(devices.Find("sn-1")->attestation_chain_der, batch[0].device.attestation_chain_der);

  // The issued attestation certificate is stored and tied to its device.
  const absl::StatusOr<CertificateRecord> certificate =
      CertificateRepository(*pool_).FindBySerial(batch[0].issued_certificate->serial);
  ASSERT_TRUE(certificate.ok()) << certificate.status();
  EXPECT_EQ(certificate->device_serial, "sn-1");
  EXPECT_EQ(certificate->profile, "attestation");
  const auto certificates = devices.Certificates("sn-1");
  ASSERT_TRUE(certificates.ok()) << certificates.status();
  ASSERT_EQ(certificates->size(), 1u);
  EXPECT_EQ(certificates->front().serial, batch[0].issued_certificate->serial);
  EXPECT_TRUE(certificates->front().good);
  EXPECT_TRUE(devices.Certificates("sn-2")->empty());

  const std::vector<AuditRow> events = NewEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.action, "device.registered");
  EXPECT_EQ(events[0].event.actor, kFactory);
  EXPECT_EQ(events[0].event.target, "sn-1");
  EXPECT_EQ(events[0].event.details,
            (nlohmann::json{{"manufacturer_id", manufacturer_id_},
                            {"hardware_model", "StO2-Sensor-R2"},
                            {"attestation_certificate_serial",
                             HexEncode(batch[0].issued_certificate->serial)}}));
  EXPECT_EQ(events[1].event.target, "sn-2");
  EXPECT_FALSE(events[1].event.details.contains("attestation_certificate_serial"));

  const absl::StatusOr<std::vector<DeviceRecord>> many =
      devices.FindMany({"sn-2", "unknown", "sn-1"});
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 2u);
  EXPECT_EQ(devices.Find("unknown").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DeviceRepositoryTest, SameKeyIsUnchangedDifferentKeyRefusesTheWholeBatch) {
  DeviceRepository devices(*pool_);
  DeviceRegistration first = TestDevice(manufacturer_id_, "sn-1");
  first.issued_certificate = Attestation("sn-1", 1);
  ASSERT_TRUE(devices.Register({first}, kFactory).ok());

  // Same key again (a retried call): unchanged, and its stored certificate is not replaced.
  DeviceRegistration retry = TestDevice(manufacturer_id_, "sn-1");
  retry.issued_certificate = Attestation("sn-1", 2);
  const absl::StatusOr<RegistrationResult> repeated =
      devices.Register({retry, TestDevice(manufacturer_id_, "sn-2")}, kFactory);
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  EXPECT_EQ(repeated->newly_registered(), 1);
  EXPECT_EQ(repeated->unchanged, 1);
  // Which one is new: the factory answers the other with its stored certificate.
  EXPECT_EQ(repeated->registered, std::unordered_set<std::string>{"sn-2"});
  EXPECT_EQ(CertificateRepository(*pool_).FindBySerial(testing::TestSerial(20, 2)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(devices.Certificates("sn-1")->size(), 1u);
  const size_t events_before = AuditLog().size();

  // A different key for sn-1 refuses everything, including the new sn-3 before it.
  const absl::StatusOr<RegistrationResult> refused = devices.Register(
      {TestDevice(manufacturer_id_, "sn-3"), TestDevice(manufacturer_id_, "sn-2"),
       TestDevice(manufacturer_id_, "sn-1", /*key_version=*/2)},
      kFactory);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(refused.status().message(),
            "devices[2].device_serial: sn-1 is registered with a different attestation key");
  EXPECT_EQ(devices.Find("sn-3").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(devices.Find("sn-1")->attestation_key_sha256, first.device.attestation_key_sha256);
  EXPECT_EQ(Count("SELECT count(*) FROM devices"), 2);
  EXPECT_EQ(AuditLog().size(), events_before);
}

TEST_F(DeviceRepositoryTest, BadBatchesAreRefusedWhole) {
  DeviceRepository devices(*pool_);
  ASSERT_TRUE(devices.Register({TestDevice(manufacturer_id_, "existing")}, kFactory).ok());
  DeviceRegistration stored_certificate = TestDevice(manufacturer_id_, "sn-0");
  stored_certificate.issued_certificate = Attestation("sn-0", 7);
  ASSERT_TRUE(devices.Register({stored_certificate}, kFactory).ok());
  const int64_t devices_before = Count("SELECT count(*) FROM devices");
  const int64_t certificates_before = Count("SELECT count(*) FROM certificates");
  const size_t events_before = AuditLog().size();

  struct Case {
    std::string name;
    std::vector<DeviceRegistration> batch;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"duplicate serial",
                   {TestDevice(manufacturer_id_, "a"), TestDevice(manufacturer_id_, "b"),
                    TestDevice(manufacturer_id_, "a")},
                   absl::StatusCode::kInvalidArgument,
                   "devices[2].device_serial: repeats devices[0].device_serial"});
  cases.push_back({"unknown manufacturer",
                   {TestDevice(manufacturer_id_, "a"), TestDevice(4242, "b")},
                   absl::StatusCode::kFailedPrecondition,
                   "devices[1].manufacturer_id: no manufacturer with id 4242"});
  DeviceRegistration short_hash = TestDevice(manufacturer_id_, "b");
  short_hash.device.attestation_key_sha256.resize(20);
  cases.push_back({"short key hash",
                   {TestDevice(manufacturer_id_, "a"), short_hash},
                   absl::StatusCode::kInvalidArgument,
                   "devices[1].attestation_key_sha256: must be 32 bytes, not 20"});
  DeviceRegistration empty_serial = TestDevice(manufacturer_id_, "");
  cases.push_back({"empty serial", {empty_serial}, absl::StatusCode::kInvalidArgument,
                   "devices[0].device_serial: empty"});
  DeviceRegistration empty_chain_element = TestDevice(manufacturer_id_, "a");
  empty_chain_element.device.attestation_chain_der.push_back("");
  cases.push_back({"empty chain element", {empty_chain_element}, absl::StatusCode::kInvalidArgument,
                   "devices[0].attestation_chain[1]: empty"});
  DeviceRegistration reused_serial = TestDevice(manufacturer_id_, "a");
  reused_serial.issued_certificate = Attestation("a", 7);  // sn-0's certificate serial
  cases.push_back({"certificate serial stored",
                   {TestDevice(manufacturer_id_, "b"), reused_serial},
                   absl::StatusCode::kAlreadyExists,
                   "devices[1].issued_certificate.serial: a certificate with this serial is "
                   "already stored"});
  DeviceRegistration other_device = TestDevice(manufacturer_id_, "a");
  other_device.issued_certificate = Attestation("a", 8);
  other_device.issued_certificate->device_serial = "b";
  cases.push_back({"certificate of another device", {other_device},
                   absl::StatusCode::kInvalidArgument,
                   "devices[0].issued_certificate.device_serial: not the device's serial"});
  DeviceRegistration claimed = TestDevice(manufacturer_id_, "a");
  claimed.device.state = "claimed";
  claimed.device.deployment = "acme";
  cases.push_back({"not a new device's state", {claimed}, absl::StatusCode::kInvalidArgument, ""});

  for (const Case& test : cases) {
    const absl::StatusOr<RegistrationResult> result = devices.Register(test.batch, kFactory);
    EXPECT_EQ(result.status().code(), test.code) << test.name << ": " << result.status();
    if (!test.message.empty()) {
      EXPECT_EQ(std::string(result.status().message()), test.message) << test.name;
    }
  }
  EXPECT_EQ(Count("SELECT count(*) FROM devices"), devices_before);
  EXPECT_EQ(Count("SELECT count(*) FROM certificates"), certificates_before);
  EXPECT_EQ(AuditLog().size(), events_before);
}

TEST_F(DeviceRepositoryTest, RevokedManufacturerRegistersNoDevices) {
  ASSERT_TRUE(ManufacturerRepository(*pool_).Revoke("vendor", kAdmin, "test").ok());
  const absl::StatusOr<RegistrationResult> result =
      DeviceRepository(*pool_).Register({TestDevice(manufacturer_id_, "a")}, kFactory);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "devices[0].manufacturer_id: manufacturer \"vendor\" is revoked");
  EXPECT_EQ(Count("SELECT count(*) FROM devices"), 0);
}

TEST_F(DeviceRepositoryTest, ClaimAndReplaceVouchers) {
  DeviceRepository devices(*pool_);
  ASSERT_TRUE(devices
                  .Register({TestDevice(manufacturer_id_, "sn-1"),
                             TestDevice(manufacturer_id_, "sn-2")},
                            kFactory)
                  .ok());
  const absl::StatusOr<ClaimResult> claimed =
      devices.Claim({TestVoucher("sn-1", "acme"), TestVoucher("sn-2", "acme")}, kAdmin);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->claimed, 2);
  EXPECT_EQ(claimed->unchanged, 0);
  EXPECT_EQ(devices.Find("sn-1")->state, "claimed");
  EXPECT_EQ(devices.Find("sn-1")->deployment, "acme");

  // The same claim again: unchanged, no event. A new voucher for sn-2: unchanged, replaced, and
  // audited as a replacement.
  const size_t events_before = AuditLog().size();
  const absl::StatusOr<ClaimResult> again = devices.Claim(
      {TestVoucher("sn-1", "acme"), TestVoucher("sn-2", "acme", "v2")}, kAdmin, "device.imported");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->claimed, 0);
  EXPECT_EQ(again->unchanged, 2);
  const absl::StatusOr<std::vector<VoucherRecord>> vouchers =
      devices.FindVouchers({"sn-2", "sn-1", "unknown"});
  ASSERT_TRUE(vouchers.ok()) << vouchers.status();
  ASSERT_EQ(vouchers->size(), 2u);
  EXPECT_EQ((*vouchers)[0].device_serial, "sn-1");
  EXPECT_EQ((*vouchers)[0].signed_voucher, TestVoucher("sn-1", "acme").signed_voucher);
  EXPECT_EQ((*vouchers)[0].owner, "acme");
  EXPECT_EQ((*vouchers)[0].expires_at, TestVoucher("sn-1", "acme").expires_at);
  EXPECT_EQ((*vouchers)[1].signed_voucher, TestVoucher("sn-2", "acme", "v2").signed_voucher);

  const std::vector<AuditRow> events = NewEvents();
  ASSERT_EQ(events.size(), 2u + 2u + 1u);  // registered x2, claimed x2, replaced x1
  EXPECT_EQ(events[2].event.action, "device.claimed");
  EXPECT_EQ(events[2].event.actor, kAdmin);
  EXPECT_EQ(events[2].event.target, "sn-1");
  EXPECT_EQ(events[2].event.details["deployment"], "acme");
  EXPECT_EQ(events[4].seq, static_cast<int64_t>(events_before) + 1);
  EXPECT_EQ(events[4].event.action, "device.voucher.replaced");
  EXPECT_EQ(events[4].event.target, "sn-2");

  // Newly claimed with a caller-chosen action (voucher import).
  ASSERT_TRUE(devices.Register({TestDevice(manufacturer_id_, "sn-3")}, kFactory).ok());
  ASSERT_TRUE(devices.Claim({TestVoucher("sn-3", "acme")}, kAdmin, "device.voucher.imported").ok());
  EXPECT_EQ(AuditLog().back().event.action, "device.voucher.imported");
}

TEST_F(DeviceRepositoryTest, BadClaimsAreRefusedWhole) {
  DeviceRepository devices(*pool_);
  ASSERT_TRUE(devices
                  .Register({TestDevice(manufacturer_id_, "free"),
                             TestDevice(manufacturer_id_, "theirs"),
                             TestDevice(manufacturer_id_, "gone")},
                            kFactory)
                  .ok());
  ASSERT_TRUE(devices.Claim({TestVoucher("theirs", "globex")}, kAdmin).ok());
  ASSERT_TRUE(devices.Decommission("gone", kAdmin, "scrapped").ok());
  const size_t events_before = AuditLog().size();

  struct Case {
    std::vector<VoucherRecord> vouchers;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{TestVoucher("free", "acme"), TestVoucher("unknown", "acme")},
       absl::StatusCode::kNotFound,
       "device_serials[1]: no device unknown"},
      {{TestVoucher("free", "acme"), TestVoucher("gone", "acme")},
       absl::StatusCode::kFailedPrecondition,
       "device_serials[1]: device gone is decommissioned"},
      {{TestVoucher("free", "acme"), TestVoucher("theirs", "acme")},
       absl::StatusCode::kFailedPrecondition,
       "device_serials[1]: device theirs is claimed by another deployment"},
      {{TestVoucher("free", "acme"), TestVoucher("free", "acme")},
       absl::StatusCode::kInvalidArgument,
       "device_serials[1]: repeats device_serials[0]"},
      {{TestVoucher("free", "")}, absl::StatusCode::kInvalidArgument, "vouchers[0].owner: empty"},
  };
  for (const Case& test : cases) {
    const absl::StatusOr<ClaimResult> result = devices.Claim(test.vouchers, kAdmin);
    EXPECT_EQ(result.status().code(), test.code) << result.status();
    EXPECT_EQ(std::string(result.status().message()), test.message);
    // CheckClaim (ValidateClaim's) refuses alike, the owner's name aside.
    std::vector<std::string> serials;
    for (const VoucherRecord& voucher : test.vouchers) serials.push_back(voucher.device_serial);
    const absl::StatusOr<ClaimResult> checked =
        devices.CheckClaim(serials, test.vouchers.front().owner);
    EXPECT_EQ(checked.status().code(), test.code) << checked.status();
    if (!test.vouchers.front().owner.empty()) {
      EXPECT_EQ(std::string(checked.status().message()), test.message);
    }
  }
  // What it would claim, and what is claimed by that owner already.
  const absl::StatusOr<ClaimResult> checked = devices.CheckClaim({"free", "theirs"}, "globex");
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->claimed, 1);
  EXPECT_EQ(checked->unchanged, 1);
  EXPECT_EQ(devices.Find("free")->state, "registered");
  EXPECT_EQ(devices.Find("theirs")->deployment, "globex");
  EXPECT_EQ(devices.FindVouchers({"free", "gone"})->size(), 0u);
  EXPECT_EQ(devices.FindVouchers({"theirs"})->at(0).owner, "globex");
  EXPECT_EQ(AuditLog().size(), events_before);
}

// A revocation of the device's certificates locks them in serial order; so must decommissioning.
// Here the higher serial is stored first, so it comes first in the table: an UPDATE that locked as
// it found rows would hold it and wait for the lower one, which the revocation holds while it
// waits for the higher one, and PostgreSQL would abort one of them.
TEST_F(DeviceRepositoryTest, DecommissionLocksCertificatesInSerialOrderAsRevocationsDo) {
  DeviceRepository devices(*pool_);
  ASSERT_TRUE(devices.Register({TestDevice(manufacturer_id_, "locked")}, kFactory).ok());
  CertificateRepository certificates(*pool_);
  const std::string low = testing::TestSerial(31, 1);
  const std::string high = testing::TestSerial(31, 9);
  ASSERT_LT(low, high);
  for (const std::string& serial : {high, low}) {
    IssuanceWrite write = testing::TestIssuance(ca_id_, serial);
    write.certificate.device_serial = "locked";
    ASSERT_TRUE(certificates.InsertWithAudit(write).ok());
  }

  pqxx::connection revoker(database_.owner_url);
  pqxx::work revocation(revoker);
  revocation.exec_params("SELECT 1 FROM certificates WHERE serial = $1 FOR UPDATE",
                         pqxx::binarystring(low));
  absl::StatusOr<DecommissionResult> decommissioned;
  std::thread decommission(
      [&] { decommissioned = devices.Decommission("locked", kAdmin, "recalled"); });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (Count("SELECT count(*) FROM pg_locks WHERE NOT granted") == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_LT(absl::Now(), deadline) << "the decommission never waited for the revocation";
  // The revocation's next lock in serial order: free, since the decommission waits before it.
  EXPECT_NO_THROW(revocation.exec_params("SELECT 1 FROM certificates WHERE serial = $1 FOR UPDATE",
                                         pqxx::binarystring(high)));
  revocation.commit();
  decommission.join();
  ASSERT_TRUE(decommissioned.ok()) << decommissioned.status();
  EXPECT_EQ(Count("SELECT count(*) FROM certificates WHERE device_serial = 'locked' AND "
                  "status = 'revoked'"),
            2);
}

TEST_F(DeviceRepositoryTest, DecommissionRevokesExactlyTheDevicesGoodCertificates) {
  DeviceRepository devices(*pool_);
  DeviceRegistration target = TestDevice(manufacturer_id_, "target");
  target.issued_certificate = Attestation("target", 1);
  DeviceRegistration bystander = TestDevice(manufacturer_id_, "bystander");
  bystander.issued_certificate = Attestation("bystander", 2);
  ASSERT_TRUE(devices.Register({target, bystander}, kFactory).ok());
  CertificateRepository certificates(*pool_);
  // Two more certificates of the target: one good, one already revoked (keeps its reason).
  IssuanceWrite good = testing::TestIssuance(ca_id_, testing::TestSerial(21, 1));
  good.certificate.device_serial = "target";
  ASSERT_TRUE(certificates.InsertWithAudit(good).ok());
  IssuanceWrite revoked = testing::TestIssuance(ca_id_, testing::TestSerial(21, 2));
  revoked.certificate.device_serial = "target";
  revoked.certificate.status = "revoked";
  revoked.certificate.revoked_at = absl::FromUnixSeconds(1'700'000'000);
  revoked.certificate.revocation_reason = 1;
  ASSERT_TRUE(certificates.InsertWithAudit(revoked).ok());
  // And a certificate of nobody's device.
  ASSERT_TRUE(
      certificates.InsertWithAudit(testing::TestIssuance(ca_id_, testing::TestSerial(21, 3))).ok());

  const absl::StatusOr<std::vector<DeviceCertificate>> before = devices.Certificates("target");
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->size(), 3u);
  EXPECT_EQ(std::count_if(before->begin(), before->end(),
                          [](const DeviceCertificate& certificate) { return certificate.good; }),
            2);

  const absl::StatusOr<DecommissionResult> decommissioned =
      devices.Decommission("target", kAdmin, "returned to vendor");
  ASSERT_TRUE(decommissioned.ok()) << decommissioned.status();
  EXPECT_EQ(decommissioned->device.state, "decommissioned");
  EXPECT_EQ(decommissioned->device.manufacturer_name, "vendor");
  EXPECT_TRUE(decommissioned->decommissioned_now);

  for (const std::string& serial : {target.issued_certificate->serial, good.certificate.serial}) {
    const absl::StatusOr<CertificateRecord> found = certificates.FindBySerial(serial);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->status, "revoked");
    EXPECT_EQ(found->revocation_reason, 5);  // cessationOfOperation
    EXPECT_TRUE(found->revoked_at.has_value());
  }
  EXPECT_EQ(certificates.FindBySerial(revoked.certificate.serial)->revocation_reason, 1);
  EXPECT_EQ(certificates.FindBySerial(revoked.certificate.serial)->revoked_at,
            revoked.certificate.revoked_at);
  EXPECT_EQ(certificates.FindBySerial(bystander.issued_certificate->serial)->status, "good");
  EXPECT_EQ(certificates.FindBySerial(testing::TestSerial(21, 3))->status, "good");
  EXPECT_EQ(Count("SELECT count(*) FROM certificates WHERE status = 'revoked'"), 3);

  const AuditRow last = AuditLog().back();
  EXPECT_EQ(last.event.action, "device.decommissioned");
  EXPECT_EQ(last.event.target, "target");
  EXPECT_EQ(last.event.details["reason"], "returned to vendor");
  std::vector<std::string> expected = {HexEncode(target.issued_certificate->serial),
                                       HexEncode(good.certificate.serial)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(last.event.details["revoked_certificate_serials"], expected);
  EXPECT_EQ(decommissioned->revoked_certificate_serials, expected);

  // Again: the record, no change, no event.
  const size_t events_before = AuditLog().size();
  const absl::StatusOr<DecommissionResult> again = devices.Decommission("target", kAdmin, "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->device.state, "decommissioned");
  EXPECT_FALSE(again->decommissioned_now);
  EXPECT_TRUE(again->revoked_certificate_serials.empty());
  EXPECT_EQ(AuditLog().size(), events_before);
  EXPECT_EQ(Count("SELECT count(*) FROM certificates WHERE status = 'revoked'"), 3);

  EXPECT_EQ(devices.Decommission("unknown", kAdmin, "r").status().code(),
            absl::StatusCode::kNotFound);
  // A decommissioned device can never be claimed again.
  EXPECT_EQ(devices.Claim({TestVoucher("target", "acme")}, kAdmin).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace keyline::store
