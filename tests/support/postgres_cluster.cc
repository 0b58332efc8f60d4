#include "tests/support/postgres_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/absl_compat.h"

namespace keyline::testing {
namespace {

constexpr int kFirstPort = 20000;
constexpr int kEndPort = 32000;
constexpr int kStartAttempts = 5;

// Single-quotes `text` for /bin/sh.
std::string ShellQuote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

// Runs a shell command; returns its standard output, or an error with its output and exit code.
absl::StatusOr<std::string> Run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(absl::StrCat("popen failed: ", command));
  std::string output;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (status != 0) {
    return absl::InternalError(absl::StrCat(command, " failed (status ", status, "): ", output));
  }
  return output;
}

std::string PgCluster() { return ShellQuote(SourceDir() + "/scripts/pg-cluster"); }

bool PortIsFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return free;
}

int PickPort(std::mt19937& random) {
  std::uniform_int_distribution<int> distribution(kFirstPort, kEndPort - 1);
  for (;;) {
    const int port = distribution(random);
    if (PortIsFree(port)) return port;
  }
}

}  // namespace

std::string SourceDir() {
  if (const char* dir = std::getenv("KEYLINE_SOURCE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return KEYLINE_SOURCE_DIR_DEFAULT;
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  std::random_device seed;
  std::mt19937 random(seed());
  absl::Status last_error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    char pattern[] = "/tmp/keyline-pg-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
    // The server runs as the postgres user when the tests run as root; it must reach DIR.
    chmod(pattern, 0755);
    const int port = PickPort(random);
    std::unique_ptr<PostgresCluster> cluster(
        new PostgresCluster(pattern, absl::StrCat(pattern, "/cluster"), port));
    absl::StatusOr<std::string> started =
        Run(absl::StrCat(PgCluster(), " start ", ShellQuote(cluster->directory_), " ", port));
    if (!started.ok()) {
      last_error = started.status();
      continue;  // the destructor cleans up; perhaps the port was taken meanwhile
    }
    for (const auto& [role, url] :
         {std::pair<std::string_view, std::string*>{"owner", &cluster->keyline_.owner_url},
          {"app", &cluster->keyline_.app_url},
          {"superuser", &cluster->superuser_url_}}) {
      absl::StatusOr<std::string> text = cluster->Url(role);
      if (!text.ok()) return text.status();
      *url = *std::move(text);
    }
    cluster->keyline_.name = "keyline";
    cluster->keyline_.superuser_url = cluster->superuser_url_ + " dbname=keyline";
    return cluster;
  }
  return last_error;
}

PostgresCluster::~PostgresCluster() {
  (void)Run(absl::StrCat(PgCluster(), " stop ", ShellQuote(directory_)));
  std::error_code ignored;
  std::filesystem::remove_all(temp_root_, ignored);
}

absl::StatusOr<std::string> PostgresCluster::Url(std::string_view role) const {
  absl::StatusOr<std::string> url = Run(
      absl::StrCat(PgCluster(), " url ", ShellQuote(directory_), " ", port_, " ", AsAbsl(role)));
  if (!url.ok()) return url.status();
  return std::string(absl::StripTrailingAsciiWhitespace(*url));
}

absl::StatusOr<PostgresCluster::Database> PostgresCluster::CreateDatabase() {
  Database database;
  database.name = absl::StrCat("keyline_test_", ++databases_created_);
  if (absl::Status status = ExecuteAsSuperuser(
          "postgres", absl::StrCat("CREATE DATABASE ", database.name, " OWNER keyline_owner"));
      !status.ok()) {
    return status;
  }
  // In a libpq connection string a repeated keyword overrides the earlier one.
  const std::string dbname = absl::StrCat(" dbname=", database.name);
  database.owner_url = keyline_.owner_url + dbname;
  database.app_url = keyline_.app_url + dbname;
  database.superuser_url = superuser_url_ + dbname;
  return database;
}

absl::Status PostgresCluster::ExecuteAsSuperuser(std::string_view database,
                                                 const std::string& sql) {
  try {
    pqxx::connection connection(absl::StrCat(superuser_url_, " dbname=", AsAbsl(database)));
    pqxx::nontransaction transaction(connection);
    transaction.exec(sql);
    return absl::OkStatus();
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("as superuser: ", error.what()));
  }
}

absl::Status PostgresCluster::Stop() {
  return Run(absl::StrCat(PgCluster(), " stop ", ShellQuote(directory_))).status();
}

absl::Status PostgresCluster::Restart() {
  return Run(absl::StrCat(PgCluster(), " start ", ShellQuote(directory_), " ", port_)).status();
}

absl::StatusOr<PostgresCluster*> SharedPostgresCluster() {
  // Destroyed (so stopped) by the static destructors at exit.
  static const absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

}  // namespace keyline::testing
