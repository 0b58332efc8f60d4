// Attestation evidence: the chain of certificates a device (or the factory) presents for its
// secure element's attestation key, checked against a manufacturer's trust anchor.
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

// FailedPrecondition "<field>: <OpenSSL's reason>" when the chain does not validate to the anchor
// at `at` (expired, not yet valid, wrong issuer, bad signature), or the leaf is a CA.
[[nodiscard]] absl::Status VerifyAttestationChain(const AttestationChain& chain,
                                                  const X509* trust_anchor, absl::Time at,
                                                  std::string_view field);

// SHA-256 of the leaf's SubjectPublicKeyInfo DER: the attestation key's identity.
[[nodiscard]] absl::StatusOr<std::string> AttestationKeyHash(const X509* leaf);

}  // namespace keyline::provisioning
