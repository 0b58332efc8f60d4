#include "cli/output.h"

#include <iostream>

#include "absl/time/time.h"
#include "ca/certificate_der.h"

namespace keyline::cli {
namespace {

std::string Rfc3339(const google::protobuf::Timestamp& timestamp) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(timestamp.seconds()),
                          absl::UTCTimeZone());
}

const char* GrpcCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  const auto index = static_cast<size_t>(code);
  return index < std::size(kNames) ? kNames[index] : "UNKNOWN";
}

int Report(const std::string& code, const std::string& message, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    std::cerr << nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump() << "\n";
  } else {
    std::cerr << "error: " << code << ": " << message << "\n";
  }
  return 1;
}

}  // namespace

nlohmann::json IssuedCertificateJson(const keyline::v1::IssuedCertificate& issued) {
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& der : issued.chain()) chain.push_back(ca::DerToPem(der));
  return {{"serial", issued.serial()},
          {"not_before", Rfc3339(issued.not_before())},
          {"not_after", Rfc3339(issued.not_after())},
          {"certificate", ca::DerToPem(issued.certificate())},
          {"chain", chain}};
}

std::string CertificateChainPem(const keyline::v1::IssuedCertificate& issued) {
  std::string pem = ca::DerToPem(issued.certificate());
  for (int i = 0; i + 1 < issued.chain_size(); ++i) pem += ca::DerToPem(issued.chain(i));
  return pem;
}

int ReportError(const grpc::Status& status, OutputFormat format) {
  return Report(GrpcCodeName(status.error_code()), status.error_message(), format);
}

int ReportError(const absl::Status& status, OutputFormat format) {
  return Report(std::string(absl::StatusCodeToString(status.code())), std::string(status.message()),
                format);
}

}  // namespace keyline::cli
