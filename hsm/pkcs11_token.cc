#include "hsm/pkcs11_token.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "hsm/ec_curve.h"
#include "hsm/key_objects.h"
#include "hsm/key_pair_generation.h"
#include "hsm/pkcs11_module.h"
#include "hsm/pkcs11_signing_key.h"

namespace keyline::hsm {
namespace {

// Upper bound on the keys one ListKeys reads; far above what a CA's token holds.
constexpr size_t kMaxListedKeys = 10000;

}  // namespace

absl::StatusOr<std::unique_ptr<Pkcs11Token>> Pkcs11Token::Open(const TokenConfig& config) {
  if (config.token_label.empty()) return absl::InvalidArgumentError("token_label: empty");
  if (config.pin.empty()) return absl::InvalidArgumentError("pin: empty");
  absl::StatusOr<std::shared_ptr<Pkcs11Module>> module = Pkcs11Module::Load(config.module_path);
  if (!module.ok()) return module.status();
  absl::StatusOr<CK_SLOT_ID> slot = (*module)->FindTokenSlot(config.token_label);
  if (!slot.ok()) return slot.status();
  absl::StatusOr<std::shared_ptr<SessionPool>> pool =
      SessionPool::Open(*std::move(module), *slot, config.pin, config.session_pool_size);
  if (!pool.ok()) {
    return absl::Status(pool.status().code(), absl::StrCat("token \"", config.token_label,
                                                           "\": ", pool.status().message()));
  }
  return std::unique_ptr<Pkcs11Token>(new Pkcs11Token(*std::move(pool)));
}

absl::StatusOr<KeyInfo> Pkcs11Token::GenerateKeyPair(KeyAlgorithm algorithm,
                                                     const std::string& label,
                                                     const std::string& id) {
  if (label.empty()) return absl::InvalidArgumentError("key label: empty");
  absl::StatusOr<std::string> ec_params = EcParamsForAlgorithm(algorithm);
  if (!ec_params.ok()) return ec_params.status();

  absl::MutexLock lock(&generation_mutex_);
  std::vector<CK_OBJECT_HANDLE> existing;
  absl::Status status =
      pool_->Run("looking for the key label", [&](const SessionPool::Lease& lease) {
        return FindKeyObjects(pool_->functions(), lease.session, CKO_PRIVATE_KEY, label, "", 1,
                              existing);
      });
  if (!status.ok()) return status;
  if (!existing.empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("key \"", label, "\": a private key with this label exists"));
  }
  status = pool_->Run("C_GenerateKeyPair", [&](const SessionPool::Lease& lease) {
    CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
    return GenerateEcKeyPair(pool_->functions(), lease.session, *ec_params, label, id, public_key,
                             private_key);
  });
  if (!status.ok()) return status;
  // Read back from the token rather than echo the request: the caller learns what the HSM
  // actually enforces (CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE).
  return DescribeKey(label);
}

absl::StatusOr<std::unique_ptr<SigningKey>> Pkcs11Token::FindSigningKey(const std::string& label,
                                                                        const std::string& id) {
  absl::StatusOr<std::unique_ptr<Pkcs11SigningKey>> key = Pkcs11SigningKey::Find(pool_, label, id);
  if (!key.ok()) return key.status();
  return std::unique_ptr<SigningKey>(*std::move(key));
}

absl::StatusOr<KeyInfo> Pkcs11Token::DescribeKey(const std::string& label) {
  if (label.empty()) return absl::InvalidArgumentError("key label: empty");
  std::vector<CK_OBJECT_HANDLE> found;
  PrivateKeyAttributes attributes;
  absl::Status status = pool_->Run("describing the key", [&](const SessionPool::Lease& lease) {
    const CK_SESSION_HANDLE session = lease.session;
    CK_RV rv = FindKeyObjects(pool_->functions(), session, CKO_PRIVATE_KEY, label, "", 2, found);
    if (rv != CKR_OK || found.size() != 1) return rv;
    return ReadPrivateKeyAttributes(pool_->functions(), session, found[0], attributes);
  });
  if (!status.ok()) return status;
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("key \"", label, "\": no such private key"));
  }
  if (found.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("key \"", label, "\": several private keys have this label"));
  }
  return ToKeyInfo(attributes);
}

absl::StatusOr<std::vector<KeyInfo>> Pkcs11Token::ListKeys() {
  std::vector<PrivateKeyAttributes> keys;
  absl::Status status = pool_->Run("listing keys", [&](const SessionPool::Lease& lease) {
    const CK_SESSION_HANDLE session = lease.session;
    std::vector<CK_OBJECT_HANDLE> found;
    keys.clear();
    CK_RV rv =
        FindKeyObjects(pool_->functions(), session, CKO_PRIVATE_KEY, "", "", kMaxListedKeys, found);
    if (rv != CKR_OK) return rv;
    keys.resize(found.size());
    for (size_t i = 0; i < found.size(); ++i) {
      rv = ReadPrivateKeyAttributes(pool_->functions(), session, found[i], keys[i]);
      if (rv != CKR_OK) return rv;
    }
    return CKR_OK;
  });
  if (!status.ok()) return status;
  std::vector<KeyInfo> infos;
  infos.reserve(keys.size());
  for (const PrivateKeyAttributes& attributes : keys) {
    absl::StatusOr<KeyInfo> info = ToKeyInfo(attributes);
    if (info.ok()) infos.push_back(*std::move(info));
  }
  return infos;
}

}  // namespace keyline::hsm
