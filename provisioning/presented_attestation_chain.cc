#include "provisioning/presented_attestation_chain.h"

#include "absl/strings/str_cat.h"
#include "ca/public_key_decoder.h"
#include "common/status_macros.h"
#include "provisioning/attestation_chain.h"
#include "store/sha256.h"

namespace keyline::provisioning {

absl::StatusOr<PresentedAttestationChain> PresentedAttestationChain::Read(
    std::vector<std::string_view> certificates, std::string_view field,
    ca::CertificateCache* cache) {
  PresentedAttestationChain chain(std::move(certificates), field, cache);
  auto outlines = OutlineAttestationChain(chain.certificates_, field);
  if (outlines.ok()) {
    chain.key_hash_ = store::Sha256(outlines->front().public_key_info_der);
    chain.outlines_ = *std::move(outlines);
    return chain;
  }
  // The full parse decides, with ParseAttestationChain's errors; it is cached for Verify.
  KEYLINE_ASSIGN_OR_RETURN(const AttestationChain parsed,
                           ParseAttestationChain(chain.certificates_, field, cache));
  KEYLINE_ASSIGN_OR_RETURN(chain.key_hash_, AttestationKeyHash(parsed.leaf.get()));
  return chain;
}

absl::Status PresentedAttestationChain::Verify(const store::DeviceRecord& device,
                                               const X509* trust_anchor, absl::Time at) const {
  if (IsRegisteredFor(device)) {
    // Registration validated these very bytes to this anchor, which never changes for a
    // manufacturer (revoking one is a status the caller checks); only dates can have run out.
    return CheckRegisteredChainValidity(*outlines_, trust_anchor, at, field_);
  }
  KEYLINE_ASSIGN_OR_RETURN(const AttestationChain chain,
                           ParseAttestationChain(certificates_, field_, cache_));
  KEYLINE_ASSIGN_OR_RETURN(const std::string key_hash, AttestationKeyHash(chain.leaf.get()));
  if (key_hash != device.attestation_key_sha256) {
    return absl::PermissionDeniedError(
        absl::StrCat(field_, ": not the attestation key registered for ", device.serial));
  }
  return VerifyAttestationChain(chain, trust_anchor, at, field_);
}

bool PresentedAttestationChain::IsRegisteredFor(const store::DeviceRecord& device) const {
  return outlines_ && IsRegisteredChain(certificates_, device.attestation_certificate_der,
                                        device.attestation_chain_der);
}

absl::StatusOr<EvpPkeyPtr> RegisteredAttestationKey(std::string_view certificate_der,
                                                    ca::CertificateCache* cache) {
  auto outline = ca::ReadCertificateOutline(certificate_der);
  if (outline.ok()) {
    auto key = ca::DecodePublicKeyDer(outline->public_key_info_der, "attestation key");
    if (key.ok()) return key;
  }
  auto certificate = cache->Parse(certificate_der);
  EVP_PKEY* key = certificate.ok() ? X509_get0_pubkey(certificate->get()) : nullptr;
  if (key == nullptr || EVP_PKEY_up_ref(key) != 1) {
    return absl::InternalError("the registered attestation certificate has no usable key");
  }
  return EvpPkeyPtr(key);
}

}  // namespace keyline::provisioning
