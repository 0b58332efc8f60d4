// BeginEnrollment's statement: for each request, the device with its manufacturer, and the
// challenge stored (in the same statement, one snapshot) if the device may use one now. Shared by
// EnrollmentRepository (one request) and ChallengeBatcher (many in one round trip).
#pragma once

#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/records.h"

namespace keyline::store {

struct DeviceWithChallenge {
  DeviceWithManufacturer device;
  bool challenge_created = false;
};

struct ChallengeRequest {
  ChallengeRecord challenge;
  // The challenge is stored only if the device's registered attestation key hashes to this.
  std::string attestation_key_sha256;
};

// InvalidArgument naming the field for a challenge that cannot be stored: id 16 bytes, nonce 32,
// purpose "enroll" or "renew", no used_at, a representable expiry.
[[nodiscard]] absl::Status ValidateChallenge(const ChallengeRecord& challenge);

// A unique violation on challenges (an id already stored) as "challenge.id: a challenge with
// this id exists"; any other status as it is.
[[nodiscard]] absl::Status NameTakenChallengeId(absl::Status status);

// One statement for every request (each validated by the caller). A request's challenge is stored
// if its device is claimed or enrolled, its manufacturer trusted and its attestation key the one
// hashed to attestation_key_sha256; the device is returned either way. One result per request, in
// order: NotFound when the device does not exist. Throws what pqxx throws; a challenge id already
// stored (or twice in `requests`) fails the whole statement with a unique violation.
std::vector<absl::StatusOr<DeviceWithChallenge>> FindDevicesAndCreateChallenges(
    pqxx::transaction_base& transaction, std::span<const ChallengeRequest* const> requests);

}  // namespace keyline::store
