// How keylinectl prints results: human text by default, one JSON document with --output json.
#pragma once

#include <string>

#include <grpcpp/support/status.h>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "keyline/v1/common.pb.h"

namespace keyline::cli {

enum class OutputFormat { kText, kJson };

// Serial, validity and the PEM certificate and chain of an issued certificate.
nlohmann::json IssuedCertificateJson(const keyline::v1::IssuedCertificate& issued);

// The leaf then its chain, PEM, without the root (what a TLS client sends).
std::string CertificateChainPem(const keyline::v1::IssuedCertificate& issued);

// Prints "error: CODE: message" (or {"error": {...}} as JSON) to stderr and returns exit code 1.
int ReportError(const grpc::Status& status, OutputFormat format);
int ReportError(const absl::Status& status, OutputFormat format);

}  // namespace keyline::cli
