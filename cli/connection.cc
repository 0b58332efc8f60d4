#include "cli/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/tls_policy.h"

namespace keyline::cli {

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const ConnectionOptions& options) {
  KEYLINE_RETURN_IF_ERROR(RequireTls13ForThisProcess());
  if (options.ca_file.empty()) {
    return absl::InvalidArgumentError("--ca: the root certificate to trust is required");
  }
  grpc::SslCredentialsOptions tls;
  KEYLINE_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadFile(options.ca_file, 1 << 20));
  if (options.certificate_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("--cert and --key: give both or neither");
  }
  if (!options.certificate_file.empty()) {
    KEYLINE_ASSIGN_OR_RETURN(tls.pem_cert_chain, ReadFile(options.certificate_file, 1 << 20));
    KEYLINE_ASSIGN_OR_RETURN(tls.pem_private_key, ReadFile(options.key_file, 64 << 10));
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(tls), arguments);
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace keyline::cli
