#include "provisioning/proto_conversions.h"

#include "absl/strings/str_cat.h"
#include "common/hex.h"

namespace keyline::provisioning {

void ToTimestamp(absl::Time time, google::protobuf::Timestamp* timestamp) {
  const int64_t nanos = absl::ToUnixNanos(time);
  timestamp->set_seconds(nanos / 1000000000);
  timestamp->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

absl::StatusOr<ca::OperatorRole> FromProtoRole(int role) {
  switch (role) {
    case keyline::v1::ROLE_ADMIN:
      return ca::OperatorRole::kAdmin;
    case keyline::v1::ROLE_FACTORY:
      return ca::OperatorRole::kFactory;
    case keyline::v1::ROLE_GATEWAY:
      return ca::OperatorRole::kGateway;
    case keyline::v1::ROLE_UNSPECIFIED:
      return absl::InvalidArgumentError("role: required (admin, factory or gateway)");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("role: unknown value ", role, " (admin, factory or gateway)"));
  }
}

keyline::v1::Role ToProtoRole(ca::OperatorRole role) {
  switch (role) {
    case ca::OperatorRole::kAdmin:
      return keyline::v1::ROLE_ADMIN;
    case ca::OperatorRole::kFactory:
      return keyline::v1::ROLE_FACTORY;
    case ca::OperatorRole::kGateway:
      return keyline::v1::ROLE_GATEWAY;
  }
  return keyline::v1::ROLE_UNSPECIFIED;
}

void ToProto(const IssuedCertificate& issued, keyline::v1::IssuedCertificate* message) {
  message->set_serial(HexEncode(issued.serial));
  message->set_certificate(issued.der);
  for (const auto& der : issued.issuer->chain_der()) message->add_chain(der);
  ToTimestamp(issued.not_before, message->mutable_not_before());
  ToTimestamp(issued.not_after, message->mutable_not_after());
}

}  // namespace keyline::provisioning
