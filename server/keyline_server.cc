#include "server/keyline_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/tls_policy.h"
#include "server/credentials.h"
#include "server/hsm_setup.h"
#include "store/ca_repository.h"
#include "store/migrator.h"

namespace keyline::server {
namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const Config& config) {
  const CredentialFiles files = ServerTlsFiles(config);
  KEYLINE_ASSIGN_OR_RETURN(std::string key, ReadFile(files.key, 64 << 10));
  KEYLINE_ASSIGN_OR_RETURN(std::string chain, ReadFile(files.certificate, 1 << 20));
  KEYLINE_ASSIGN_OR_RETURN(std::string root, ReadFile(files.ca, 1 << 20));
  grpc::SslServerCredentialsOptions options(
      // Verify a client certificate when one is presented, but let calls without one through to
      // the handlers: they answer UNAUTHENTICATED with a message, which a failed handshake cannot.
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = std::move(root);
  options.pem_key_cert_pairs.push_back({std::move(key), std::move(chain)});
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeylineServer>> KeylineServer::Start(const Config& config) {
  KEYLINE_RETURN_IF_ERROR(RequireTls13ForThisProcess());
  std::unique_ptr<KeylineServer> server(new KeylineServer());
  server->config_ = config;

  KEYLINE_RETURN_IF_ERROR(PrepareBundledSoftHsm(config));
  KEYLINE_ASSIGN_OR_RETURN(server->token_, OpenToken(config));
  KEYLINE_RETURN_IF_ERROR(store::CheckSchemaCurrent(config.database.url));
  store::ConnectionPoolOptions pool_options;
  pool_options.database_url = config.database.url;
  pool_options.size = config.database.pool_size;
  KEYLINE_ASSIGN_OR_RETURN(server->pool_, store::ConnectionPool::Create(pool_options));
  store::CaRepository ca_repository(*server->pool_);
  KEYLINE_ASSIGN_OR_RETURN(server->cas_, LoadCaSet(*server->token_, ca_repository));

  store::IssuanceWriterOptions writer_options;
  writer_options.database_url = config.database.url;
  KEYLINE_ASSIGN_OR_RETURN(server->writer_, store::IssuanceWriter::Start(writer_options));
  server->issuance_ =
      std::make_unique<provisioning::CertificateIssuance>(server->config_.profiles, *server->writer_);
  server->authenticator_ = std::make_unique<provisioning::OperatorAuthenticator>(
      server->cas_.operator_ca->certificate());
  server->admin_service_ = std::make_unique<provisioning::AdminServiceImpl>(
      *server->authenticator_, *server->issuance_, *server->cas_.operator_ca);

  KEYLINE_ASSIGN_OR_RETURN(auto credentials, ServerCredentials(config));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second server on the same port would start and
  // silently take half the connections; a port in use must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(config.grpc.listen, credentials, &server->grpc_port_);
  builder.RegisterService(server->admin_service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (!server->grpc_server_ || server->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("grpc.listen: cannot listen on ", config.grpc.listen));
  }
  LogEvent(spdlog::level::info, "server.started",
           {{"grpc_listen", config.grpc.listen}, {"grpc_port", server->grpc_port_},
            {"deployments", server->cas_.deployments.size()}});
  return server;
}

void KeylineServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  const bool was_serving = grpc_server_ != nullptr && grpc_port_ != 0;
  if (grpc_server_) grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  writer_.reset();  // commits what is queued
  if (was_serving) LogEvent(spdlog::level::info, "server.stopped");
}

void KeylineServer::Wait() {
  if (grpc_server_) grpc_server_->Wait();
}

KeylineServer::~KeylineServer() { Shutdown(); }

}  // namespace keyline::server
