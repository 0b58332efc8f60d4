#include "store/issuance_decisions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/issuance_writer.h"

namespace keyline::store {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::string ChallengeId(char fill) { return std::string(16, fill); }

IssuanceWrite Plain(std::string serial) {
  IssuanceWrite write;
  write.certificate.serial = std::move(serial);
  return write;
}

IssuanceWrite Enrollment(std::string serial, std::string request_id, char challenge,
                         std::string device = "dev-1", std::string purpose = "enroll") {
  IssuanceWrite write = Plain(std::move(serial));
  write.enrollment = EnrollmentRecord{std::move(request_id), ChallengeId(challenge),
                                      std::move(device),     "acme",
                                      std::move(purpose),    ""};
  return write;
}

// Challenges 'a'..'e' for dev-1 (enroll), one per test scenario; dev-1 claimed by acme.
IssuanceBatchState State() {
  IssuanceBatchState state;
  state.now = kNow;
  for (char c : {'a', 'b', 'c', 'd', 'e'}) {
    state.challenges[ChallengeId(c)] = {"dev-1", "enroll", kNow + absl::Seconds(60), false};
  }
  state.devices["dev-1"] = {"claimed", "acme"};
  state.issuer_statuses[0] = "active";  // the rows' issuer_id
  return state;
}

std::vector<absl::Status> Decide(const std::vector<IssuanceWrite>& writes,
                                 const IssuanceBatchState& state) {
  std::vector<const IssuanceWrite*> pointers;
  for (const IssuanceWrite& write : writes) pointers.push_back(&write);
  return DecideIssuances(pointers, state);
}

void ExpectStatus(const absl::Status& status, absl::StatusCode code, std::string_view message) {
  EXPECT_EQ(status.code(), code) << status;
  if (!message.empty()) {
    EXPECT_EQ(std::string(status.message()), message) << status;
  }
}

TEST(IssuanceDecisionsTest, PlainRowsFirstSerialWins) {
  IssuanceBatchState state;
  state.stored_serials = {"stored"};
  const std::vector<absl::Status> statuses =
      Decide({Plain("s1"), Plain("stored"), Plain("s1"), Plain("s2")}, state);
  EXPECT_TRUE(statuses[0].ok());
  ExpectStatus(statuses[1], absl::StatusCode::kAlreadyExists, "");
  ExpectStatus(statuses[2], absl::StatusCode::kAlreadyExists, "");
  EXPECT_TRUE(statuses[3].ok());
}

// A rotation retired the CA after the request was checked (here, or on a replica that has not
// adopted the new CA yet): the device certificate is not stored, and the retry goes to the new CA.
// Other rows, such as a retired CA's OCSP signer, may still come from it.
TEST(IssuanceDecisionsTest, ARetiredIssuerStopsEnrollmentRowsOnly) {
  IssuanceBatchState state = State();
  state.issuer_statuses[0] = "retired";
  std::vector<absl::Status> statuses = Decide({Enrollment("s1", "r1", 'a'), Plain("s2")}, state);
  ExpectStatus(statuses[0], absl::StatusCode::kUnavailable,
               "issuer: the deployment CA was retired by a rotation after this request was "
               "checked; retry, and the new CA issues");
  // Marked, so that the caller can look for the new CA at once.
  EXPECT_TRUE(IsIssuerRetired(statuses[0]));
  EXPECT_FALSE(IsIssuerRetired(absl::UnavailableError(statuses[0].message())));
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];
  // The refused row takes nothing: a later row with its challenge and request_id, from the
  // active CA, passes.
  state.issuer_statuses[7] = "active";
  IssuanceWrite retry = Enrollment("s3", "r1", 'a');
  retry.certificate.issuer_id = 7;
  statuses = Decide({Enrollment("s1", "r1", 'a'), retry}, state);
  EXPECT_EQ(statuses[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];

  state.issuer_statuses.erase(0);
  ExpectStatus(Decide({Enrollment("s1", "r1", 'a')}, state)[0],
               absl::StatusCode::kFailedPrecondition, "issuer: unknown CA");
}

TEST(IssuanceDecisionsTest, EnrollmentRowPassesWhenEverythingHolds) {
  const std::vector<absl::Status> statuses = Decide({Enrollment("s1", "r1", 'a')}, State());
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  IssuanceBatchState enrolled = State();
  enrolled.devices["dev-1"].state = "enrolled";  // renewal or a second enrollment
  EXPECT_TRUE(Decide({Enrollment("s1", "r1", 'a')}, enrolled)[0].ok());
}

TEST(IssuanceDecisionsTest, ChallengeRules) {
  IssuanceBatchState state = State();
  state.challenges[ChallengeId('b')].used = true;
  state.challenges[ChallengeId('c')].expires_at = kNow;  // expires_at <= now is expired
  state.challenges[ChallengeId('d')].device_serial = "dev-2";
  state.challenges[ChallengeId('e')].purpose = "renew";
  const std::vector<absl::Status> statuses =
      Decide({Enrollment("s1", "r1", 'z'), Enrollment("s2", "r2", 'b'),
              Enrollment("s3", "r3", 'c'), Enrollment("s4", "r4", 'd'),
              Enrollment("s5", "r5", 'e')},
             state);
  ExpectStatus(statuses[0], absl::StatusCode::kFailedPrecondition, "challenge: not found");
  ExpectStatus(statuses[1], absl::StatusCode::kFailedPrecondition, "challenge: already used");
  ExpectStatus(statuses[2], absl::StatusCode::kFailedPrecondition, "challenge: expired");
  ExpectStatus(statuses[3], absl::StatusCode::kFailedPrecondition,
               "challenge: issued for another device");
  ExpectStatus(statuses[4], absl::StatusCode::kFailedPrecondition,
               "challenge: issued for renew, not enroll");
}

// A renewal's certificate as the batch read it under its lock: revoked or expired since the RPC
// looked, it refuses the renewal.
TEST(IssuanceDecisionsTest, RenewalRulesForThePresentedCertificate) {
  IssuanceBatchState state = State();
  for (char c : {'a', 'b', 'c', 'd'}) state.challenges[ChallengeId(c)].purpose = "renew";
  state.renewed_certificates["good"] = {"good", kNow + absl::Hours(1)};
  state.renewed_certificates["revoked"] = {"revoked", kNow + absl::Hours(1)};
  state.renewed_certificates["expired"] = {"good", kNow};  // not_after <= now is expired
  std::vector<IssuanceWrite> writes;
  for (const auto& [challenge, presented] : std::vector<std::pair<char, std::string>>{
           {'a', "good"}, {'b', "revoked"}, {'c', "expired"}, {'d', "unknown"}}) {
    writes.push_back(Enrollment(std::string("s") + challenge, std::string("r") + challenge,
                                challenge, "dev-1", "renew"));
    writes.back().enrollment->renewed_certificate_serial = presented;
  }
  const std::vector<absl::Status> statuses = Decide(writes, state);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  ExpectStatus(statuses[1], absl::StatusCode::kPermissionDenied, "client certificate: revoked");
  ExpectStatus(statuses[2], absl::StatusCode::kPermissionDenied, "client certificate: expired");
  ExpectStatus(statuses[3], absl::StatusCode::kPermissionDenied, "client certificate: unknown");
}

TEST(IssuanceDecisionsTest, DeviceRules) {
  for (const auto& [device, message] : std::vector<std::pair<LockedDevice, std::string>>{
           {{"decommissioned", "acme"}, "device: decommissioned"},
           {{"registered", std::nullopt}, "device: not claimed"},
           {{"claimed", "globex"}, "device: owned by another deployment"},
           {{"enrolled", "globex"}, "device: owned by another deployment"},
           {{"quarantined", "acme"}, "device: in state quarantined"},
           {{"claimed", "acme", "revoked"}, "device: its manufacturer is revoked"}}) {
    IssuanceBatchState state = State();
    state.devices["dev-1"] = device;
    ExpectStatus(Decide({Enrollment("s1", "r1", 'a')}, state)[0],
                 absl::StatusCode::kFailedPrecondition, message);
  }
  IssuanceBatchState unknown = State();
  unknown.devices.clear();
  ExpectStatus(Decide({Enrollment("s1", "r1", 'a')}, unknown)[0],
               absl::StatusCode::kFailedPrecondition, "device: not found");
}

TEST(IssuanceDecisionsTest, FirstRowWinsChallengeAndRequestId) {
  const std::vector<absl::Status> statuses =
      Decide({Enrollment("s1", "r1", 'a'), Enrollment("s2", "r2", 'a'),
              Enrollment("s3", "r1", 'b'), Enrollment("s4", "r4", 'b')},
             State());
  EXPECT_TRUE(statuses[0].ok());
  ExpectStatus(statuses[1], absl::StatusCode::kFailedPrecondition, "challenge: already used");
  ExpectStatus(statuses[2], absl::StatusCode::kAlreadyExists, "request_id: already completed");
  // Row 2 failed, so it did not take challenge 'b'.
  EXPECT_TRUE(statuses[3].ok()) << statuses[3];
}

TEST(IssuanceDecisionsTest, AFailedRowTakesNothingFromLaterRows) {
  IssuanceBatchState state = State();
  state.devices["dev-2"] = {"decommissioned", "acme"};
  state.challenges[ChallengeId('x')] = {"dev-2", "enroll", kNow + absl::Seconds(1), false};
  const std::vector<absl::Status> statuses =
      Decide({Enrollment("s1", "r1", 'x', "dev-2"),  // fails: device decommissioned
              Enrollment("s1", "r1", 'a'),           // same serial and request_id: free again
              Plain("s1")},                          // now taken by row 1
             state);
  ExpectStatus(statuses[0], absl::StatusCode::kFailedPrecondition, "device: decommissioned");
  EXPECT_TRUE(statuses[1].ok()) << statuses[1];
  ExpectStatus(statuses[2], absl::StatusCode::kAlreadyExists, "");
}

TEST(IssuanceDecisionsTest, RecordedRequestIdComesBeforeEveryOtherCheck) {
  IssuanceBatchState state = State();
  state.recorded_request_ids = {"r1"};
  state.stored_serials = {"s1"};
  state.challenges[ChallengeId('a')].used = true;
  // A retry of a completed request: its challenge is used and maybe its serial stored, but what
  // the caller needs to hear is that the request completed.
  ExpectStatus(Decide({Enrollment("s1", "r1", 'a')}, state)[0], absl::StatusCode::kAlreadyExists,
               "request_id: already completed");
  ExpectStatus(Decide({Enrollment("s9", "r1", 'a')}, state)[0], absl::StatusCode::kAlreadyExists,
               "request_id: already completed");
  // A new request with a stored serial: the serial.
  ExpectStatus(Decide({Enrollment("s1", "r2", 'b')}, state)[0], absl::StatusCode::kAlreadyExists,
               "a certificate with this serial is already stored");
}

TEST(IssuanceDecisionsTest, ValidateEnrollmentNamesTheField) {
  CertificateRecord certificate;
  EnrollmentRecord good{"r1", ChallengeId('a'), "dev-1", "acme", "enroll", ""};
  EXPECT_TRUE(ValidateEnrollment(good, certificate).ok());
  certificate.device_serial = "dev-1";
  EXPECT_TRUE(ValidateEnrollment(good, certificate).ok());
  certificate.device_serial = "dev-2";
  ExpectStatus(ValidateEnrollment(good, certificate), absl::StatusCode::kInvalidArgument,
               "certificate.device_serial: differs from enrollment.device_serial");
  certificate.device_serial.reset();

  EnrollmentRecord bad = good;
  bad.request_id.clear();
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.request_id: empty");
  bad = good;
  bad.challenge_id = "short";
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.challenge_id: must be 16 bytes, not 5");
  bad = good;
  bad.purpose = "steal";
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.purpose: must be \"enroll\" or \"renew\"");
  bad = good;
  bad.renewed_certificate_serial = "\x01";  // an enrollment presents no certificate
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.renewed_certificate_serial: required for renewals, and only for them");
  bad = good;
  bad.purpose = "renew";  // a renewal must name the certificate it renews with
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.renewed_certificate_serial: required for renewals, and only for them");
  bad = good;
  bad.expected_deployment.clear();
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.expected_deployment: empty");
  bad = good;
  bad.device_serial = std::string("a\0b", 3);
  ExpectStatus(ValidateEnrollment(bad, certificate), absl::StatusCode::kInvalidArgument,
               "enrollment.device_serial: contains a NUL character");
}

}  // namespace
}  // namespace keyline::store
