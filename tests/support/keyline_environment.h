// A whole Keyline for an integration test: a fresh database in the binary's shared PostgreSQL
// cluster, a state directory with a bundled SoftHSM2 token, a configuration file, `keyline-server
// init` run as a subprocess, and (on request) `keyline-server serve` as a child process on a free
// port. Channels and keylinectl invocations come with the right TLS files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "absl/status/statusor.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/subprocess.h"

namespace keyline::testing {

struct OperatorCredential {
  std::string key_file;
  std::string certificate_file;  // leaf + operator CA, PEM
};

class KeylineEnvironment {
 public:
  struct Options {
    std::vector<std::string> deployments = {"default"};
    std::string extra_yaml;  // appended to keyline.yaml, e.g. "enrollment: {...}\n"
    // More lines under `status:` (which the file already has), indented by two spaces, e.g.
    // "  crl_full_interval_seconds: 1\n".
    std::string status_yaml;
    // More lines under `grpc:`, likewise, e.g. "  memory_limit_mb: 128\n".
    std::string grpc_yaml;
  };

  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KeylineEnvironment>> Create(
      const Options& options);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KeylineEnvironment>> Create() {
    return Create(Options{});
  }
  ~KeylineEnvironment();

  const std::string& directory() const { return directory_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& state_dir() const { return state_dir_; }
  const PostgresCluster::Database& database() const { return database_; }
  int grpc_port() const { return grpc_port_; }
  // The status listener (OCSP, CRLs): "http://127.0.0.1:<port>", also the public_base_url.
  int status_port() const { return status_port_; }
  std::string status_url() const { return "http://127.0.0.1:" + std::to_string(status_port_); }
  std::string target() const;  // "localhost:<port>"

  // PEM root certificate (trust anchor for server and clients).
  std::string root_file() const { return state_dir_ + "/tls/ca.crt"; }
  OperatorCredential admin() const;

  // Starts `keyline-server serve` and waits until its gRPC health check answers SERVING.
  [[nodiscard]] absl::Status StartServer();
  void StopServer();
  // The process id of the server StartServer started; 0 when none runs.
  pid_t server_pid() const { return server_ ? server_->pid() : 0; }

  // Another `keyline-server serve` on the same database, HSM token and configuration, with ports
  // of its own (KEYLINE_GRPC_LISTEN, KEYLINE_STATUS_LISTEN): a replica, as several would run
  // behind one load balancer. Started and waited for like StartServer; stopped when destroyed.
  struct Replica {
    std::unique_ptr<ChildProcess> process;
    int grpc_port = 0;
    int status_port = 0;
    std::string status_url() const { return "http://127.0.0.1:" + std::to_string(status_port); }
  };
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Replica>> StartReplica(const std::string& name);

  // A channel to the server, with the operator's client certificate or none.
  std::shared_ptr<grpc::Channel> Channel(const std::optional<OperatorCredential>& who) const;
  // A channel to a replica, without a client certificate (a device on first contact).
  std::shared_ptr<grpc::Channel> AnonymousChannelTo(const Replica& replica) const;
  // A channel with a client certificate chain and key given as PEM text (devices).
  std::shared_ptr<grpc::Channel> ChannelWithPem(const std::string& certificate_chain_pem,
                                                const std::string& key_pem) const;

  // keylinectl with --server/--ca and the given credential's --cert/--key prepended.
  [[nodiscard]] absl::StatusOr<ProcessResult> Keylinectl(
      const std::vector<std::string>& arguments,
      const std::optional<OperatorCredential>& who) const;
  [[nodiscard]] absl::StatusOr<ProcessResult> Keylinectl(
      const std::vector<std::string>& arguments) const {
    return Keylinectl(arguments, admin());
  }

  // Issues an operator credential through keylinectl as the bootstrap admin.
  [[nodiscard]] absl::StatusOr<OperatorCredential> IssueOperator(const std::string& role,
                                                                 const std::string& name) const;

  // Path of a built program: "keyline-server", "keylinectl".
  static std::string Program(const std::string& name);

 private:
  KeylineEnvironment() = default;
  // Until `server` answers gRPC health SERVING on `grpc_port` (or exits, or 30 s pass).
  absl::Status WaitUntilServing(ChildProcess& server, int grpc_port, const std::string& log) const;
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& target,
                                           const std::string& certificate_chain_pem,
                                           const std::string& key_pem) const;

  std::string directory_;
  std::string config_path_;
  std::string state_dir_;
  PostgresCluster::Database database_;
  int grpc_port_ = 0;
  int status_port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace keyline::testing
