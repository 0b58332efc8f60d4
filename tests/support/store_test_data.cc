#include "tests/support/store_test_data.h"

#include <algorithm>
#include <pqxx/transaction>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/hex.h"
#include "store/audit_log_reader.h"
#include "store/ca_repository.h"
#include "store/manufacturer_repository.h"
#include "store/migrator.h"
#include "store/sha256.h"

namespace keyline::testing {

absl::StatusOr<PostgresCluster::Database> CreateMigratedDatabase(PostgresCluster& cluster) {
  absl::StatusOr<PostgresCluster::Database> database = cluster.CreateDatabase();
  if (!database.ok()) return database.status();
  absl::StatusOr<std::vector<store::AppliedMigration>> applied =
      store::ApplyMigrations(database->owner_url);
  if (!applied.ok()) return applied.status();
  return database;
}

absl::StatusOr<MigratedStore> CreateMigratedStore(size_t pool_size) {
  absl::StatusOr<PostgresCluster*> cluster = SharedPostgresCluster();
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<PostgresCluster::Database> database = CreateMigratedDatabase(**cluster);
  if (!database.ok()) return database.status();
  absl::StatusOr<std::unique_ptr<store::ConnectionPool>> pool =
      store::ConnectionPool::Create({.database_url = database->app_url, .size = pool_size});
  if (!pool.ok()) return pool.status();
  return MigratedStore{*std::move(database), *std::move(pool)};
}

store::CaRecord TestCa(const std::string& name) {
  store::CaRecord ca;
  ca.name = name;
  ca.kind = "deployment";
  ca.deployment = name;
  ca.key_label = absl::StrCat("ca-", name);
  ca.key_algorithm = "ec-p256";
  ca.certificate_der = std::string("\x30\x82\x01\x00\x00\x01\xff", 7) + name;
  ca.subject_key_id = std::string(20, '\x5a');
  ca.not_before = absl::FromUnixSeconds(1'700'000'000) + absl::Nanoseconds(123'456'789);
  ca.not_after = ca.not_before + absl::Hours(24 * 3650);
  return ca;
}

std::string TestSerial(uint8_t namespace_byte, uint64_t number) {
  std::string serial(16, '\0');
  serial[0] = static_cast<char>(0x40 | (namespace_byte & 0x3f));  // never zero
  for (int i = 0; i < 8; ++i) {
    serial[15 - i] = static_cast<char>((number >> (8 * i)) & 0xff);
  }
  return serial;
}

store::IssuanceWrite TestIssuance(int32_t issuer_id, const std::string& serial) {
  std::mt19937_64 random(std::hash<std::string>{}(serial));
  store::IssuanceWrite write;
  store::CertificateRecord& certificate = write.certificate;
  certificate.serial = serial;
  certificate.issuer_id = issuer_id;
  certificate.profile = "device";
  certificate.subject = absl::StrCat("urn:keyline:acme:device:", HexEncode(serial));
  certificate.not_before = absl::FromUnixMicros(1'760'000'000'000'000 + (random() % 1000));
  certificate.not_after = certificate.not_before + absl::Hours(24 * 30);
  certificate.der.resize(700);
  for (char& byte : certificate.der) byte = static_cast<char>(random());
  if (serial.back() % 16 == 0) {
    write.operator_record = store::OperatorRecord{
        "gateway", absl::StrCat("gw-", static_cast<int>(serial.back())), "system:test"};
  }
  write.audit.actor = "urn:keyline:role:factory:line-3";
  write.audit.action = "device.certificate.issued";
  write.audit.target = HexEncode(serial);
  write.audit.details = {{"profile", "device"}, {"issuer_id", issuer_id}};
  return write;
}

store::ManufacturerRecord TestManufacturer(const std::string& name) {
  store::ManufacturerRecord manufacturer;
  manufacturer.name = name;
  manufacturer.trust_anchor_der = std::string("\x30\x82\x01\x0a\x00anchor-", 12) + name;
  manufacturer.anchor_key_id = store::Sha256("anchor " + name).substr(0, 20);
  return manufacturer;
}

store::DeviceRegistration TestDevice(int32_t manufacturer_id, const std::string& serial,
                                     int key_version) {
  store::DeviceRegistration registration;
  store::DeviceRecord& device = registration.device;
  device.serial = serial;
  device.manufacturer_id = manufacturer_id;
  device.hardware_model = "StO2-Sensor-R2";
  device.attestation_certificate_der = std::string("\x30\x82\x02\x00\x00leaf-", 10) + serial;
  device.attestation_chain_der = {std::string("\x30\x82\x03\x00\x00intermediate", 17)};
  device.attestation_key_sha256 = store::Sha256(absl::StrCat(serial, "/key/", key_version));
  return registration;
}

store::VoucherRecord TestVoucher(const std::string& serial, const std::string& owner,
                                 const std::string& tag) {
  return store::VoucherRecord{serial, owner,
                              absl::FromUnixMicros(1'790'000'000'123'456),
                              absl::StrCat("signed voucher ", tag, " for ", serial, " to ", owner,
                                           std::string(1, '\0'))};
}

std::string TestChallengeId(uint64_t number) {
  std::string id(16, '\x11');
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<char>((number >> (8 * i)) & 0xff);
  return id;
}

store::ChallengeRecord TestChallenge(uint64_t number, const std::string& device_serial,
                                     absl::Duration ttl, const std::string& purpose) {
  store::ChallengeRecord challenge;
  challenge.id = TestChallengeId(number);
  challenge.device_serial = device_serial;
  challenge.nonce = store::Sha256(absl::StrCat("nonce ", number));
  challenge.purpose = purpose;
  challenge.requested_by = "device";
  challenge.expires_at = absl::Now() + ttl;
  return challenge;
}

store::IssuanceWrite TestEnrollmentIssuance(int32_t issuer_id, const std::string& serial,
                                            const std::string& request_id,
                                            const std::string& challenge_id,
                                            const std::string& device_serial,
                                            const std::string& deployment,
                                            const std::string& purpose) {
  store::IssuanceWrite write = TestIssuance(issuer_id, serial);
  write.operator_record.reset();
  write.certificate.subject = absl::StrCat("urn:keyline:", deployment, ":device:", device_serial);
  write.enrollment =
      store::EnrollmentRecord{request_id, challenge_id, device_serial, deployment, purpose, ""};
  write.audit.actor = "device";
  write.audit.action = "device.enrolled";
  write.audit.details = {{"device_serial", device_serial}, {"request_id", request_id}};
  return write;
}

absl::StatusOr<EnrollmentWorld> SeedEnrollmentWorld(store::ConnectionPool& pool,
                                                    const std::string& deployment, size_t devices,
                                                    size_t attestation_certificate_bytes) {
  EnrollmentWorld world;
  absl::StatusOr<int32_t> manufacturer = store::ManufacturerRepository(pool).Add(
      TestManufacturer(absl::StrCat("maker-for-", deployment)), "system:test");
  if (!manufacturer.ok()) return manufacturer.status();
  world.manufacturer_id = *manufacturer;
  absl::StatusOr<int32_t> ca = store::CaRepository(pool).Insert(
      TestCa(absl::StrCat("deployment/", deployment)),
      {"system:test", "ca.created", deployment, nlohmann::json::object()});
  if (!ca.ok()) return ca.status();
  world.ca_id = *ca;
  store::DeviceRepository repository(pool);
  constexpr size_t kBatch = 5000;
  for (size_t start = 0; start < devices; start += kBatch) {
    std::vector<store::DeviceRegistration> batch;
    std::vector<store::VoucherRecord> vouchers;
    for (size_t i = start; i < std::min(devices, start + kBatch); ++i) {
      std::string serial = absl::StrFormat("%s-dev-%05d", deployment, i);
      batch.push_back(TestDevice(world.manufacturer_id, serial));
      std::string& certificate = batch.back().device.attestation_certificate_der;
      if (certificate.size() < attestation_certificate_bytes) {
        certificate.resize(attestation_certificate_bytes, '\x5a');
      }
      vouchers.push_back(TestVoucher(serial, deployment));
      world.device_serials.push_back(std::move(serial));
    }
    if (absl::StatusOr<store::RegistrationResult> registered =
            repository.Register(batch, "urn:keyline:role:factory:line-1");
        !registered.ok()) {
      return registered.status();
    }
    if (absl::StatusOr<store::ClaimResult> claimed =
            repository.Claim(vouchers, "urn:keyline:role:admin:alice");
        !claimed.ok()) {
      return claimed.status();
    }
  }
  return world;
}

absl::StatusOr<int64_t> QueryCount(store::ConnectionPool& pool, const std::string& sql) {
  return pool.WithTransaction("test query", [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec1(sql)[0].as<int64_t>();
  });
}

absl::StatusOr<std::vector<store::AuditRow>> VerifiedAuditLog(store::ConnectionPool& pool) {
  store::AuditLogReader reader(pool);
  absl::StatusOr<std::vector<store::AuditRow>> rows = reader.ReadRows(0, 100'000'000);
  if (!rows.ok()) return rows.status();
  if (absl::Status verified = store::VerifyAuditChain(*rows); !verified.ok()) return verified;
  absl::StatusOr<store::AuditLogReader::Head> head = reader.ReadHead();
  if (!head.ok()) return head.status();
  if (head->seq != static_cast<int64_t>(rows->size()) ||
      (!rows->empty() && head->row_hash != rows->back().row_hash)) {
    return absl::DataLossError("audit_head does not match the last audit row");
  }
  return rows;
}

std::function<void(absl::Status)> Completions::Callback(size_t index) {
  return [this, index](absl::Status status) {
    std::lock_guard lock(mutex_);
    statuses_[index] = std::move(status);
    if (++arrived_ == statuses_.size()) done_.notify_all();
  };
}

std::vector<absl::Status> Completions::Wait() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return arrived_ == statuses_.size(); });
  return statuses_;
}

}  // namespace keyline::testing
