#include "hsm/testing/temp_softhsm.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/hex.h"

namespace keyline::hsm {
namespace {

// The process' token directory. Created on first use, removed at exit by the process that made
// it (not by forked children, such as gtest death tests, that exit through static destructors).
class SoftHsmDirectory {
 public:
  static const SoftHsmDirectory& Get() {
    static const SoftHsmDirectory directory;
    return directory;
  }

  ~SoftHsmDirectory() {
    if (root_.empty() || getpid() != owner_) return;
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  const absl::Status& status() const { return status_; }
  const std::string& config_path() const { return config_path_; }

 private:
  SoftHsmDirectory() : owner_(getpid()) { status_ = Create(); }

  absl::Status Create() {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string pattern = absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
                                       "/keyline-softhsm-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(pattern, ": ", std::strerror(errno)));
    }
    root_ = pattern;
    const std::string tokens = root_ + "/tokens";
    if (absl::Status status = MakeDirectories(tokens, 0700); !status.ok()) return status;
    config_path_ = root_ + "/softhsm2.conf";
    const std::string config = absl::StrCat("directories.tokendir = ", tokens,
                                            "\n"
                                            "objectstore.backend = file\n"
                                            "log.level = ERROR\n"
                                            "slots.removable = false\n");
    if (absl::Status status = WriteFileAtomically(config_path_, config, 0600); !status.ok()) {
      return status;
    }
    if (setenv("SOFTHSM2_CONF", config_path_.c_str(), 1) != 0) {
      return absl::FailedPreconditionError(absl::StrCat("setenv: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  const pid_t owner_;
  std::string root_;
  std::string config_path_;
  absl::Status status_;
};

absl::StatusOr<std::string> RandomPin() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return absl::InternalError("RAND_bytes failed");
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace

absl::StatusOr<std::string> TempSoftHsmToken::ConfigPath() {
  const SoftHsmDirectory& directory = SoftHsmDirectory::Get();
  if (!directory.status().ok()) return directory.status();
  return directory.config_path();
}

absl::StatusOr<TempSoftHsmToken> TempSoftHsmToken::CreateToken(const std::string& label) {
  if (absl::StatusOr<std::string> config = ConfigPath(); !config.ok()) return config.status();
  absl::StatusOr<std::string> so_pin = RandomPin();
  absl::StatusOr<std::string> user_pin = RandomPin();
  if (!so_pin.ok()) return so_pin.status();
  if (!user_pin.ok()) return user_pin.status();
  if (absl::Status status = Token::InitializeToken(kSoftHsmModulePath, label, *so_pin, *user_pin);
      !status.ok()) {
    return status;
  }
  TempSoftHsmToken token;
  token.config.module_path = kSoftHsmModulePath;
  token.config.token_label = label;
  token.config.pin = *std::move(user_pin);
  token.so_pin = *std::move(so_pin);
  return token;
}

}  // namespace keyline::hsm
