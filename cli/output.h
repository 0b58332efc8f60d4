// How keylinectl and keyline-station print results: human text by default, one JSON document
// with --output json. Results go to stdout; errors, progress and notes to stderr.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/support/status.h>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "keyline/v1/common.pb.h"

namespace keyline::cli {

enum class OutputFormat { kText, kJson };

// Serial, validity and the PEM certificate and chain of an issued certificate.
nlohmann::json IssuedCertificateJson(const keyline::v1::IssuedCertificate& issued);

// The leaf then its chain, PEM, without the root (what a TLS client sends).
std::string CertificateChainPem(const keyline::v1::IssuedCertificate& issued);

// RFC 3339 UTC to the second ("2026-11-26T15:39:39Z"); "-" for an unset timestamp.
std::string TimestampText(const google::protobuf::Timestamp& timestamp);
std::string TimeText(absl::Time time);
// The same as JSON: a string, or null when unset.
nlohmann::json TimestampJson(const google::protobuf::Timestamp& timestamp);
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

// What an admin needs to recognize a certificate: subject (RFC 2253), SHA-256 fingerprint of
// the DER (lower-case hex), validity. Subject "(not a certificate)" when `der` does not parse.
struct CertificateSummary {
  std::string subject;
  std::string sha256;
  absl::Time not_before;
  absl::Time not_after;
};
CertificateSummary SummarizeCertificate(std::string_view der);
nlohmann::json CertificateSummaryJson(const CertificateSummary& summary);

// Prints rows as left-aligned columns separated by two spaces; the first row is the header.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// Prints "error: CODE: message" (or {"error": {...}} as JSON) to stderr and returns exit code 1.
int ReportError(const grpc::Status& status, OutputFormat format);
int ReportError(const absl::Status& status, OutputFormat format);

}  // namespace keyline::cli
