#include "cli/output.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iostream>

#include "ca/certificate_der.h"
#include "common/hex.h"
#include "common/openssl_ptr.h"

namespace keyline::cli {
namespace {

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

bool IsSet(const google::protobuf::Timestamp& timestamp) {
  return timestamp.seconds() != 0 || timestamp.nanos() != 0;
}

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : "";
}

}  // namespace

nlohmann::json IssuedCertificateJson(const keyline::v1::IssuedCertificate& issued) {
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& der : issued.chain()) chain.push_back(ca::DerToPem(der));
  return {{"serial", issued.serial()},
          {"not_before", TimestampJson(issued.not_before())},
          {"not_after", TimestampJson(issued.not_after())},
          {"certificate", ca::DerToPem(issued.certificate())},
          {"chain", chain}};
}

std::string CertificateChainPem(const keyline::v1::IssuedCertificate& issued) {
  std::string pem = ca::DerToPem(issued.certificate());
  for (int i = 0; i + 1 < issued.chain_size(); ++i) pem += ca::DerToPem(issued.chain(i));
  return pem;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

std::string TimeText(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

std::string TimestampText(const google::protobuf::Timestamp& timestamp) {
  return IsSet(timestamp) ? TimeText(FromTimestamp(timestamp)) : "-";
}

nlohmann::json TimestampJson(const google::protobuf::Timestamp& timestamp) {
  if (!IsSet(timestamp)) return nullptr;
  return TimeText(FromTimestamp(timestamp));
}

CertificateSummary SummarizeCertificate(std::string_view der) {
  CertificateSummary summary;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(der.data(), der.size(), digest, &length, EVP_sha256(), nullptr) == 1) {
    summary.sha256 = HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
  }
  auto certificate = ca::ParseCertificateDer(der);
  if (!certificate.ok()) {
    summary.subject = "(not a certificate)";
    return summary;
  }
  summary.subject = NameText(X509_get_subject_name(certificate->get()));
  summary.not_before = ca::NotBeforeOf(certificate->get());
  summary.not_after = ca::NotAfterOf(certificate->get());
  return summary;
}

nlohmann::json CertificateSummaryJson(const CertificateSummary& summary) {
  return {{"subject", summary.subject},
          {"sha256", summary.sha256},
          {"not_before", TimeText(summary.not_before)},
          {"not_after", TimeText(summary.not_after)}};
}

void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

int ReportError(const grpc::Status& status, OutputFormat format) {
  return Report(GrpcCodeName(status.error_code()), status.error_message(), format);
}

int ReportError(const absl::Status& status, OutputFormat format) {
  return Report(std::string(absl::StatusCodeToString(status.code())), std::string(status.message()),
                format);
}

}  // namespace keyline::cli
