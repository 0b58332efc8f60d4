#include "tests/support/keyline_environment.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <grpcpp/create_channel.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/tls_policy.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace keyline::testing {
namespace {

std::string ReadOrEmpty(const std::string& path) {
  auto contents = ReadFile(path);
  return contents.ok() ? *contents : "";
}

}  // namespace

std::string KeylineEnvironment::Program(const std::string& name) {
  const char* binary_dir = std::getenv("KEYLINE_BINARY_DIR");
  const std::string base = binary_dir != nullptr ? binary_dir : KEYLINE_BINARY_DIR_DEFAULT;
  if (name == "keyline-server") return base + "/server/keyline-server";
  if (name == "keylinectl") return base + "/cli/keylinectl";
  return base + "/" + name;
}

absl::StatusOr<std::unique_ptr<KeylineEnvironment>> KeylineEnvironment::Create(
    const Options& options) {
  auto cluster = SharedPostgresCluster();
  if (!cluster.ok()) return cluster.status();
  std::unique_ptr<KeylineEnvironment> environment(new KeylineEnvironment());
  auto database = (*cluster)->CreateDatabase();
  if (!database.ok()) return database.status();
  environment->database_ = *std::move(database);

  char pattern[] = "/tmp/keyline-env-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
  environment->directory_ = pattern;
  environment->state_dir_ = environment->directory_ + "/state";
  environment->config_path_ = environment->directory_ + "/keyline.yaml";
  environment->grpc_port_ = PickFreePort();
  environment->status_port_ = PickFreePort();

  std::string deployments;
  for (const auto& deployment : options.deployments) {
    absl::StrAppend(&deployments, deployments.empty() ? "" : ", ", deployment);
  }
  std::ofstream(environment->config_path_)
      << "state_dir: " << environment->state_dir_ << "\n"
      << "public_base_url: http://127.0.0.1:" << environment->status_port_ << "\n"
      << "database:\n"
      << "  url: \"" << environment->database_.app_url << "\"\n"
      << "  migration_url: \"" << environment->database_.owner_url << "\"\n"
      << "grpc:\n"
      << "  listen: 127.0.0.1:" << environment->grpc_port_ << "\n"
      << options.grpc_yaml << "status:\n"
      << "  listen: 127.0.0.1:" << environment->status_port_ << "\n"
      << "  threads: 2\n"
      << options.status_yaml << "ca:\n"
      << "  deployments: [" << deployments << "]\n"
      << options.extra_yaml;

  auto init = RunProcess({Program("keyline-server"), "--config", environment->config_path_, "init"});
  if (!init.ok()) return init.status();
  if (init->exit_code != 0) {
    return absl::InternalError(absl::StrCat("keyline-server init failed: ", init->err));
  }
  return environment;
}

KeylineEnvironment::~KeylineEnvironment() {
  StopServer();
  if (std::getenv("KEYLINE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
}

std::string KeylineEnvironment::target() const { return absl::StrCat("localhost:", grpc_port_); }

OperatorCredential KeylineEnvironment::admin() const {
  return {state_dir_ + "/admin/admin.key", state_dir_ + "/admin/admin.crt"};
}

absl::Status KeylineEnvironment::StartServer() {
  if (server_ && server_->Running()) return absl::OkStatus();
  const std::string log = directory_ + "/server.log";
  auto child = ChildProcess::Spawn(
      {Program("keyline-server"), "--config", config_path_, "serve"}, log);
  if (!child.ok()) return child.status();
  server_ = *std::move(child);
  return WaitUntilServing(*server_, grpc_port_, log);
}

absl::StatusOr<std::unique_ptr<KeylineEnvironment::Replica>> KeylineEnvironment::StartReplica(
    const std::string& name) {
  auto replica = std::make_unique<Replica>();
  replica->grpc_port = PickFreePort();
  replica->status_port = PickFreePort();
  const std::string log = absl::StrCat(directory_, "/", name, ".log");
  auto child = ChildProcess::Spawn(
      {Program("keyline-server"), "--config", config_path_, "serve"}, log,
      {{"KEYLINE_GRPC_LISTEN", absl::StrCat("127.0.0.1:", replica->grpc_port)},
       {"KEYLINE_STATUS_LISTEN", absl::StrCat("127.0.0.1:", replica->status_port)}});
  if (!child.ok()) return child.status();
  replica->process = *std::move(child);
  if (absl::Status ready = WaitUntilServing(*replica->process, replica->grpc_port, log);
      !ready.ok()) {
    return ready;
  }
  return replica;
}

absl::Status KeylineEnvironment::WaitUntilServing(ChildProcess& server, int grpc_port,
                                                  const std::string& log) const {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (!server.Running()) {
      return absl::InternalError(absl::StrCat("keyline-server exited: ", ReadOrEmpty(log)));
    }
    // A fresh channel each time: a channel that failed to connect backs off for seconds.
    auto channel = ChannelTo(absl::StrCat("localhost:", grpc_port), "", "");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    const auto status =
        grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
    if (status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("keyline-server did not become healthy: ", ReadOrEmpty(log)));
}

void KeylineEnvironment::StopServer() {
  if (server_) server_->Stop();
  server_.reset();
}

std::shared_ptr<grpc::Channel> KeylineEnvironment::Channel(
    const std::optional<OperatorCredential>& who) const {
  if (!who) return ChannelWithPem("", "");
  return ChannelWithPem(ReadOrEmpty(who->certificate_file), ReadOrEmpty(who->key_file));
}

std::shared_ptr<grpc::Channel> KeylineEnvironment::AnonymousChannelTo(
    const Replica& replica) const {
  return ChannelTo(absl::StrCat("localhost:", replica.grpc_port), "", "");
}

std::shared_ptr<grpc::Channel> KeylineEnvironment::ChannelWithPem(
    const std::string& certificate_chain_pem, const std::string& key_pem) const {
  return ChannelTo(target(), certificate_chain_pem, key_pem);
}

std::shared_ptr<grpc::Channel> KeylineEnvironment::ChannelTo(
    const std::string& target, const std::string& certificate_chain_pem,
    const std::string& key_pem) const {
  (void)RequireTls13ForThisProcess();
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadOrEmpty(root_file());
  tls.pem_cert_chain = certificate_chain_pem;
  tls.pem_private_key = key_pem;
  // A channel per call site: tests that compare callers must not share a connection.
  grpc::ChannelArguments arguments;
  arguments.SetInt("keyline.test.channel", rand());
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(tls), arguments);
}

absl::StatusOr<ProcessResult> KeylineEnvironment::Keylinectl(
    const std::vector<std::string>& arguments, const std::optional<OperatorCredential>& who) const {
  std::vector<std::string> argv = {Program("keylinectl"), "--server", target(), "--ca",
                                   root_file()};
  if (who) {
    argv.insert(argv.end(), {"--cert", who->certificate_file, "--key", who->key_file});
  }
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunProcess(argv);
}

absl::StatusOr<OperatorCredential> KeylineEnvironment::IssueOperator(const std::string& role,
                                                                     const std::string& name) const {
  OperatorCredential credential{absl::StrCat(directory_, "/", role, "-", name, ".key"),
                                absl::StrCat(directory_, "/", role, "-", name, ".crt")};
  auto result = Keylinectl({"operator", "issue", "--role", role, "--name", name, "--out-key",
                            credential.key_file, "--out-cert", credential.certificate_file});
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(absl::StrCat("keylinectl operator issue failed: ", result->err));
  }
  return credential;
}

}  // namespace keyline::testing
