// keylinectl status SERIAL --issuer CA.pem --url URL: asks an OCSP responder (RFC 6960) whether a
// certificate is revoked, and believes the answer only once it is verified against the issuer
// (cli/ocsp_client.h): signature by the issuer or a responder it delegated, nonce echoed,
// thisUpdate/nextUpdate current.
//
// The responder: --url, else KEYLINE_OCSP_URL, else http://<host of --server>:8080/ocsp, where
// keyline-server's status listener (`status.listen`, default 127.0.0.1:8080) answers POST /ocsp.
// Behind a load balancer, or with another listen port, give --url: Keyline certificates name it
// in their Authority Information Access (public_base_url + "/ocsp").
//
// Exit codes (unlike other commands, since scripts branch on the verdict):
//   0 good, 1 revoked, 2 unknown (the responder does not know the serial),
//   3 error: bad arguments (usage errors included), unreachable responder, or an answer that
//     fails verification. Nothing on stdout then; the reason is on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "cli/output.h"

namespace keyline::cli {

inline constexpr int kStatusGoodExitCode = 0;
inline constexpr int kStatusRevokedExitCode = 1;
inline constexpr int kStatusUnknownExitCode = 2;
inline constexpr int kStatusErrorExitCode = 3;

struct StatusOptions {
  std::string serial;       // hex
  std::string issuer_file;  // PEM (exactly one certificate) or DER
  std::string url;          // empty: KEYLINE_OCSP_URL, else derived from `server`
  std::string server;       // --server (host:port of the gRPC API)
  bool sha256_cert_id = false;
  bool no_nonce = false;
  int timeout_seconds = 10;
};

// "http://<host>:8080/ocsp" for a gRPC target "host:port" ("[::1]:8443", "dns:///h:8443" too).
// InvalidArgument when no host can be taken from it.
[[nodiscard]] absl::StatusOr<std::string> DefaultOcspUrl(std::string_view server);

// Runs the check, printing the verdict to `out` and errors to `err`; returns the exit code.
int RunStatus(const StatusOptions& options, OutputFormat format, std::ostream& out,
              std::ostream& err);

//   status SERIAL --issuer CA.pem [--url URL] [--sha256] [--no-nonce] [--timeout SECONDS]
// Returns the subcommand so that main can map its usage errors to exit code 3.
CLI::App* AddStatusCommand(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
