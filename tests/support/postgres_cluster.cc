#include "tests/support/postgres_cluster.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "absl/strings/str_cat.h"
#include "tests/support/subprocess.h"
#include "absl/strings/strip.h"
#include "common/absl_compat.h"

namespace keyline::testing {
namespace {

constexpr int kStartAttempts = 5;

// Runs scripts/pg-cluster with `arguments`; returns its standard output, or an error with its
// output and exit code.
absl::StatusOr<std::string> PgCluster(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), SourceDir() + "/scripts/pg-cluster");
  auto result = RunProcess(arguments, {}, absl::Minutes(2));
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(absl::StrCat("scripts/pg-cluster ", arguments[1], " failed (exit ",
                                            result->exit_code, "): ", result->err, result->out));
  }
  return result->out;
}

}  // namespace

std::string SourceDir() {
  if (const char* dir = std::getenv("KEYLINE_SOURCE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return KEYLINE_SOURCE_DIR_DEFAULT;
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  absl::Status last_error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    char pattern[] = "/tmp/keyline-pg-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp failed");
    // The server runs as the postgres user when the tests run as root; it must reach DIR.
    chmod(pattern, 0755);
    const int port = PickFreePort();
    std::unique_ptr<PostgresCluster> cluster(
        new PostgresCluster(pattern, absl::StrCat(pattern, "/cluster"), port));
    absl::StatusOr<std::string> started =
        PgCluster({"start", cluster->directory_, absl::StrCat(port)});
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
  (void)PgCluster({"stop", directory_});
  std::error_code ignored;
  std::filesystem::remove_all(temp_root_, ignored);
}

absl::StatusOr<std::string> PostgresCluster::Url(std::string_view role) const {
  absl::StatusOr<std::string> url =
      PgCluster({"url", directory_, absl::StrCat(port_), std::string(role)});
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
  return PgCluster({"stop", directory_}).status();
}

absl::Status PostgresCluster::Restart() {
  return PgCluster({"start", directory_, absl::StrCat(port_)}).status();
}

absl::StatusOr<PostgresCluster*> SharedPostgresCluster() {
  // Destroyed (so stopped) by the static destructors at exit.
  static const absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

}  // namespace keyline::testing
