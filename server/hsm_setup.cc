#include "server/hsm_setup.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "hsm/pin_source.h"

namespace keyline::server {
namespace {

bool UsesBundledSoftHsm(const Config& config) { return !config.hsm.softhsm2_conf.empty(); }

// `count` bytes from the CSPRNG; `what` names them in the error.
absl::StatusOr<std::string> RandomBytes(size_t count, std::string_view what) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    return absl::InternalError(absl::StrCat(AsAbsl(what), ": CSPRNG failed"));
  }
  return bytes;
}

// FailedPrecondition naming `label` unless the key's attributes show it never left the token.
absl::Status RequireNeverLeftTheToken(const hsm::KeyInfo& info, const std::string& label) {
  if (info.sensitive && !info.extractable && info.always_sensitive && info.never_extractable) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "key \"", label, "\": its attributes do not show that it never left the HSM (sensitive ",
      info.sensitive, ", extractable ", info.extractable, ", always sensitive ",
      info.always_sensitive, ", never extractable ", info.never_extractable,
      "); Keyline signs only with keys generated non-extractable in the token"));
}

// Makes a random PIN in the file a "file:" source names, unless the file exists.
absl::Status EnsurePinFile(const Config& config, const std::string& source) {
  const std::string resolved = config.ResolvePinSource(source);
  if (!absl::StartsWith(resolved, "file:")) return absl::OkStatus();  // env: supplied by the operator
  const std::string path = resolved.substr(5);
  if (FileExists(path)) return absl::OkStatus();
  KEYLINE_ASSIGN_OR_RETURN(const std::string random, RandomBytes(16, "PIN"));
  KEYLINE_RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(path).parent_path().string(), 0700));
  return WriteFileAtomically(path, HexEncode(random) + "\n", 0600);
}

}  // namespace

absl::Status PrepareBundledSoftHsm(const Config& config) {
  if (!UsesBundledSoftHsm(config)) return absl::OkStatus();
  const std::string conf_path = config.StatePath(config.hsm.softhsm2_conf);
  const std::string hsm_dir = std::filesystem::path(conf_path).parent_path().string();
  const std::string token_dir = hsm_dir + "/tokens";
  KEYLINE_RETURN_IF_ERROR(MakeDirectories(token_dir, 0700));
  KEYLINE_RETURN_IF_ERROR(MakeDirectories(hsm_dir, 0700));
  if (!FileExists(conf_path)) {
    KEYLINE_RETURN_IF_ERROR(WriteFileAtomically(
        conf_path,
        absl::StrCat("# SoftHSM2 for Keyline, written by keyline-server init\n",
                     "directories.tokendir = ", token_dir, "\n",
                     "objectstore.backend = file\n", "log.level = ERROR\n",
                     "slots.removable = false\n"),
        0600));
  }
  setenv("SOFTHSM2_CONF", conf_path.c_str(), 1);
  return absl::OkStatus();
}

absl::Status EnsureBundledToken(const Config& config) {
  if (!UsesBundledSoftHsm(config)) return absl::OkStatus();
  KEYLINE_RETURN_IF_ERROR(EnsurePinFile(config, config.hsm.so_pin_source));
  KEYLINE_RETURN_IF_ERROR(EnsurePinFile(config, config.hsm.pin_source));
  KEYLINE_ASSIGN_OR_RETURN(const std::string so_pin,
                           hsm::ReadPin(config.ResolvePinSource(config.hsm.so_pin_source)));
  KEYLINE_ASSIGN_OR_RETURN(const std::string user_pin,
                           hsm::ReadPin(config.ResolvePinSource(config.hsm.pin_source)));
  const absl::Status created =
      hsm::Token::InitializeToken(config.hsm.module, config.hsm.token, so_pin, user_pin);
  if (created.ok()) {
    LogEvent(spdlog::level::info, "hsm.token.created", {{"token", config.hsm.token}});
    return absl::OkStatus();
  }
  return absl::IsAlreadyExists(created) ? absl::OkStatus() : created;
}

absl::StatusOr<std::unique_ptr<hsm::Token>> OpenToken(const Config& config) {
  KEYLINE_ASSIGN_OR_RETURN(std::string pin,
                           hsm::ReadPin(config.ResolvePinSource(config.hsm.pin_source)));
  hsm::TokenConfig token_config;
  token_config.module_path = config.hsm.module;
  token_config.token_label = config.hsm.token;
  token_config.pin = std::move(pin);
  token_config.session_pool_size = config.hsm.sessions;
  return hsm::Token::Open(token_config);
}

absl::StatusOr<std::string> UniqueKeyLabel(std::string_view base) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string suffix, RandomBytes(4, "key label"));
  return absl::StrCat(AsAbsl(base), "-", HexEncode(suffix));
}

absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindServiceKey(hsm::Token& token,
                                                                const std::string& label) {
  KEYLINE_ASSIGN_OR_RETURN(const hsm::KeyInfo info, token.DescribeKey(label));
  KEYLINE_RETURN_IF_ERROR(RequireNeverLeftTheToken(info, label));
  return token.FindSigningKey(label);
}

absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindOrGenerateKey(hsm::Token& token,
                                                                   const std::string& label,
                                                                   hsm::KeyAlgorithm algorithm) {
  auto existing = FindServiceKey(token, label);
  if (existing.ok() || !absl::IsNotFound(existing.status())) return existing;
  KEYLINE_ASSIGN_OR_RETURN(const std::string id, RandomBytes(16, "key id"));
  // The generated key's attributes as the token reports them back.
  KEYLINE_ASSIGN_OR_RETURN(const hsm::KeyInfo info, token.GenerateKeyPair(algorithm, label, id));
  LogEvent(spdlog::level::info, "hsm.key.generated", {{"label", label}});
  KEYLINE_RETURN_IF_ERROR(RequireNeverLeftTheToken(info, label));
  return token.FindSigningKey(label);
}

}  // namespace keyline::server
