// Enrollment challenges and completed enrollments. Completing an enrollment goes through the
// group-commit writer (store/issuance_writer.h, IssuanceWrite::enrollment); this repository
// creates challenges and answers lookups. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "store/challenge_creation.h"
#include "store/connection_pool.h"
#include "store/records.h"

namespace keyline::store {

struct ChallengeWithDevice {
  ChallengeRecord challenge;
  DeviceWithManufacturer device;  // the device it was issued for, and its manufacturer, as now
};

struct CompletedEnrollment {
  std::string request_id;
  std::string device_serial;
  CertificateRecord certificate;
};

class EnrollmentRepository {
 public:
  explicit EnrollmentRepository(ConnectionPool& pool) : pool_(pool) {}

  // Stores a new challenge (no audit event: challenges are ephemeral; the enrollment that uses
  // one is audited). FailedPrecondition when the device does not exist; AlreadyExists when the id
  // is taken; InvalidArgument for a malformed one (id 16 bytes, nonce 32, purpose, used_at set).
  [[nodiscard]] absl::Status CreateChallenge(const ChallengeRecord& challenge);

  // BeginEnrollment's one round trip: the device with its manufacturer, and `challenge` stored in
  // the same statement (one snapshot) if the device may use one now: claimed or enrolled, its
  // manufacturer trusted and its attestation key the one hashed to `attestation_key_sha256`.
  // The caller checks the device itself and deletes the challenge (DeleteChallenge) if it refuses
  // the request after all. NotFound when the device does not exist (nothing stored); otherwise as
  // CreateChallenge. ChallengeBatcher does the same for many requests in one round trip.
  [[nodiscard]] absl::StatusOr<DeviceWithChallenge> FindDeviceAndCreateChallenge(
      const ChallengeRecord& challenge, std::string_view attestation_key_sha256);
  // Deletes a challenge that was never handed out. OK when there was none.
  [[nodiscard]] absl::Status DeleteChallenge(std::string_view id);
  // NotFound when unknown.
  [[nodiscard]] absl::StatusOr<ChallengeRecord> FindChallenge(std::string_view id);
  // The challenge with its device and the device's manufacturer, in one statement (one round
  // trip, one snapshot): what CompleteEnrollment checks. NotFound when the challenge is unknown.
  [[nodiscard]] absl::StatusOr<ChallengeWithDevice> FindChallengeWithDevice(std::string_view id);

  // NotFound when no enrollment has this request_id.
  [[nodiscard]] absl::StatusOr<CompletedEnrollment> FindByRequestId(std::string_view request_id);

  // Deletes challenges that expired before `before`; returns how many. Challenges locked by an
  // enrollment in progress are skipped (left for the next sweep), so the sweep never waits.
  [[nodiscard]] absl::StatusOr<int64_t> DeleteExpiredChallenges(absl::Time before);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
