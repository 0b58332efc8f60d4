// Reaching the HSM from configuration: the bundled SoftHSM2 default (token directory, config
// file and PINs under the state directory) and opening the token.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "hsm/token.h"
#include "server/config.h"

namespace keyline::server {

// With the bundled SoftHSM2 (hsm.softhsm2_conf set): creates <state>/hsm (mode 0700), its token
// directory and SoftHSM2's config file if missing, and points SOFTHSM2_CONF at it. Does nothing
// for a vendor module. Must run before the module is loaded.
[[nodiscard]] absl::Status PrepareBundledSoftHsm(const Config& config);

// init only: with the bundled SoftHSM2, makes random SO and user PINs (files readable by their
// owner only) if missing and creates the token if it does not exist yet.
[[nodiscard]] absl::Status EnsureBundledToken(const Config& config);

[[nodiscard]] absl::StatusOr<std::unique_ptr<hsm::Token>> OpenToken(const Config& config);

// The private key with this label, generated in the token (random CKA_ID) if there is none yet,
// so that an init interrupted after key generation reuses the key when it runs again.
[[nodiscard]] absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindOrGenerateKey(
    hsm::Token& token, const std::string& label, hsm::KeyAlgorithm algorithm);

}  // namespace keyline::server
