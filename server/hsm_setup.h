// Reaching the HSM from configuration: the bundled SoftHSM2 default (token directory, config
// file and PINs under the state directory) and opening the token.
#pragma once

#include <memory>
#include <string_view>

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

// The private key with this label, for Keyline's own signing (CAs, OCSP signers, the audit key),
// once its attributes show it never left the token: CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE and
// CKA_NEVER_EXTRACTABLE true, CKA_EXTRACTABLE false. Otherwise FailedPrecondition naming the
// label: a key someone placed on the token under one of Keyline's labels, or made by a module
// that ignored the template, could have been copied out. NotFound when there is no such key.
[[nodiscard]] absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindServiceKey(
    hsm::Token& token, const std::string& label);

// `base` plus a random suffix: the label for a key that two replicas may make at the same moment
// (a rotation, an OCSP signer's renewal). Two keys under one label would make every later look-up
// of it fail ("several private keys have this label"), and every replica with it.
[[nodiscard]] absl::StatusOr<std::string> UniqueKeyLabel(std::string_view base);

// FindServiceKey, generating the key in the token (random CKA_ID) if there is none yet, so that
// an init interrupted after key generation reuses the key when it runs again.
[[nodiscard]] absl::StatusOr<std::unique_ptr<hsm::SigningKey>> FindOrGenerateKey(
    hsm::Token& token, const std::string& label, hsm::KeyAlgorithm algorithm);

}  // namespace keyline::server
