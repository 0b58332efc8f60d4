#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "hsm/pkcs11_uri.h"
#include "store/issuance_writer.h"

namespace keyline::server {
namespace {

using Keys = std::set<std::string>;

absl::Status CheckKeys(const YAML::Node& node, const std::string& where, const Keys& allowed) {
  if (!node.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, ": expected a mapping"));
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    if (!allowed.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where.empty() ? "" : where + ".", key, ": unknown key (expected one of ",
          absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status Read(const YAML::Node& node, const std::string& key, const std::string& where,
                  T* out) {
  if (!node[key]) return absl::OkStatus();
  try {
    *out = node[key].as<T>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": bad value"));
  }
  return absl::OkStatus();
}

absl::Status ReadDays(const YAML::Node& node, const std::string& key, absl::Duration* out) {
  if (!node[key]) return absl::OkStatus();
  int days = 0;
  try {
    days = node[key].as<int>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(absl::StrCat("ca.", key, ": not a number of days"));
  }
  if (days < 1 || days > 36500) {
    return absl::InvalidArgumentError(absl::StrCat("ca.", key, ": must be 1 to 36500 days"));
  }
  *out = absl::Hours(24) * days;
  return absl::OkStatus();
}

// An integer count of `unit` (e.g. "seconds") from minimum to maximum; left alone if absent.
absl::Status ReadInRange(const YAML::Node& node, const std::string& where, const std::string& key,
                         int minimum, int maximum, const std::string& unit, int* out) {
  if (!node[key]) return absl::OkStatus();
  int value = 0;
  try {
    value = node[key].as<int>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": not a number of ", unit));
  }
  if (value < minimum || value > maximum) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".", key, ": must be ", minimum, " to ", maximum, " ", unit));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status ReadSeconds(const YAML::Node& node, const std::string& where, const std::string& key,
                         int minimum, int maximum, absl::Duration* out) {
  int seconds = 0;
  if (!node[key]) return absl::OkStatus();
  KEYLINE_RETURN_IF_ERROR(ReadInRange(node, where, key, minimum, maximum, "seconds", &seconds));
  *out = absl::Seconds(seconds);
  return absl::OkStatus();
}

absl::Status ApplyYaml(const YAML::Node& root, Config* config) {
  KEYLINE_RETURN_IF_ERROR(CheckKeys(root, "", {"state_dir", "organization", "public_base_url", "hsm",
                                   "database", "grpc", "ca", "enrollment", "audit", "status"}));
  KEYLINE_RETURN_IF_ERROR(Read(root, "state_dir", "", &config->state_dir));
  KEYLINE_RETURN_IF_ERROR(Read(root, "organization", "", &config->profiles.organization));
  KEYLINE_RETURN_IF_ERROR(Read(root, "public_base_url", "", &config->profiles.public_base_url));
  if (const auto hsm = root["hsm"]) {
    KEYLINE_RETURN_IF_ERROR(CheckKeys(hsm, "hsm", {"module", "token", "pin_source", "so_pin_source",
                                       "softhsm2_conf", "sessions"}));
    KEYLINE_RETURN_IF_ERROR(Read(hsm, "module", "hsm", &config->hsm.module));
    KEYLINE_RETURN_IF_ERROR(Read(hsm, "token", "hsm", &config->hsm.token));
    KEYLINE_RETURN_IF_ERROR(Read(hsm, "pin_source", "hsm", &config->hsm.pin_source));
    KEYLINE_RETURN_IF_ERROR(Read(hsm, "so_pin_source", "hsm", &config->hsm.so_pin_source));
    KEYLINE_RETURN_IF_ERROR(Read(hsm, "softhsm2_conf", "hsm", &config->hsm.softhsm2_conf));
    KEYLINE_RETURN_IF_ERROR(Read(hsm, "sessions", "hsm", &config->hsm.sessions));
  }
  if (const auto database = root["database"]) {
    KEYLINE_RETURN_IF_ERROR(CheckKeys(database, "database",
                                      {"url", "migration_url", "pool_size",
                                       "group_commit_wait_microseconds", "group_commit_target"}));
    KEYLINE_RETURN_IF_ERROR(Read(database, "url", "database", &config->database.url));
    KEYLINE_RETURN_IF_ERROR(Read(database, "migration_url", "database", &config->database.migration_url));
    KEYLINE_RETURN_IF_ERROR(Read(database, "pool_size", "database", &config->database.pool_size));
    // At most 0.1 s: a longer wait would be felt by every caller of an idle server.
    int wait = static_cast<int>(config->database.group_commit_wait.count());
    KEYLINE_RETURN_IF_ERROR(ReadInRange(database, "database", "group_commit_wait_microseconds", 0,
                                        100'000, "microseconds", &wait));
    config->database.group_commit_wait = std::chrono::microseconds(wait);
    // No more than the issuance writer's batches can hold.
    int target = static_cast<int>(config->database.group_commit_target);
    KEYLINE_RETURN_IF_ERROR(ReadInRange(database, "database", "group_commit_target", 1,
                                        static_cast<int>(store::IssuanceWriterOptions{}.max_batch),
                                        "rows", &target));
    config->database.group_commit_target = static_cast<size_t>(target);
  }
  if (const auto grpc = root["grpc"]) {
    KEYLINE_RETURN_IF_ERROR(
        CheckKeys(grpc, "grpc", {"listen", "server_names", "server_ips", "memory_limit_mb"}));
    KEYLINE_RETURN_IF_ERROR(Read(grpc, "listen", "grpc", &config->grpc.listen));
    KEYLINE_RETURN_IF_ERROR(Read(grpc, "server_names", "grpc", &config->grpc.server_names));
    KEYLINE_RETURN_IF_ERROR(Read(grpc, "server_ips", "grpc", &config->grpc.server_ips));
    KEYLINE_RETURN_IF_ERROR(ReadInRange(grpc, "grpc", "memory_limit_mb",
                                        2 * GrpcConfig::kMaxMessageMegabytes, 1 << 20, "MiB",
                                        &config->grpc.memory_limit_megabytes));
  }
  if (const auto ca = root["ca"]) {
    KEYLINE_RETURN_IF_ERROR(CheckKeys(ca, "ca", {"deployments", "manufacturers", "bootstrap_admin",
                                     "operator_validity_days", "device_validity_days",
                                     "server_validity_days"}));
    KEYLINE_RETURN_IF_ERROR(Read(ca, "deployments", "ca", &config->ca.deployments));
    KEYLINE_RETURN_IF_ERROR(Read(ca, "manufacturers", "ca", &config->ca.manufacturers));
    KEYLINE_RETURN_IF_ERROR(Read(ca, "bootstrap_admin", "ca", &config->ca.bootstrap_admin));
    KEYLINE_RETURN_IF_ERROR(ReadDays(ca, "operator_validity_days", &config->profiles.operator_validity));
    KEYLINE_RETURN_IF_ERROR(ReadDays(ca, "device_validity_days", &config->profiles.device_validity));
    KEYLINE_RETURN_IF_ERROR(ReadDays(ca, "server_validity_days", &config->profiles.server_validity));
  }
  if (const auto enrollment = root["enrollment"]) {
    KEYLINE_RETURN_IF_ERROR(CheckKeys(
        enrollment, "enrollment",
        {"challenge_lifetime_seconds", "challenges_per_device", "challenge_refill_seconds"}));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(enrollment, "enrollment", "challenge_lifetime_seconds", 5,
                                        3600, &config->enrollment.challenge_lifetime));
    KEYLINE_RETURN_IF_ERROR(ReadInRange(enrollment, "enrollment", "challenges_per_device", 1,
                                        10'000, "challenges",
                                        &config->enrollment.challenges_per_device));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(enrollment, "enrollment", "challenge_refill_seconds", 1,
                                        86400, &config->enrollment.challenge_refill));
  }
  if (const auto audit = root["audit"]) {
    KEYLINE_RETURN_IF_ERROR(
        CheckKeys(audit, "audit", {"checkpoint_interval_seconds", "checkpoint_refresh_seconds"}));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(audit, "audit", "checkpoint_interval_seconds", 1, 86400,
                                        &config->audit.checkpoint_interval));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(audit, "audit", "checkpoint_refresh_seconds", 1, 7 * 86400,
                                        &config->audit.checkpoint_refresh));
  }
  if (const auto status = root["status"]) {
    KEYLINE_RETURN_IF_ERROR(CheckKeys(
        status, "status",
        {"listen", "threads", "ocsp_validity_seconds", "ocsp_signer_renewal_seconds",
         "ocsp_cache_responses", "ocsp_fresh_signatures_per_second", "crl_validity_seconds",
         "crl_delta_interval_seconds", "crl_full_interval_seconds", "resync_interval_seconds"}));
    KEYLINE_RETURN_IF_ERROR(Read(status, "listen", "status", &config->status.listen));
    KEYLINE_RETURN_IF_ERROR(Read(status, "threads", "status", &config->status.threads));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(status, "status", "ocsp_validity_seconds", 60, 7 * 86400,
                                        &config->status.ocsp_validity));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(status, "status", "ocsp_signer_renewal_seconds", 3600,
                                        365 * 86400, &config->status.ocsp_signer_renewal));
    KEYLINE_RETURN_IF_ERROR(
        Read(status, "ocsp_cache_responses", "status", &config->status.ocsp_cache_responses));
    KEYLINE_RETURN_IF_ERROR(ReadInRange(status, "status", "ocsp_fresh_signatures_per_second", 0,
                                        1'000'000, "signatures a second",
                                        &config->status.ocsp_fresh_signatures_per_second));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(status, "status", "crl_validity_seconds", 300,
                                        30 * 86400, &config->status.crl_validity));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(status, "status", "crl_delta_interval_seconds", 1, 3600,
                                        &config->status.crl_delta_interval));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(status, "status", "crl_full_interval_seconds", 1, 86400,
                                        &config->status.crl_full_interval));
    KEYLINE_RETURN_IF_ERROR(ReadSeconds(status, "status", "resync_interval_seconds", 1, 3600,
                                        &config->status.resync_interval));
  }
  return absl::OkStatus();
}

void ApplyEnvironment(Config* config) {
  const std::pair<const char*, std::string*> overrides[] = {
      {"KEYLINE_STATE_DIR", &config->state_dir},
      {"KEYLINE_PUBLIC_BASE_URL", &config->profiles.public_base_url},
      {"KEYLINE_HSM_MODULE", &config->hsm.module},
      {"KEYLINE_HSM_TOKEN", &config->hsm.token},
      {"KEYLINE_HSM_PIN_SOURCE", &config->hsm.pin_source},
      {"KEYLINE_DATABASE_URL", &config->database.url},
      {"KEYLINE_DATABASE_MIGRATION_URL", &config->database.migration_url},
      {"KEYLINE_GRPC_LISTEN", &config->grpc.listen},
      {"KEYLINE_STATUS_LISTEN", &config->status.listen},
  };
  for (const auto& [name, field] : overrides) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') *field = value;
  }
}

// hsm.token may be an RFC 7512 URI naming the token, the module and the PIN source at once.
absl::Status ApplyPkcs11Uri(Config* config) {
  if (!absl::StartsWith(config->hsm.token, "pkcs11:")) return absl::OkStatus();
  auto uri = hsm::ParsePkcs11Uri(config->hsm.token);
  if (!uri.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("hsm.token: ", uri.status().message()));
  }
  if (!uri->token) return absl::InvalidArgumentError("hsm.token: the URI names no token");
  config->hsm.token = *uri->token;
  if (uri->module_path) config->hsm.module = *uri->module_path;
  if (uri->pin_source) config->hsm.pin_source = *uri->pin_source;
  return absl::OkStatus();
}

absl::Status Validate(const Config& config) {
  if (config.ca.deployments.empty()) {
    return absl::InvalidArgumentError("ca.deployments: at least one deployment is required");
  }
  for (const auto& name : config.ca.deployments) {
    if (name.empty() || name.find_first_of("/: ") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("ca.deployments: '", name, "' must be non-empty without '/', ':' or spaces"));
    }
  }
  if (config.database.pool_size == 0) {
    return absl::InvalidArgumentError("database.pool_size: must be at least 1");
  }
  if (!absl::StartsWith(config.profiles.public_base_url, "http://") &&
      !absl::StartsWith(config.profiles.public_base_url, "https://")) {
    return absl::InvalidArgumentError("public_base_url: must start with http:// or https://");
  }
  if (config.status.ocsp_cache_responses < 1 || config.status.ocsp_cache_responses > 10'000'000) {
    return absl::InvalidArgumentError("status.ocsp_cache_responses: must be 1 to 10000000");
  }
  if (config.status.crl_full_interval * 2 > config.status.crl_validity) {
    return absl::InvalidArgumentError(
        "status.crl_full_interval_seconds: at most half of crl_validity_seconds");
  }
  if (config.status.ocsp_signer_renewal * 2 > config.profiles.ocsp_signer_validity) {
    return absl::InvalidArgumentError(
        "status.ocsp_signer_renewal_seconds: at most half of the OCSP signer validity");
  }
  return absl::OkStatus();
}

}  // namespace

std::string Config::StatePath(const std::string& relative) const {
  std::filesystem::path path(relative);
  if (path.is_absolute()) return relative;
  std::filesystem::path base(state_dir);
  if (base.is_relative() && !config_dir.empty()) base = std::filesystem::path(config_dir) / base;
  return (base / path).lexically_normal().string();
}

std::string Config::ResolvePinSource(const std::string& source) const {
  if (!absl::StartsWith(source, "file:")) return source;
  return "file:" + StatePath(source.substr(5));
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  Config config;
  if (!path.empty()) {
    config.config_dir =
        std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
    try {
      const YAML::Node root = YAML::LoadFile(path);
      if (!root.IsNull()) KEYLINE_RETURN_IF_ERROR(ApplyYaml(root, &config));
    } catch (const YAML::BadFile&) {
      return absl::NotFoundError(absl::StrCat(path, ": cannot read the configuration file"));
    } catch (const YAML::Exception& error) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", error.what()));
    }
  } else {
    config.config_dir = std::filesystem::current_path().string();
  }
  ApplyEnvironment(&config);
  KEYLINE_RETURN_IF_ERROR(ApplyPkcs11Uri(&config));
  KEYLINE_RETURN_IF_ERROR(Validate(config));
  return config;
}

}  // namespace keyline::server
