// A logged-in PKCS#11 token: the module (any vendor's, loaded by path), a pool of sessions sized
// to the cores, key generation and lookup. This is the one object the rest of Keyline holds to
// reach the HSM.
//
// Recovery: when the module reports a lost or closed session, a logged-out token or a
// recoverable device error (see IsRecoverable), the pool closes what is left, reopens its
// sessions, logs in again, looks the key handle up again and retries the operation once; the
// caller sees success. Only if the retry fails too does it get Unavailable.
//
// Thread safety: every method is safe to call from many threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/key_algorithm.h"
#include "hsm/signing_key.h"

namespace keyline::hsm {

struct TokenConfig {
  std::string module_path = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token_label;   // selects the slot whose token has this label
  std::string pin;           // user PIN, already read with ReadPin
  size_t session_pool_size = 0;  // 0: one session per hardware thread
};

struct KeyInfo {
  std::string label;  // CKA_LABEL
  std::string id;     // CKA_ID, raw bytes
  KeyAlgorithm algorithm;
  bool sensitive = false;          // CKA_SENSITIVE
  bool extractable = true;         // CKA_EXTRACTABLE
  bool always_sensitive = false;   // CKA_ALWAYS_SENSITIVE
  bool never_extractable = false;  // CKA_NEVER_EXTRACTABLE
};

class Token {
 public:
  // Creates and initialises a token with this label in the first free slot (SoftHSM2 keeps one
  // free slot), sets its SO PIN and user PIN. AlreadyExists when a token with the label exists
  // and has its user PIN. A token with the label but no user PIN yet (an earlier call stopped
  // between the two steps) gets it now, with `so_pin`. PINs of a length the token does not take
  // are InvalidArgument naming the PIN, before anything is created.
  // For the bundled SoftHSM2 default; real HSMs are initialised with their vendor's tools.
  [[nodiscard]] static absl::Status InitializeToken(const std::string& module_path,
                                                    const std::string& token_label,
                                                    const std::string& so_pin,
                                                    const std::string& user_pin);

  // Loads the module, finds the token by label, opens the session pool and logs in.
  // NotFound when no token has the label; PermissionDenied for a wrong PIN.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Token>> Open(const TokenConfig& config);

  virtual ~Token() = default;

  // Generates an EC key pair inside the token: private key with CKA_TOKEN, CKA_PRIVATE,
  // CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_SIGN true; public key with CKA_VERIFY.
  // Both carry the label and id. AlreadyExists when a private key with the label exists.
  [[nodiscard]] virtual absl::StatusOr<KeyInfo> GenerateKeyPair(KeyAlgorithm algorithm,
                                                                const std::string& label,
                                                                const std::string& id) = 0;

  // Finds a private key by label (and id when non-empty) and returns a signer for it; the public
  // key is read from the matching public-key object (CKA_EC_POINT, CKA_EC_PARAMS).
  // NotFound when absent, FailedPrecondition when the label is ambiguous.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<SigningKey>> FindSigningKey(
      const std::string& label, const std::string& id = "") = 0;

  // Attributes of one private key, for audits and tests.
  [[nodiscard]] virtual absl::StatusOr<KeyInfo> DescribeKey(const std::string& label) = 0;

  // Every private key on the token.
  [[nodiscard]] virtual absl::StatusOr<std::vector<KeyInfo>> ListKeys() = 0;

  // Number of times the session pool had to reopen its sessions since Open (for /metrics and
  // tests).
  virtual uint64_t session_recoveries() const = 0;
};

}  // namespace keyline::hsm
