// keyline-server: init | migrate | serve. See README.md.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/logging.h"
#include "common/mutex_deadlock_detection.h"
#include "server/config.h"
#include "server/init_command.h"
#include "server/keyline_server.h"

namespace {

using keyline::server::Config;

int Fail(const absl::Status& status) {
  keyline::LogEvent(spdlog::level::err, "fatal", {{"error", std::string(status.message())},
                                                  {"code", absl::StatusCodeToString(status.code())}});
  return 1;
}

int Serve(const Config& config) {
  // Block the signals in every thread, then wait for them on this one.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = keyline::server::KeylineServer::Start(config);
  if (!server.ok()) return Fail(server.status());
  int received = 0;
  sigwait(&signals, &received);
  keyline::LogEvent(spdlog::level::info, "server.stopping", {{"signal", received}});
  (*server)->Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keyline::SkipMutexDeadlockDetectionInReleaseBuilds();
  keyline::ConfigureJsonLogging();
  CLI::App app{"keyline-server: device provisioning and PKI service"};
  app.require_subcommand(1);
  std::string config_path;
  const char* env_config = std::getenv("KEYLINE_CONFIG");
  if (env_config != nullptr) config_path = env_config;
  app.add_option("-c,--config", config_path, "YAML configuration file (env KEYLINE_CONFIG)");
  std::string grpc_listen;
  std::string database_url;
  auto* init = app.add_subcommand("init", "create the HSM token, CAs, TLS and admin credentials");
  keyline::server::InitOptions init_options;
  init->add_flag("--reissue-admin", init_options.reissue_admin,
                 "issue the bootstrap admin credential again although one was issued before "
                 "(every admin credential lost)");
  auto* migrate = app.add_subcommand("migrate", "apply database migrations as the owner role");
  auto* serve = app.add_subcommand("serve", "run the gRPC service");
  serve->add_option("--grpc-listen", grpc_listen, "override grpc.listen");
  for (auto* command : {init, migrate, serve}) {
    command->add_option("--database-url", database_url, "override database.url");
  }
  CLI11_PARSE(app, argc, argv);

  auto config = keyline::server::LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  if (!grpc_listen.empty()) config->grpc.listen = grpc_listen;
  if (!database_url.empty()) config->database.url = database_url;

  if (*init) {
    const auto status = keyline::server::RunInit(*config, init_options);
    return status.ok() ? 0 : Fail(status);
  }
  if (*migrate) {
    const auto status = keyline::server::RunMigrate(*config);
    return status.ok() ? 0 : Fail(status);
  }
  return Serve(*config);
}
