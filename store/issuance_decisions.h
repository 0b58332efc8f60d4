// Internal to store/: what an issuance batch decides for each row, in C++, from what it read under
// its row locks (store/issuance_batch.cc does the SQL). Pure: no database, no clock.
//
// Rows are decided in order as if each were written alone after the ones before it: a row that
// fails writes nothing and so takes nothing from later rows, and a row that succeeds takes its
// serial, request_id and challenge from every later row ("the first wins").
#pragma once

#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "store/issuance_writer.h"

namespace keyline::store {

// A challenges row, read under FOR UPDATE.
struct LockedChallenge {
  std::string device_serial;
  std::string purpose;
  absl::Time expires_at;
  bool used = false;
};

// The certificate a renewal presented, read under FOR SHARE.
struct LockedRenewedCertificate {
  std::string status;
  absl::Time not_after;
};

// A devices row, read under FOR NO KEY UPDATE.
struct LockedDevice {
  std::string state;
  std::optional<std::string> deployment;
  // Of the device's manufacturer, read with the lock: a revocation that committed since the
  // request's own checks still stops it here.
  std::string manufacturer_status = "trusted";
};

struct IssuanceBatchState {
  absl::Time now;  // the database's clock, read after the locks were granted
  std::unordered_set<std::string> stored_serials;          // raw serials already in certificates
  std::unordered_set<std::string> recorded_request_ids;    // already in enrollments
  std::unordered_map<std::string, LockedChallenge> challenges;  // by raw id; absent: unknown
  std::unordered_map<std::string, LockedDevice> devices;        // by serial; absent: unknown
  // By raw serial; absent: unknown.
  std::unordered_map<std::string, LockedRenewedCertificate> renewed_certificates;
  // The status of each CA enrollment rows are issued by, by CA id, read under FOR SHARE; absent:
  // unknown.
  std::unordered_map<int32_t, std::string> issuer_statuses;
};

// The enrollment part of ValidateIssuanceWrite (store/issuance_batch.h): InvalidArgument naming
// the field. certificate.device_serial, when set, must be the enrollment's device.
[[nodiscard]] absl::Status ValidateEnrollment(const EnrollmentRecord& enrollment,
                                              const CertificateRecord& certificate);

// One status per write, checked in this order (the first failure is the row's status):
//   enrollment rows: request_id recorded, or taken by an earlier row of the batch
//                      -> AlreadyExists "request_id: already completed"
//   every row:       serial stored, or taken by an earlier row -> AlreadyExists
//   enrollment rows: challenge unknown, for another device, for another purpose, used (or taken
//                      by an earlier row), expired (expires_at <= now); then the device unknown,
//                      decommissioned, not claimed, or owned by another deployment
//                      -> FailedPrecondition "challenge: ..." / "device: ..."
//   renewals:        the presented certificate unknown, revoked or expired (not_after <= now)
//                      -> PermissionDenied "client certificate: ..."
//   enrollment rows: the issuing CA no longer active (a rotation retired it after the request was
//                      checked, here or on another replica) -> Unavailable "issuer: ...": the
//                      retry goes to the new CA. Other rows (an OCSP signer of a retired CA, which
//                      keeps answering) are not held to this.
[[nodiscard]] std::vector<absl::Status> DecideIssuances(
    std::span<const IssuanceWrite* const> writes, const IssuanceBatchState& state);

}  // namespace keyline::store
