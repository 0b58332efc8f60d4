#include "store/issuance_decisions.h"

#include <string_view>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "store/field_checks.h"
#include "store/issuance_writer.h"

namespace keyline::store {
namespace {

// A challenge id: 16 random bytes (migrations/0002_enrollment.sql checks the length too).
constexpr size_t kChallengeIdBytes = 16;
// Marks CheckIssuerActive's refusal for IsIssuerRetired (the message is for people).
constexpr char kIssuerRetiredPayload[] = "type.keyline.dev/keyline.store.IssuerRetired";

absl::Status RequestIdCompleted() {
  return absl::AlreadyExistsError("request_id: already completed");
}

// A renewal's certificate, as it is when the renewal commits: revoked or expired after the RPC's
// own check, the device must attest afresh (DESIGN.md, Enrollment).
absl::Status CheckRenewedCertificate(const EnrollmentRecord& enrollment,
                                     const IssuanceBatchState& state) {
  if (enrollment.renewed_certificate_serial.empty()) return absl::OkStatus();
  const auto certificate = state.renewed_certificates.find(enrollment.renewed_certificate_serial);
  if (certificate == state.renewed_certificates.end()) {
    return absl::PermissionDeniedError("client certificate: unknown");
  }
  if (certificate->second.status != "good") {
    return absl::PermissionDeniedError("client certificate: revoked");
  }
  if (certificate->second.not_after <= state.now) {
    return absl::PermissionDeniedError("client certificate: expired");
  }
  return absl::OkStatus();
}

// The challenge's and the device's rules for an enrollment row whose request_id and serial are
// free; `taken_challenges` holds those used by earlier rows of the batch.
absl::Status CheckChallengeAndDevice(const EnrollmentRecord& enrollment,
                                     const IssuanceBatchState& state,
                                     const std::unordered_set<std::string_view>& taken_challenges) {
  const auto challenge = state.challenges.find(enrollment.challenge_id);
  if (challenge == state.challenges.end()) {
    return absl::FailedPreconditionError("challenge: not found");
  }
  if (challenge->second.device_serial != enrollment.device_serial) {
    return absl::FailedPreconditionError("challenge: issued for another device");
  }
  if (challenge->second.purpose != enrollment.purpose) {
    return absl::FailedPreconditionError(absl::StrCat(
        "challenge: issued for ", challenge->second.purpose, ", not ", enrollment.purpose));
  }
  if (challenge->second.used || taken_challenges.contains(enrollment.challenge_id)) {
    return absl::FailedPreconditionError("challenge: already used");
  }
  if (challenge->second.expires_at <= state.now) {
    return absl::FailedPreconditionError("challenge: expired");
  }

  const auto device = state.devices.find(enrollment.device_serial);
  if (device == state.devices.end()) return absl::FailedPreconditionError("device: not found");
  const std::string& device_state = device->second.state;
  if (device_state == "decommissioned") {
    return absl::FailedPreconditionError("device: decommissioned");
  }
  if (device_state == "registered") return absl::FailedPreconditionError("device: not claimed");
  if (device_state != "claimed" && device_state != "enrolled") {
    return absl::FailedPreconditionError(absl::StrCat("device: in state ", device_state));
  }
  // The other deployment's name stays out of the message: it is another tenant's.
  if (device->second.deployment != enrollment.expected_deployment) {
    return absl::FailedPreconditionError("device: owned by another deployment");
  }
  if (device->second.manufacturer_status != "trusted") {
    return absl::FailedPreconditionError("device: its manufacturer is revoked");
  }
  return CheckRenewedCertificate(enrollment, state);
}

// A device certificate comes from its deployment's active CA only.
absl::Status CheckIssuerActive(int32_t issuer_id, const IssuanceBatchState& state) {
  const auto issuer = state.issuer_statuses.find(issuer_id);
  if (issuer == state.issuer_statuses.end()) {
    return absl::FailedPreconditionError("issuer: unknown CA");
  }
  if (issuer->second != "active") {
    absl::Status retired = absl::UnavailableError(absl::StrCat(
        "issuer: the deployment CA was ", issuer->second,
        " by a rotation after this request was checked; retry, and the new CA issues"));
    retired.SetPayload(kIssuerRetiredPayload, absl::Cord());
    return retired;
  }
  return absl::OkStatus();
}

}  // namespace

bool IsIssuerRetired(const absl::Status& status) {
  return absl::IsUnavailable(status) && status.GetPayload(kIssuerRetiredPayload).has_value();
}

absl::Status ValidateEnrollment(const EnrollmentRecord& enrollment,
                                const CertificateRecord& certificate) {
  for (const auto& [text, field] :
       {std::pair<std::string_view, std::string_view>{enrollment.request_id,
                                                      "enrollment.request_id"},
        {enrollment.device_serial, "enrollment.device_serial"},
        {enrollment.expected_deployment, "enrollment.expected_deployment"}}) {
    if (absl::Status status = CheckNonEmptyText(text, field); !status.ok()) return status;
  }
  if (absl::Status status =
          CheckByteCount(enrollment.challenge_id, kChallengeIdBytes, "enrollment.challenge_id");
      !status.ok()) {
    return status;
  }
  if (enrollment.purpose != "enroll" && enrollment.purpose != "renew") {
    return absl::InvalidArgumentError("enrollment.purpose: must be \"enroll\" or \"renew\"");
  }
  if (enrollment.renewed_certificate_serial.empty() != (enrollment.purpose == "enroll")) {
    return absl::InvalidArgumentError(
        "enrollment.renewed_certificate_serial: required for renewals, and only for them");
  }
  if (certificate.device_serial && *certificate.device_serial != enrollment.device_serial) {
    return absl::InvalidArgumentError(
        "certificate.device_serial: differs from enrollment.device_serial");
  }
  return absl::OkStatus();
}

std::vector<absl::Status> DecideIssuances(std::span<const IssuanceWrite* const> writes,
                                          const IssuanceBatchState& state) {
  std::vector<absl::Status> statuses;
  statuses.reserve(writes.size());
  // Views into `writes`, which outlive this function's sets.
  std::unordered_set<std::string_view> taken_serials;
  std::unordered_set<std::string_view> taken_request_ids;
  std::unordered_set<std::string_view> taken_challenges;
  for (const IssuanceWrite* write : writes) {
    const std::optional<EnrollmentRecord>& enrollment = write->enrollment;
    if (enrollment && (state.recorded_request_ids.contains(enrollment->request_id) ||
                       taken_request_ids.contains(enrollment->request_id))) {
      statuses.push_back(RequestIdCompleted());
      continue;
    }
    const std::string& serial = write->certificate.serial;
    if (state.stored_serials.contains(serial) || taken_serials.contains(serial)) {
      statuses.push_back(
          absl::AlreadyExistsError("a certificate with this serial is already stored"));
      continue;
    }
    if (enrollment) {
      absl::Status status = CheckChallengeAndDevice(*enrollment, state, taken_challenges);
      if (status.ok()) status = CheckIssuerActive(write->certificate.issuer_id, state);
      if (!status.ok()) {
        statuses.push_back(std::move(status));
        continue;
      }
      taken_request_ids.insert(enrollment->request_id);
      taken_challenges.insert(enrollment->challenge_id);
    }
    taken_serials.insert(serial);
    statuses.push_back(absl::OkStatus());
  }
  return statuses;
}

}  // namespace keyline::store
