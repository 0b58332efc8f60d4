// A throwaway PostgreSQL 15 cluster for integration tests, made by scripts/pg-cluster (the same
// script the demo and the benchmarks use) in a temporary directory on a free port in
// [20000, 32000). The destructor stops it and deletes the directory.
//
// Most tests share one cluster per test binary (SharedPostgresCluster) and take a fresh database
// each (CreateDatabase), which is much faster than a cluster per test.
//
// Thread safety: none; use it from the test's main thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keyline::testing {

class PostgresCluster {
 public:
  // Connection strings for one database of the cluster.
  struct Database {
    std::string name;
    std::string owner_url;      // keyline_owner: owns the database, runs migrations
    std::string app_url;        // keyline_app: the least-privilege service login
    std::string superuser_url;  // postgres
  };

  // Creates and starts a cluster (with roles keyline_owner, keyline_service, keyline_app and
  // database keyline). Retries on another port if the chosen one was taken meanwhile.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start();

  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;
  ~PostgresCluster();

  // The database "keyline" (superuser_url: database "postgres").
  const std::string& owner_url() const { return keyline_.owner_url; }
  const std::string& app_url() const { return keyline_.app_url; }
  const std::string& superuser_url() const { return superuser_url_; }
  int port() const { return port_; }
  const std::string& directory() const { return directory_; }

  // A new, empty database owned by keyline_owner, named keyline_test_<n>.
  [[nodiscard]] absl::StatusOr<Database> CreateDatabase();

  // Runs `sql` (one or more statements, outside a transaction) as the superuser in `database`.
  [[nodiscard]] absl::Status ExecuteAsSuperuser(std::string_view database, const std::string& sql);

  // scripts/pg-cluster stop / start on the same directory and port, for failure tests.
  [[nodiscard]] absl::Status Stop();
  [[nodiscard]] absl::Status Restart();

 private:
  PostgresCluster(std::string temp_root, std::string directory, int port)
      : temp_root_(std::move(temp_root)), directory_(std::move(directory)), port_(port) {}
  absl::StatusOr<std::string> Url(std::string_view role) const;

  std::string temp_root_;  // what the destructor deletes
  std::string directory_;  // the cluster (scripts/pg-cluster's DIR)
  int port_;
  Database keyline_;
  std::string superuser_url_;
  int databases_created_ = 0;
};

// The test binary's cluster, started on first use and stopped at exit. Fails (and keeps failing)
// if it cannot be started.
[[nodiscard]] absl::StatusOr<PostgresCluster*> SharedPostgresCluster();

// Where the source tree is: $KEYLINE_SOURCE_DIR (set by keyline_test) or the build's source dir.
std::string SourceDir();

}  // namespace keyline::testing
