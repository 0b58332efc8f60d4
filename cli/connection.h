// keylinectl's and keyline-station's connection to keyline-server: gRPC over TLS 1.3 with the
// operator's client certificate, trusting only the given root.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::cli {

struct ConnectionOptions {
  std::string server = "localhost:8443";
  std::string certificate_file;  // PEM client certificate chain; empty: connect without one
  std::string key_file;          // PEM private key
  std::string ca_file;           // PEM root that signed the server's certificate
};

// Responses of 5,000-device batches (voucher bundles, attestation certificates with chains) are
// larger than gRPC's default 4 MiB receive limit; keyline-server accepts requests up to this too.
inline constexpr int kMaxMessageBytes = 64 << 20;

[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(
    const ConnectionOptions& options);

// A context whose call fails with DEADLINE_EXCEEDED after `timeout`.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration timeout);

// The same code and message as an absl::Status (the numeric codes are the same).
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace keyline::cli
