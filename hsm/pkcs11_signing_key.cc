#include "hsm/pkcs11_signing_key.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "hsm/ec_curve.h"
#include "hsm/ec_public_key.h"
#include "hsm/ecdsa_signature.h"
#include "hsm/key_objects.h"
#include "hsm/pkcs11_objects.h"

namespace keyline::hsm {
namespace {

// r || s of the largest curve we could meet (P-521: 2 x 66 bytes).
constexpr size_t kMaxRawSignature = 132;

// Everything Find reads from the token in one pass over a session.
struct FoundKey {
  std::vector<CK_OBJECT_HANDLE> private_keys;
  std::vector<CK_OBJECT_HANDLE> public_keys;
  PrivateKeyAttributes attributes;
  std::string ec_point;
};

CK_RV ReadKey(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE session, const std::string& label,
              const std::string& id, FoundKey& found) {
  // Two are enough to tell "unique" from "ambiguous".
  CK_RV rv = FindKeyObjects(functions, session, CKO_PRIVATE_KEY, label, id, 2, found.private_keys);
  if (rv != CKR_OK || found.private_keys.size() != 1) return rv;
  rv = ReadPrivateKeyAttributes(functions, session, found.private_keys[0], found.attributes);
  if (rv != CKR_OK) return rv;
  rv = FindKeyObjects(functions, session, CKO_PUBLIC_KEY, label, found.attributes.id, 2,
                      found.public_keys);
  if (rv != CKR_OK || found.public_keys.size() != 1) return rv;
  return GetBytesAttribute(functions, session, found.public_keys[0], CKA_EC_POINT, found.ec_point);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pkcs11SigningKey>> Pkcs11SigningKey::Find(
    std::shared_ptr<SessionPool> pool, const std::string& label, const std::string& id) {
  if (label.empty()) return absl::InvalidArgumentError("key label: empty");
  FoundKey found;
  absl::Status status = pool->Run("finding the signing key", [&](const SessionPool::Lease& lease) {
    found = FoundKey{};  // a retry starts from scratch
    return ReadKey(pool->functions(), lease.session, label, id, found);
  });
  if (!status.ok()) return status;
  const std::string name = absl::StrCat("key \"", label, "\"");
  if (found.private_keys.empty()) {
    return absl::NotFoundError(absl::StrCat(name, ": no such private key on the token"));
  }
  if (found.private_keys.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": several private keys have this label; select one by id"));
  }
  absl::StatusOr<KeyInfo> info = ToKeyInfo(found.attributes);
  if (!info.ok()) return info.status();
  if (found.public_keys.empty()) {
    return absl::NotFoundError(absl::StrCat(name, ": no public key with its label and id"));
  }
  if (found.public_keys.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": several public keys have its label and id"));
  }
  absl::StatusOr<EvpPkeyPtr> public_key = EcPublicKeyFromPoint(info->algorithm, found.ec_point);
  if (!public_key.ok()) {
    return absl::Status(public_key.status().code(),
                        absl::StrCat(name, ": ", public_key.status().message()));
  }
  return std::unique_ptr<Pkcs11SigningKey>(new Pkcs11SigningKey(
      std::move(pool), label, info->id, info->algorithm, *std::move(public_key)));
}

Pkcs11SigningKey::Pkcs11SigningKey(std::shared_ptr<SessionPool> pool, std::string label,
                                   std::string id, KeyAlgorithm algorithm, EvpPkeyPtr public_key)
    : pool_(std::move(pool)),
      label_(std::move(label)),
      id_(std::move(id)),
      algorithm_(algorithm),
      digest_length_(DigestLength(algorithm)),
      signature_length_(2 * FieldLength(algorithm)),
      public_key_(std::move(public_key)),
      // Generation 0 is no pool's: each session's first signature looks the key up and copies it.
      session_keys_(pool_->size()) {}

Pkcs11SigningKey::~Pkcs11SigningKey() {
  // Best effort, and never a recovery: copies from an older generation died with their sessions.
  // Session objects are the application's, so one session destroys every session's copy.
  (void)pool_->Run("C_DestroyObject", [&](const SessionPool::Lease& lease) {
    for (const SessionKey& key : session_keys_) {
      if (key.is_copy && key.generation == lease.generation) {
        pool_->functions()->C_DestroyObject(lease.session, key.handle);
      }
    }
    return CKR_OK;
  });
}

CK_RV Pkcs11SigningKey::LookUpHandle(CK_SESSION_HANDLE session, SessionKey& key,
                                     Lookup& lookup) const {
  std::vector<CK_OBJECT_HANDLE> found;
  CK_RV rv = FindKeyObjects(pool_->functions(), session, CKO_PRIVATE_KEY, label_, id_, 2, found);
  if (rv != CKR_OK) return rv;
  lookup = found.empty()      ? Lookup::kMissing
           : found.size() > 1 ? Lookup::kAmbiguous
                              : Lookup::kFound;
  if (lookup != Lookup::kFound) return CKR_OK;
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  rv = CopyKeyToSession(pool_->functions(), session, found[0], copy);
  if (IsRecoverable(rv)) return rv;
  key.is_copy = rv == CKR_OK;
  key.handle = key.is_copy ? copy : found[0];
  return CKR_OK;
}

absl::StatusOr<std::string> Pkcs11SigningKey::SignDigest(std::string_view digest) const {
  if (digest.size() != digest_length_) {
    return absl::InvalidArgumentError(absl::StrCat("digest: ", digest.size(), " bytes; key \"",
                                                   label_, "\" signs ", digest_length_,
                                                   "-byte digests"));
  }
  unsigned char raw[kMaxRawSignature];
  CK_ULONG raw_length = 0;
  Lookup lookup = Lookup::kFound;
  CK_FUNCTION_LIST* const functions = pool_->functions();
  const absl::Status status = pool_->Run("C_Sign", [&](const SessionPool::Lease& lease) -> CK_RV {
    SessionKey& key = session_keys_[lease.index];
    if (key.generation != lease.generation) {
      key = SessionKey{};
      const CK_RV rv = LookUpHandle(lease.session, key, lookup);
      if (rv != CKR_OK || lookup != Lookup::kFound) return rv;
      key.generation = lease.generation;
    }
    CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
    const CK_RV rv = functions->C_SignInit(lease.session, &mechanism, key.handle);
    if (rv != CKR_OK) return rv;
    raw_length = sizeof(raw);
    return functions->C_Sign(lease.session,
                             reinterpret_cast<CK_BYTE*>(const_cast<char*>(digest.data())),
                             digest.size(), raw, &raw_length);
  });
  if (lookup == Lookup::kMissing) {
    return absl::NotFoundError(absl::StrCat("key \"", label_, "\": no longer on the token"));
  }
  if (lookup == Lookup::kAmbiguous) {
    return absl::FailedPreconditionError(
        absl::StrCat("key \"", label_, "\": its label and id now match several private keys"));
  }
  if (!status.ok()) return status;
  if (raw_length != signature_length_) {
    return absl::InternalError(absl::StrCat("C_Sign: ", raw_length, "-byte signature from a ",
                                            signature_length_, "-byte r || s key"));
  }
  return EcdsaRawSignatureToDer(std::string_view(reinterpret_cast<const char*>(raw), raw_length));
}

}  // namespace keyline::hsm
