#include "cli/status_command.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/revocation_reason.h"
#include "cli/ocsp_client.h"
#include "cli/revocation_batch_file.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/hex.h"
#include "common/status_macros.h"

namespace keyline::cli {
namespace {

constexpr size_t kMaxIssuerFileBytes = 64 << 10;
constexpr int kMaxTimeoutSeconds = 300;

int Fail(const absl::Status& status, OutputFormat format, std::ostream& err) {
  const std::string code(absl::StatusCodeToString(status.code()));
  const std::string message(status.message());
  if (format == OutputFormat::kJson) {
    err << nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump() << "\n";
  } else {
    err << "error: " << code << ": " << message << "\n";
  }
  return kStatusErrorExitCode;
}

// The one CA certificate, from PEM or DER.
absl::StatusOr<X509Ptr> ReadIssuer(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("--issuer: required");
  KEYLINE_ASSIGN_OR_RETURN(const std::string contents, ReadFile(path, kMaxIssuerFileBytes));
  std::string der = contents;
  if (absl::StrContains(contents, "-----BEGIN")) {
    auto chain = ca::PemToDerChain(contents);
    if (!chain.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--issuer: ", path, ": ", chain.status().message()));
    }
    if (chain->size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--issuer: ", path, " holds ", chain->size(),
                       " certificates; give only the CA that issued the certificate"));
    }
    der = chain->front();
  }
  auto issuer = ca::ParseCertificateDer(der);
  if (!issuer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--issuer: ", path, ": neither a PEM nor a DER certificate"));
  }
  return issuer;
}

absl::StatusOr<std::string> ResponderUrl(const StatusOptions& options) {
  if (!options.url.empty()) return options.url;
  const char* from_environment = std::getenv("KEYLINE_OCSP_URL");
  if (from_environment != nullptr && *from_environment != '\0') return from_environment;
  auto derived = DefaultOcspUrl(options.server);
  if (!derived.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--url: give the OCSP responder's URL (or set KEYLINE_OCSP_URL); none can be derived "
        "from --server: ",
        derived.status().message()));
  }
  return derived;
}

std::string OptionalTimeText(const std::optional<absl::Time>& time) {
  return time ? TimeText(*time) : "-";
}

nlohmann::json OptionalTimeJson(const std::optional<absl::Time>& time) {
  return time ? nlohmann::json(TimeText(*time)) : nlohmann::json();
}

std::string ReasonText(const std::optional<int>& reason) {
  return reason ? std::string(ca::RevocationReasonName(*reason)) : "";
}

void Print(const OcspVerdict& verdict, const std::string& serial_hex, const std::string& url,
           OutputFormat format, std::ostream& out) {
  const std::string status(OcspCertificateStatusName(verdict.status));
  const bool revoked = verdict.status == OcspCertificateStatus::kRevoked;
  const std::string nonce = verdict.nonce_matched ? "matched" : "not requested";
  if (format == OutputFormat::kJson) {
    out << nlohmann::json{{"serial", serial_hex},
                          {"status", status},
                          {"revoked_at", OptionalTimeJson(verdict.revoked_at)},
                          {"reason", verdict.reason ? nlohmann::json(ReasonText(verdict.reason))
                                                    : nlohmann::json()},
                          {"this_update", TimeText(verdict.this_update)},
                          {"next_update", OptionalTimeJson(verdict.next_update)},
                          {"responder", verdict.responder},
                          {"nonce", nonce},
                          {"url", url}}
               .dump(2)
        << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {{"serial:", serial_hex}, {"status:", status}};
  if (revoked) {
    rows.push_back({"revoked at:", OptionalTimeText(verdict.revoked_at)});
    rows.push_back({"reason:", verdict.reason ? ReasonText(verdict.reason) : "(none given)"});
  }
  rows.push_back({"this update:", TimeText(verdict.this_update)});
  rows.push_back({"next update:", verdict.next_update ? TimeText(*verdict.next_update)
                                                      : "- (newer information may exist)"});
  rows.push_back({"responder:", verdict.responder});
  rows.push_back({"nonce:", nonce});
  PrintTable(out, rows);
}

}  // namespace

absl::StatusOr<std::string> DefaultOcspUrl(std::string_view server) {
  // gRPC target URIs: "dns:///host:port", "dns://resolver/host:port", "ipv4:host:port".
  if (const size_t slash = server.rfind('/'); slash != std::string_view::npos) {
    server.remove_prefix(slash + 1);
  } else if (absl::StartsWith(AsAbsl(server), "ipv4:") ||
             absl::StartsWith(AsAbsl(server), "ipv6:")) {
    server.remove_prefix(5);
  }
  std::string_view host = server;
  if (absl::StartsWith(AsAbsl(server), "[")) {
    const size_t close = server.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("\"", AsAbsl(server), "\": no closing ]"));
    }
    host = server.substr(0, close + 1);
  } else if (const size_t colon = server.find(':'); colon != std::string_view::npos) {
    if (server.find(':', colon + 1) != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", AsAbsl(server), "\": write an IPv6 address as [address]:port"));
    }
    host = server.substr(0, colon);
  }
  if (host.empty() || host == "[]") {
    return absl::InvalidArgumentError(absl::StrCat("\"", AsAbsl(server), "\": no host"));
  }
  return absl::StrCat("http://", AsAbsl(host), ":8080/ocsp");
}

int RunStatus(const StatusOptions& options, OutputFormat format, std::ostream& out,
              std::ostream& err) {
  if (options.serial.empty()) {
    return Fail(absl::InvalidArgumentError("SERIAL: required (the certificate serial in hex)"),
                format, err);
  }
  auto serial = ParseCertificateSerialHex(options.serial, "SERIAL");
  if (!serial.ok()) return Fail(serial.status(), format, err);
  if (options.timeout_seconds < 1 || options.timeout_seconds > kMaxTimeoutSeconds) {
    return Fail(absl::InvalidArgumentError(
                    absl::StrCat("--timeout: 1 to ", kMaxTimeoutSeconds, " seconds")),
                format, err);
  }
  auto issuer = ReadIssuer(options.issuer_file);
  if (!issuer.ok()) return Fail(issuer.status(), format, err);
  auto url = ResponderUrl(options);
  if (!url.ok()) return Fail(url.status(), format, err);

  OcspRequestOptions request_options;
  request_options.serial = *serial;
  request_options.sha256_cert_id = options.sha256_cert_id;
  request_options.nonce = !options.no_nonce;
  auto request = BuildOcspRequest(request_options, issuer->get());
  if (!request.ok()) return Fail(request.status(), format, err);
  auto response = PostOcspRequest(*url, request->der, absl::Seconds(options.timeout_seconds));
  if (!response.ok()) return Fail(response.status(), format, err);
  auto verdict = VerifyOcspResponse(*response, *request, issuer->get(), absl::Now());
  if (!verdict.ok()) return Fail(verdict.status(), format, err);

  Print(*verdict, HexEncode(*serial), *url, format, out);
  switch (verdict->status) {
    case OcspCertificateStatus::kGood:
      return kStatusGoodExitCode;
    case OcspCertificateStatus::kRevoked:
      return kStatusRevokedExitCode;
    case OcspCertificateStatus::kUnknown:
    default:
      return kStatusUnknownExitCode;
  }
}

CLI::App* AddStatusCommand(CLI::App& app, Invocation& invocation) {
  auto options = std::make_shared<StatusOptions>();
  auto* command = app.add_subcommand(
      "status", "ask an OCSP responder whether a certificate is revoked, verifying the answer");
  command->footer(
      "The answer is believed only when signed by the issuer or by a responder certificate\n"
      "the issuer signed (id-kp-OCSPSigning), with the request's nonce echoed (unless\n"
      "--no-nonce) and thisUpdate/nextUpdate current. Responder: --url, else KEYLINE_OCSP_URL,\n"
      "else http://<host of --server>:8080/ocsp (keyline-server's default status.listen port);\n"
      "certificates name the real one in their AIA (public_base_url + /ocsp).\n"
      "Exit codes: 0 good, 1 revoked, 2 unknown, 3 error (usage errors included).");
  command->add_option("serial", options->serial, "the certificate's serial number in hex");
  command->add_option("--issuer", options->issuer_file,
                      "the CA certificate that issued it (PEM or DER); the only trust anchor");
  command->add_option("--url", options->url,
                      "the OCSP responder, e.g. http://pki.example:8080/ocsp (env "
                      "KEYLINE_OCSP_URL; default http://<host of --server>:8080/ocsp)");
  command->add_flag("--sha256", options->sha256_cert_id,
                    "hash the CertID with SHA-256 instead of SHA-1");
  command->add_flag("--no-nonce", options->no_nonce,
                    "send no nonce, accepting the responder's cached (pre-signed) answers");
  command->add_option("--timeout", options->timeout_seconds,
                      "seconds to wait for the responder (default 10)");
  OnRun(command, invocation, [&invocation, options] {
    options->server = invocation.globals.connection.server;
    return RunStatus(*options, invocation.globals.format(), std::cout, std::cerr);
  });
  return command;
}

}  // namespace keyline::cli
