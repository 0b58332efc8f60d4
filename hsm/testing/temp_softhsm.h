// SoftHSM2 tokens for tests, in a temporary token directory private to the test process.
//
// The first use creates the directory and a softhsm2.conf in it (file object store, errors-only
// logging) and points SOFTHSM2_CONF at it, so it must happen before anything in the process
// initialises SoftHSM2 with another configuration (SoftHSM2 reads the variable in C_Initialize).
// The directory is removed when the process exits.
//
// Thread safety: CreateToken may be called from several threads, but the first call sets an
// environment variable (setenv), so make it before starting threads that read the environment.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "hsm/token.h"

namespace keyline::hsm {

inline constexpr char kSoftHsmModulePath[] = "/usr/lib/softhsm/libsofthsm2.so";

struct TempSoftHsmToken {
  // Initialises a new token with this label and random SO and user PINs. AlreadyExists when the
  // process already made a token with the label.
  [[nodiscard]] static absl::StatusOr<TempSoftHsmToken> CreateToken(const std::string& label);

  // The SOFTHSM2_CONF of the process' token directory, e.g. for pkcs11-tool in a subprocess (the
  // variable is set in this process' environment, so subprocesses inherit it anyway).
  [[nodiscard]] static absl::StatusOr<std::string> ConfigPath();

  TokenConfig config;  // module path, token label and user PIN: ready for Token::Open
  std::string so_pin;
};

}  // namespace keyline::hsm
