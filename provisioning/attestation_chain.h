// Attestation evidence: the chain of certificates a device (or the factory) presents for its
// secure element's attestation key, checked against a manufacturer's trust anchor.
//
// The outline readers below serve BeginEnrollment's shortcut for registered chains
// (presented_attestation_chain.h).
//
// Parsing is strict (each element exactly one DER certificate, at most kMaxChainLength of at
// most kMaxCertificateBytes); verification is RFC 5280 path validation by OpenSSL from the leaf to
// the anchor, which may itself be an intermediate (partial chain), for any purpose: vendors'
// attestation certificates carry EKUs of their own. The leaf must not be a CA.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/certificate_cache.h"
#include "ca/certificate_outline.h"
#include "common/openssl_ptr.h"

namespace keyline::provisioning {

inline constexpr size_t kMaxChainLength = 8;
inline constexpr size_t kMaxCertificateBytes = 16 * 1024;

struct AttestationChain {
  std::vector<std::string> der;  // leaf first
  X509Ptr leaf;
  std::vector<X509Ptr> intermediates;
};

// InvalidArgument "<field>: ..." (e.g. "attestation_chain[1]: not a DER certificate"). With a
// cache, certificates seen before are not parsed again (and new ones are remembered): for
// enrollment, which meets a device's chain twice and its manufacturer's intermediates always.
[[nodiscard]] absl::StatusOr<AttestationChain> ParseAttestationChain(
    const std::vector<std::string_view>& certificates, std::string_view field,
    ca::CertificateCache* cache = nullptr);

// The limits of ParseAttestationChain and each certificate's outline, with the same errors.
[[nodiscard]] absl::StatusOr<std::vector<ca::CertificateOutline>> OutlineAttestationChain(
    const std::vector<std::string_view>& certificates, std::string_view field);

// Whether `certificates` (leaf first) are byte for byte the chain a device was registered with.
bool IsRegisteredChain(const std::vector<std::string_view>& certificates,
                       std::string_view registered_leaf,
                       const std::vector<std::string>& registered_intermediates);

// For a registered chain (validated to `trust_anchor` when the device was registered): what
// VerifyAttestationChain would still say at `at`, namely FailedPrecondition "<field>: certificate
// has expired" or "... is not yet valid" when a certificate of the chain or the anchor is outside
// its validity.
[[nodiscard]] absl::Status CheckRegisteredChainValidity(
    const std::vector<ca::CertificateOutline>& chain, const X509* trust_anchor, absl::Time at,
    std::string_view field);

// FailedPrecondition "<field>: <OpenSSL's reason>" when the chain does not validate to the anchor
// at `at` (expired, not yet valid, wrong issuer, bad signature), or the leaf is a CA.
[[nodiscard]] absl::Status VerifyAttestationChain(const AttestationChain& chain,
                                                  const X509* trust_anchor, absl::Time at,
                                                  std::string_view field);

// SHA-256 of the leaf's SubjectPublicKeyInfo DER: the attestation key's identity.
[[nodiscard]] absl::StatusOr<std::string> AttestationKeyHash(const X509* leaf);

}  // namespace keyline::provisioning
