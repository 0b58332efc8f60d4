#include "store/challenge_creation.h"

#include <pqxx/result>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "store/device_rows.h"
#include "store/field_checks.h"
#include "store/prepared_statement.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

constexpr size_t kChallengeIdBytes = 16;
constexpr size_t kNonceBytes = 32;

}  // namespace

absl::Status ValidateChallenge(const ChallengeRecord& challenge) {
  KEYLINE_RETURN_IF_ERROR(CheckByteCount(challenge.id, kChallengeIdBytes, "challenge.id"));
  KEYLINE_RETURN_IF_ERROR(CheckByteCount(challenge.nonce, kNonceBytes, "challenge.nonce"));
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(challenge.device_serial, "challenge.device_serial"));
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(challenge.requested_by, "challenge.requested_by"));
  if (challenge.purpose != "enroll" && challenge.purpose != "renew") {
    return absl::InvalidArgumentError("challenge.purpose: must be \"enroll\" or \"renew\"");
  }
  if (challenge.used_at) {
    return absl::InvalidArgumentError("challenge.used_at: a new challenge is unused");
  }
  return TimestamptzParam(challenge.expires_at, "challenge.expires_at").status();
}

absl::Status NameTakenChallengeId(absl::Status status) {
  if (status.code() != absl::StatusCode::kAlreadyExists) return status;
  return absl::AlreadyExistsError("challenge.id: a challenge with this id exists");
}

std::vector<absl::StatusOr<DeviceWithChallenge>> FindDevicesAndCreateChallenges(
    pqxx::transaction_base& transaction, std::span<const ChallengeRequest* const> requests) {
  // The requests as rows (n: their position); the INSERT and the final SELECT read the same
  // snapshot, so each device returned is the one its insert looked at.
  static const std::string* const kFindAndCreate = new std::string(absl::StrCat(
      "WITH r AS (SELECT * FROM unnest($1::bytea[], $2::text[], $3::bytea[], $4::text[], "
      "$5::text[], $6::timestamptz[], $7::bytea[]) WITH ORDINALITY "
      "AS r (id, device_serial, nonce, purpose, requested_by, expires_at, key_hash, n)), "
      "created AS (INSERT INTO challenges "
      "(id, device_serial, nonce, purpose, requested_by, expires_at) "
      "SELECT r.id, d.serial, r.nonce, r.purpose, r.requested_by, r.expires_at FROM r "
      "JOIN devices d ON d.serial = r.device_serial JOIN manufacturers m ON m.id = "
      "d.manufacturer_id "
      "WHERE d.state IN ('claimed', 'enrolled') AND m.status = 'trusted' "
      "AND d.attestation_key_sha256 = r.key_hash RETURNING id) "
      "SELECT r.n, ",
      DeviceWithManufacturerColumns(),
      ", c.id IS NOT NULL FROM r JOIN devices d ON d.serial = r.device_serial "
      "JOIN manufacturers m ON m.id = d.manufacturer_id LEFT JOIN created c ON c.id = r.id"));
  std::vector<std::string_view> ids, serials, nonces, purposes, requesters, key_hashes;
  std::vector<std::string> expiries;
  expiries.reserve(requests.size());
  for (const ChallengeRequest* request : requests) {
    const ChallengeRecord& challenge = request->challenge;
    ids.push_back(challenge.id);
    serials.push_back(challenge.device_serial);
    nonces.push_back(challenge.nonce);
    purposes.push_back(challenge.purpose);
    requesters.push_back(challenge.requested_by);
    expiries.push_back(FormatRfc3339Micros(challenge.expires_at));
    key_hashes.push_back(request->attestation_key_sha256);
  }
  const pqxx::result rows = ExecPrepared(
      transaction, "challenge.find_devices_and_create", *kFindAndCreate, ByteaArrayParam(ids),
      TextArrayParam(serials), ByteaArrayParam(nonces), TextArrayParam(purposes),
      TextArrayParam(requesters), TextArrayParam(expiries), ByteaArrayParam(key_hashes));

  std::vector<absl::StatusOr<DeviceWithChallenge>> results;
  results.reserve(requests.size());
  for (const ChallengeRequest* request : requests) {
    results.push_back(absl::NotFoundError(
        absl::StrCat("device_serial: no device ", request->challenge.device_serial)));
  }
  for (const pqxx::row& row : rows) {
    const size_t n = row[0].as<size_t>();
    results.at(n - 1) = DeviceWithChallenge{DeviceWithManufacturerFromRow(row, 1),
                                            row[1 + kDeviceWithManufacturerColumnCount].as<bool>()};
  }
  return results;
}

}  // namespace keyline::store
