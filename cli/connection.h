// keylinectl's connection to keyline-server: gRPC over TLS 1.3 with the operator's client
// certificate, trusting only the given root.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "absl/status/statusor.h"

namespace keyline::cli {

struct ConnectionOptions {
  std::string server = "localhost:8443";
  std::string certificate_file;  // PEM client certificate chain; empty: connect without one
  std::string key_file;          // PEM private key
  std::string ca_file;           // PEM root that signed the server's certificate
};

[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(
    const ConnectionOptions& options);

}  // namespace keyline::cli
