#include "tests/support/store_test_data.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "store/migrator.h"

namespace keyline::testing {

absl::StatusOr<PostgresCluster::Database> CreateMigratedDatabase(PostgresCluster& cluster) {
  absl::StatusOr<PostgresCluster::Database> database = cluster.CreateDatabase();
  if (!database.ok()) return database.status();
  absl::StatusOr<std::vector<store::AppliedMigration>> applied =
      store::ApplyMigrations(database->owner_url);
  if (!applied.ok()) return applied.status();
  return database;
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
