// SigningKey backed by a private key inside a PKCS#11 token.
//
// The object handle of the private key is cached and looked up again (by label and CKA_ID) only
// when the session pool replaced its sessions, so SignDigest costs one C_SignInit and one C_Sign
// plus the DER conversion: no searches, no logging.
//
// Thread safety: SignDigest may be called from many threads; each call uses its own session.
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <cstdint>
#include <memory>
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

  KeyAlgorithm algorithm() const override { return algorithm_; }
  EVP_PKEY* public_key() const override { return public_key_.get(); }
  [[nodiscard]] absl::StatusOr<std::string> SignDigest(std::string_view digest) const override;

 private:
  enum class Lookup { kFound, kMissing, kAmbiguous };

  Pkcs11SigningKey(std::shared_ptr<SessionPool> pool, std::string label, std::string id,
                   KeyAlgorithm algorithm, EvpPkeyPtr public_key, CK_OBJECT_HANDLE handle,
                   uint64_t generation);

  // The cached private-key handle if it was found under this pool generation, else
  // CK_INVALID_HANDLE. Handles only change when the pool is drained for a recovery, so every
  // thread that sees `generation` also sees the handle stored with it.
  CK_OBJECT_HANDLE CachedHandle(uint64_t generation) const;
  void CacheHandle(CK_OBJECT_HANDLE handle, uint64_t generation) const;
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
};

}  // namespace keyline::hsm
