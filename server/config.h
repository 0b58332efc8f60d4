// keyline-server configuration: one YAML file, then environment variables, then flags.
// Every default is safe: loopback listeners, TLS 1.3 with client certificates, PINs from files
// that only the owner can read, least-privilege database role. See README.md for the reference.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/profiles.h"

namespace keyline::server {

struct HsmConfig {
  std::string module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token = "keyline";
  std::string pin_source = "file:hsm/user.pin";  // "file:PATH" or "env:NAME"
  // Bundled SoftHSM2 only: where init writes the SO PIN and SoftHSM2's config. Leave
  // softhsm2_conf empty to use a vendor HSM whose token already exists.
  std::string so_pin_source = "file:hsm/so.pin";
  std::string softhsm2_conf = "hsm/softhsm2.conf";
  size_t sessions = 0;  // 0: one per hardware thread
};

struct DatabaseConfig {
  std::string url;            // the service's least-privilege login
  std::string migration_url;  // the schema owner, used by `migrate` and `init` only
  size_t pool_size = 8;
  // The issuance writer's group commit: a batch of fewer than group_commit_target rows waits up
  // to group_commit_wait for more before its transaction starts. Fewer, fuller transactions cost
  // PostgreSQL less per certificate under load (bench/enroll: about 70 of its ~350 us per
  // enrollment); an idle server's callers wait at most group_commit_wait longer. 0: no wait.
  std::chrono::microseconds group_commit_wait{1000};
  size_t group_commit_target = 16;
};

struct GrpcConfig {
  // The largest request message. Factory batches of 5,000 devices with their CSRs or chains are a
  // few megabytes.
  static constexpr int kMaxMessageMegabytes = 64;

  std::string listen = "127.0.0.1:8443";
  std::vector<std::string> server_names = {"localhost"};  // SAN DNS names of the TLS certificate
  std::vector<std::string> server_ips = {"127.0.0.1"};    // SAN IP addresses
  // What gRPC may hold in buffers for all calls together. gRPC reads a whole message before it
  // compares its length with the limit above, so without this bound any caller, one without a
  // certificate too, could make the server buffer 64 MiB per stream, as many streams as it opens.
  // Over the bound gRPC resets streams (RESOURCE_EXHAUSTED) instead of growing. At least twice
  // the largest message, so that one always fits.
  int memory_limit_megabytes = 256;
};

struct CaConfig {
  std::vector<std::string> deployments = {"default"};
  std::vector<std::string> manufacturers = {"keyline"};
  std::string bootstrap_admin = "admin";
};

struct EnrollmentConfig {
  absl::Duration challenge_lifetime = absl::Seconds(60);
  // BeginEnrollment's cap per device (provisioning/challenge_allowance.h).
  int challenges_per_device = 10;
  absl::Duration challenge_refill = absl::Seconds(30);
};

struct AuditConfig {
  // How often the server signs a checkpoint of the audit chain when it has grown.
  absl::Duration checkpoint_interval = absl::Seconds(10);
  // How old the newest checkpoint may grow before the unchanged head is signed again
  // (server/audit_checkpointer.h).
  absl::Duration checkpoint_refresh = absl::Minutes(5);
};

// The plain-HTTP status endpoint relying parties use: OCSP, CRLs, /healthz, /readyz, /metrics.
// (Signed objects need no TLS; public_base_url is how certificates name this listener.)
struct StatusConfig {
  std::string listen = "127.0.0.1:8080";
  size_t threads = 0;  // event-loop threads; 0: one per hardware thread
  absl::Duration ocsp_validity = absl::Hours(1);          // nextUpdate - thisUpdate of OCSP answers
  absl::Duration ocsp_signer_renewal = absl::Hours(24 * 7);  // new signer when less is left
  // Pre-signed OCSP responses kept in memory (filled as certificates are asked about; about
  // 1.7 KB each with the request bytes remembered for them): 100,000 take ~170 MB, so that a
  // server holding a million certificates stays within 512 MB. Misses are signed on demand.
  size_t ocsp_cache_responses = 100'000;
  // OCSP answers signed a second for requests the cache cannot answer (a nonce, several CertIDs,
  // a serial never issued and not answered yet); over it a nonce is ignored (the pre-signed
  // answer) and the others get tryLater. Each is an HSM signature on an HTTP event loop: this
  // bounds what requests can make the server sign beyond one answer per issued certificate.
  // 0: no limit.
  int ocsp_fresh_signatures_per_second = 1000;
  absl::Duration crl_validity = absl::Hours(24);           // nextUpdate - thisUpdate of CRLs
  // A changed CA gets a new delta CRL within crl_delta_interval and a new full CRL within
  // crl_full_interval; an unchanged one is re-issued when half its validity has passed.
  absl::Duration crl_delta_interval = absl::Seconds(1);
  absl::Duration crl_full_interval = absl::Minutes(5);
  // Re-read recent changes even without a notification (a lost one), this often.
  absl::Duration resync_interval = absl::Seconds(5);
};

struct Config {
  std::string config_dir;  // relative paths in the file resolve against this directory
  std::string state_dir = "var/state";
  HsmConfig hsm;
  DatabaseConfig database;
  GrpcConfig grpc;
  CaConfig ca;
  EnrollmentConfig enrollment;
  AuditConfig audit;
  StatusConfig status;
  ca::ProfileSettings profiles;

  // Resolves a path from the file against state_dir (absolute paths stay as they are).
  std::string StatePath(const std::string& relative) const;
  // Same for "file:" pin sources.
  std::string ResolvePinSource(const std::string& source) const;

  std::string tls_dir() const { return StatePath("tls"); }
  std::string admin_dir() const { return StatePath("admin"); }
};

// Reads the YAML file (an empty path means "defaults only"), then applies KEYLINE_* environment
// variables. InvalidArgument naming the key for unknown keys and bad values.
[[nodiscard]] absl::StatusOr<Config> LoadConfig(const std::string& path);

}  // namespace keyline::server
