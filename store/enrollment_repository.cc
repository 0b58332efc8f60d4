#include "store/enrollment_repository.h"

#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "store/certificate_rows.h"
#include "store/device_rows.h"
#include "store/field_checks.h"
#include "store/prepared_statement.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

// The columns ChallengeFromRow reads, from `challenges ch`.
std::string ChallengeColumns() {
  return absl::StrCat("ch.id, ch.device_serial, ch.nonce, ch.purpose, ch.requested_by, ",
                      EpochMicrosSql("ch.expires_at"), ", ", EpochMicrosSql("ch.used_at"));
}
constexpr int kChallengeColumnCount = 7;

ChallengeRecord ChallengeFromRow(const pqxx::row& row) {
  ChallengeRecord challenge;
  challenge.id = pqxx::binarystring(row[0]).str();
  challenge.device_serial = row[1].as<std::string>();
  challenge.nonce = pqxx::binarystring(row[2]).str();
  challenge.purpose = row[3].as<std::string>();
  challenge.requested_by = row[4].as<std::string>();
  challenge.expires_at = FromEpochMicros(row[5].as<int64_t>());
  if (!row[6].is_null()) challenge.used_at = FromEpochMicros(row[6].as<int64_t>());
  return challenge;
}

}  // namespace

absl::Status EnrollmentRepository::CreateChallenge(const ChallengeRecord& challenge) {
  KEYLINE_RETURN_IF_ERROR(ValidateChallenge(challenge));
  const std::string expires_at = FormatRfc3339Micros(challenge.expires_at);
  absl::Status status = pool_.RunStatement("create challenge", [&](pqxx::nontransaction& tx) {
    // INSERT ... SELECT: an unknown device inserts nothing, told apart from a foreign-key error.
    const pqxx::result inserted = ExecPrepared(
        tx, "challenge.create",
        "INSERT INTO challenges (id, device_serial, nonce, purpose, requested_by, expires_at) "
        "SELECT $1::bytea, serial, $3::bytea, $4, $5, $6::timestamptz FROM devices "
        "WHERE serial = $2 RETURNING 1",
        ByteaParam(challenge.id), challenge.device_serial, ByteaParam(challenge.nonce),
        challenge.purpose, challenge.requested_by, expires_at);
    if (inserted.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("challenge.device_serial: no device ", challenge.device_serial));
    }
    return absl::OkStatus();
  });
  return NameTakenChallengeId(std::move(status));
}

absl::StatusOr<DeviceWithChallenge> EnrollmentRepository::FindDeviceAndCreateChallenge(
    const ChallengeRecord& challenge, std::string_view attestation_key_sha256) {
  KEYLINE_RETURN_IF_ERROR(ValidateChallenge(challenge));
  const ChallengeRequest request{challenge, std::string(attestation_key_sha256)};
  const ChallengeRequest* const requests[] = {&request};
  absl::StatusOr<DeviceWithChallenge> found =
      pool_.WithStatement("find device and create challenge",
                          [&](pqxx::nontransaction& tx) -> absl::StatusOr<DeviceWithChallenge> {
                            return std::move(FindDevicesAndCreateChallenges(tx, requests)[0]);
                          });
  if (!found.ok()) return NameTakenChallengeId(found.status());
  return found;
}

absl::Status EnrollmentRepository::DeleteChallenge(std::string_view id) {
  return pool_.RunStatement("delete challenge", [&](pqxx::nontransaction& tx) {
    ExecPrepared(tx, "challenge.delete", "DELETE FROM challenges WHERE id = $1::bytea",
                 ByteaParam(id));
    return absl::OkStatus();
  });
}

absl::StatusOr<ChallengeRecord> EnrollmentRepository::FindChallenge(std::string_view id) {
  return pool_.WithStatement(
      "find challenge", [&](pqxx::nontransaction& tx) -> absl::StatusOr<ChallengeRecord> {
        const pqxx::result rows =
            ExecPrepared(tx, "challenge.find",
                         absl::StrCat("SELECT ", ChallengeColumns(), " FROM challenges ch ",
                                      "WHERE ch.id = $1::bytea"),
                         ByteaParam(id));
        if (rows.empty()) return absl::NotFoundError("no challenge with this id");
        return ChallengeFromRow(rows[0]);
      });
}

absl::StatusOr<ChallengeWithDevice> EnrollmentRepository::FindChallengeWithDevice(
    std::string_view id) {
  static const std::string* const kFind = new std::string(
      absl::StrCat("SELECT ", ChallengeColumns(), ", ", DeviceWithManufacturerColumns(),
                   AsAbsl(kDevicesWithManufacturers),
                   " JOIN challenges ch ON ch.device_serial = d.serial WHERE ch.id = $1::bytea"));
  return pool_.WithStatement(
      "find challenge and device",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<ChallengeWithDevice> {
        const pqxx::result rows =
            ExecPrepared(tx, "challenge.find_with_device", *kFind, ByteaParam(id));
        if (rows.empty()) return absl::NotFoundError("no challenge with this id");
        return ChallengeWithDevice{ChallengeFromRow(rows[0]),
                                   DeviceWithManufacturerFromRow(rows[0], kChallengeColumnCount)};
      });
}

absl::StatusOr<CompletedEnrollment> EnrollmentRepository::FindByRequestId(
    std::string_view request_id) {
  return pool_.WithStatement(
      "find enrollment by request_id",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<CompletedEnrollment> {
        const pqxx::result rows = ExecPrepared(
            tx, "enrollment.find_by_request_id",
            absl::StrCat("SELECT e.request_id, e.device_serial, ", CertificateSelectList("c"),
                         " FROM enrollments e JOIN certificates c "
                         "ON c.serial = e.certificate_serial WHERE e.request_id = $1"),
            std::string(request_id));
        if (rows.empty()) return absl::NotFoundError("request_id: no enrollment completed");
        return CompletedEnrollment{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                                   CertificateFromRow(rows[0], 2)};
      });
}

absl::StatusOr<int64_t> EnrollmentRepository::DeleteExpiredChallenges(absl::Time before) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string cutoff, TimestamptzParam(before, "before"));
  return pool_.WithTransaction(
      "delete expired challenges", [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        // SKIP LOCKED: a challenge an enrollment holds is left for the next sweep, so the sweep
        // never waits for (or deadlocks with) the issuance writer.
        return static_cast<int64_t>(
            tx.exec_params("DELETE FROM challenges WHERE id IN (SELECT id FROM challenges "
                           "WHERE expires_at < $1::timestamptz FOR UPDATE SKIP LOCKED)",
                           cutoff)
                .affected_rows());
      });
}

}  // namespace keyline::store
