// SigningKey backed by a private key inside a PKCS#11 token.
//
// The object handle of the private key is cached and looked up again (by label and CKA_ID) only
// when the session pool replaced its sessions, so SignDigest costs one C_SignInit and one C_Sign
// plus the DER conversion: no searches, no logging.
//
// Signing uses a session copy of the key (C_CopyObject with CKA_TOKEN false, still sensitive and
// never extractable) when the module allows it: SoftHSM2 re-reads a token object's file state on
// every C_SignInit, and signs about 1.5x faster from a session object (hsm_sign_benchmark,
// session_copy). The copy lives inside the module, is visible to the pool's other sessions, dies
// with the session that made it (a pool recovery makes a new one) and is destroyed with this
// object. Modules that refuse the copy (CKA_COPYABLE false) sign with the token object.
//
// Thread safety: SignDigest may be called from many threads; each call uses its own session.
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"
#include "hsm/session_pool.h"
#include "hsm/signing_key.h"

namespace keyline::hsm {

class Pkcs11SigningKey final : public SigningKey {
 public:
  // Finds the private key with this label (and CKA_ID, when `id` is non-empty) and the public key
  // with the same label and id, and reads the public key. NotFound when either is missing,
  // FailedPrecondition when the label is ambiguous or the key is not one Keyline can use.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Pkcs11SigningKey>> Find(
      std::shared_ptr<SessionPool> pool, const std::string& label, const std::string& id);

  ~Pkcs11SigningKey() override;

  KeyAlgorithm algorithm() const override { return algorithm_; }
  EVP_PKEY* public_key() const override { return public_key_.get(); }
  [[nodiscard]] absl::StatusOr<std::string> SignDigest(std::string_view digest) const override;

 private:
  enum class Lookup { kFound, kMissing, kAmbiguous };

  Pkcs11SigningKey(std::shared_ptr<SessionPool> pool, std::string label, std::string id,
                   KeyAlgorithm algorithm, EvpPkeyPtr public_key);

  // The cached private-key handle if it was found under this pool generation, else
  // CK_INVALID_HANDLE. Handles only change when the pool is drained for a recovery, so every
  // thread that sees `generation` also sees the handle stored with it.
  CK_OBJECT_HANDLE CachedHandle(uint64_t generation) const;
  void CacheHandle(CK_OBJECT_HANDLE handle, uint64_t generation) const;
  // Finds the token key and, where the module allows, copies it into a session object; `handle`
  // is what SignDigest should use.
  CK_RV LookUpHandle(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE& handle, Lookup& lookup) const;

  const std::shared_ptr<SessionPool> pool_;
  const std::string label_;
  const std::string id_;  // the key's own CKA_ID, so a lookup finds exactly this key again
  const KeyAlgorithm algorithm_;
  const size_t digest_length_;
  const size_t signature_length_;  // r || s
  const EvpPkeyPtr public_key_;
  mutable std::atomic<CK_OBJECT_HANDLE> handle_;
  mutable std::atomic<uint64_t> handle_generation_;
  // Serialises look-ups, so that threads missing the cache together make one copy, not several.
  mutable std::mutex lookup_mutex_;
  mutable bool handle_is_copy_ = false;  // guarded by lookup_mutex_
};

}  // namespace keyline::hsm
