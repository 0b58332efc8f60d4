// The attestation chain a device presents to BeginEnrollment, checked against what the device was
// registered with.
//
// Registration (factory_service.cc) validated the device's chain in full and stored its bytes.
// When the device presents those very bytes, only what can have changed since is checked again:
// the dates (the manufacturer's status is the caller's). That needs the certificates' outlines
// (ca/certificate_outline.h, a few µs each) rather than OpenSSL's full parse (~100 µs each on
// 3.0) and path validation. Any other chain is parsed and validated in full, as at registration.
// The outline is only ever a shortcut: a certificate it cannot read (OpenSSL's parser is more
// lenient in places) takes the full path, so what is accepted never depends on it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/certificate_cache.h"
#include "ca/certificate_outline.h"
#include "common/openssl_ptr.h"
#include "store/records.h"

namespace keyline::provisioning {

class PresentedAttestationChain {
 public:
  // Applies ParseAttestationChain's limits and reads the certificates; InvalidArgument with its
  // messages ("<field>[1]: not a DER certificate"). `certificates` and `cache` must outlive this.
  [[nodiscard]] static absl::StatusOr<PresentedAttestationChain> Read(
      std::vector<std::string_view> certificates, std::string_view field,
      ca::CertificateCache* cache);

  // SHA-256 of the leaf's SubjectPublicKeyInfo: the attestation key presented, as registration
  // computed it for a registered chain.
  const std::string& key_hash() const { return key_hash_; }

  // OK when the chain stands for `device`'s registered attestation key and validates to the
  // manufacturer's `trust_anchor` at `at`. PermissionDenied when it certifies another key;
  // FailedPrecondition "<field>: <OpenSSL's reason>" when it does not validate.
  [[nodiscard]] absl::Status Verify(const store::DeviceRecord& device, const X509* trust_anchor,
                                    absl::Time at) const;
  // Whether Verify takes the short path for `device` (the very bytes it was registered with): a
  // few µs, where any other chain is parsed and validated in full.
  bool IsRegisteredFor(const store::DeviceRecord& device) const;

 private:
  PresentedAttestationChain(std::vector<std::string_view> certificates, std::string_view field,
                            ca::CertificateCache* cache)
      : certificates_(std::move(certificates)), field_(field), cache_(cache) {}

  std::vector<std::string_view> certificates_;
  std::string field_;
  ca::CertificateCache* cache_;
  // Every certificate's outline, unless one of them has none.
  std::optional<std::vector<ca::CertificateOutline>> outlines_;
  std::string key_hash_;
};

// The public key of a registered attestation certificate, from its outline (or a full parse if
// it has none). Internal when the stored certificate cannot be read.
[[nodiscard]] absl::StatusOr<EvpPkeyPtr> RegisteredAttestationKey(std::string_view certificate_der,
                                                                  ca::CertificateCache* cache);

}  // namespace keyline::provisioning
