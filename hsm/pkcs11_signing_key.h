// SigningKey backed by a private key inside a PKCS#11 token.
//
// The object handle of the private key is cached and looked up again (by label and CKA_ID) only
// when the session pool replaced its sessions, so SignDigest costs one C_SignInit and one C_Sign
// plus the DER conversion: no searches, no logging.
//
// Signing uses session copies of the key (C_CopyObject with CKA_TOKEN false, still sensitive and
// never extractable) when the module allows it, one per pool session: SoftHSM2 re-reads a token
// object's file state on every C_SignInit, and signs about 1.5x faster from a session object; and
// threads signing with one shared object queue on that object's lock inside SoftHSM2, which
// costs another third on two cores (hsm_sign_benchmark: SignDigest against RawPkcs11Sign with a
// copy per thread). A copy is made on a session's first signature with this key, dies with that
// session (a pool recovery makes new ones) and is destroyed with this object. Modules that refuse
// the copy (CKA_COPYABLE false) sign with the token object.
//
// Thread safety: SignDigest may be called from many threads; each call uses its own session.
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

  // The key as one pool session signs with it.
  struct SessionKey {
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    uint64_t generation = 0;  // the pool generation `handle` belongs to; pools start at 1
    bool is_copy = false;     // a session object this key made, to destroy with it
  };

  // Finds the token key and, where the module allows, copies it into a session object of
  // `session`; fills `key` with what SignDigest should use there.
  CK_RV LookUpHandle(CK_SESSION_HANDLE session, SessionKey& key, Lookup& lookup) const;

  const std::shared_ptr<SessionPool> pool_;
  const std::string label_;
  const std::string id_;  // the key's own CKA_ID, so a lookup finds exactly this key again
  const KeyAlgorithm algorithm_;
  const size_t digest_length_;
  const size_t signature_length_;  // r || s
  const EvpPkeyPtr public_key_;
  // One entry per pool session, indexed by SessionPool::Lease::index: only the session's lessee
  // touches its entry (the pool orders successive lessees), so no lock of our own.
  mutable std::vector<SessionKey> session_keys_;
};

}  // namespace keyline::hsm
