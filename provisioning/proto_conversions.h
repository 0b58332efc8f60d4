// Conversions between Keyline's C++ types and its protobuf messages.
#pragma once

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/operator_identity.h"
#include "google/protobuf/timestamp.pb.h"
#include "keyline/v1/common.pb.h"
#include "provisioning/certificate_issuance.h"

namespace keyline::provisioning {

void ToTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp);

// InvalidArgument "role: required" for ROLE_UNSPECIFIED, "role: unknown value N" otherwise.
[[nodiscard]] absl::StatusOr<ca::OperatorRole> FromProtoRole(int role);
keyline::v1::Role ToProtoRole(ca::OperatorRole role);

// Certificate, its issuer chain (issuing CA first, root last), serial and validity.
void ToProto(const IssuedCertificate& issued, keyline::v1::IssuedCertificate* message);

}  // namespace keyline::provisioning
