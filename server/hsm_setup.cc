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

// Makes a random PIN in the file a "file:" source names, unless the file exists.
absl::Status EnsurePinFile(const Config& config, const std::string& source) {
  const std::string resolved = config.ResolvePinSource(source);
  if (!absl::StartsWith(resolved, "file:")) return absl::OkStatus();  // env: supplied by the operator
  const std::string path = resolved.substr(5);
  if (FileExists(path)) return absl::OkStatus();
  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) return absl::InternalError("PIN: CSPRNG failed");
  KEYLINE_RETURN_IF_ERROR(MakeDirectories(std::filesystem::path(path).parent_path().string(), 0700));
  return WriteFileAtomically(
      path, HexEncode(std::string_view(reinterpret_cast<char*>(random), sizeof(random))) + "\n",
      0600);
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
  unsigned char suffix[4];
  if (RAND_bytes(suffix, sizeof(suffix)) != 1)
    return absl::InternalError("key label: CSPRNG failed");
  return absl::StrCat(AsAbsl(base), "-",
                      HexEncode(std::string_view(reinterpret_cast<char*>(suffix), sizeof(suffix))));
}

absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindServiceKey(hsm::Token& token,
                                                                const std::string& label) {
  KEYLINE_ASSIGN_OR_RETURN(const hsm::KeyInfo info, token.DescribeKey(label));
  if (!info.sensitive || info.extractable || !info.always_sensitive || !info.never_extractable) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key \"", label, "\": its attributes do not show that it never left the HSM (sensitive ",
        info.sensitive, ", extractable ", info.extractable, ", always sensitive ",
        info.always_sensitive, ", never extractable ", info.never_extractable,
        "); Keyline signs only with keys generated non-extractable in the token"));
  }
  return token.FindSigningKey(label);
}

absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindOrGenerateKey(hsm::Token& token,
                                                                   const std::string& label,
                                                                   hsm::KeyAlgorithm algorithm) {
  auto existing = FindServiceKey(token, label);
  if (existing.ok() || !absl::IsNotFound(existing.status())) return existing;
  unsigned char id[16];
  if (RAND_bytes(id, sizeof(id)) != 1) return absl::InternalError("key id: CSPRNG failed");
  KEYLINE_RETURN_IF_ERROR(
      token.GenerateKeyPair(algorithm, label, std::string(reinterpret_cast<char*>(id), sizeof(id)))
          .status());
  LogEvent(spdlog::level::info, "hsm.key.generated", {{"label", label}});
  return FindServiceKey(token, label);
}

}  // namespace keyline::server
