// Ownership vouchers (DESIGN.md, "Ownership"): a manufacturer's signed statement that a device
// (serial + attestation key hash) belongs to a deployment until a date. Wire format:
// keyline.v1.SignedVoucher, whose `voucher` bytes are a serialized OwnershipVoucher signed as
//   ECDSA over SHA-256("keyline-voucher-v1" 0x00 || voucher)
// by the manufacturer CA's HSM key; `signer_certificate` names that key. The signed bytes are
// verified before they are parsed, and nothing is re-serialized.
#pragma once

#include <string>
#include <string_view>

#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/issuing_ca.h"
#include "common/openssl_ptr.h"

namespace keyline::provisioning {

inline constexpr size_t kMaxSignedVoucherBytes = 32 * 1024;

struct VoucherContent {
  std::string device_serial;
  std::string attestation_key_sha256;  // 32 bytes
  std::string owner;                   // deployment
  std::string manufacturer;
  absl::Time issued_at;
  absl::Time expires_at;
};

// Signs with the manufacturer CA's key; returns the serialized SignedVoucher.
[[nodiscard]] absl::StatusOr<std::string> SignVoucher(const VoucherContent& content,
                                                      const ca::IssuingCa& manufacturer_ca);

// Signs with `key` and names `signer_certificate_der` as the signer: a vendor's intermediate, or
// in tests a signer that import must refuse.
[[nodiscard]] absl::StatusOr<std::string> SignVoucherWith(const VoucherContent& content,
                                                          const hsm::SigningKey& key,
                                                          std::string_view signer_certificate_der);

// A SignedVoucher taken apart, signature not yet checked.
struct ParsedVoucher {
  std::string voucher;    // the signed bytes
  std::string signature;
  X509Ptr signer;         // the signer certificate
};

// Structure only: size limit, every field present, signer certificate DER.
// InvalidArgument "<field>: ...".
[[nodiscard]] absl::StatusOr<ParsedVoucher> ParseSignedVoucher(std::string_view bytes,
                                                               std::string_view field);

// Whether `signer` may sign vouchers for the manufacturer with this anchor: it is the anchor, or a
// CA certificate (basicConstraints cA) the anchor issued that is valid at `now`.
bool SignerBelongsTo(const X509* signer, const X509* trust_anchor, absl::Time now);

// Verifies the signer against the manufacturer's trust anchor (SignerBelongsTo), the signature,
// then parses the content and checks it is unexpired at `now`. PermissionDenied "<field>: signature
// does not verify" / "... not signed by manufacturer M"; FailedPrecondition "<field>: expired at
// ..."; InvalidArgument for content that is not a well-formed OwnershipVoucher.
[[nodiscard]] absl::StatusOr<VoucherContent> VerifyVoucher(const ParsedVoucher& voucher,
                                                           const X509* trust_anchor,
                                                           absl::Time now,
                                                           std::string_view field);

}  // namespace keyline::provisioning
