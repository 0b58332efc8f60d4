#include "provisioning/ownership_voucher.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ca/x509_signing.h"
#include "common/absl_compat.h"
#include "common/digests.h"
#include "keyline/v1/common.pb.h"
#include "provisioning/proto_conversions.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kVoucherLabel = "keyline-voucher-v1";

std::string SignedMessage(std::string_view voucher) {
  std::string message(kVoucherLabel);
  message.push_back('\0');
  message.append(voucher);
  return message;
}

absl::Status Problem(absl::StatusCode code, std::string_view field, std::string_view what) {
  return absl::Status(code, absl::StrCat(AsAbsl(field), ": ", AsAbsl(what)));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

}  // namespace

absl::StatusOr<std::string> SignVoucher(const VoucherContent& content,
                                        const ca::IssuingCa& manufacturer_ca) {
  return SignVoucherWith(content, manufacturer_ca.key(), manufacturer_ca.certificate_der());
}

absl::StatusOr<std::string> SignVoucherWith(const VoucherContent& content,
                                            const hsm::SigningKey& key,
                                            std::string_view signer_certificate_der) {
  keyline::v1::OwnershipVoucher voucher;
  voucher.set_device_serial(content.device_serial);
  voucher.set_attestation_key_sha256(content.attestation_key_sha256);
  voucher.set_owner(content.owner);
  voucher.set_manufacturer(content.manufacturer);
  ToTimestamp(content.issued_at, voucher.mutable_issued_at());
  ToTimestamp(content.expires_at, voucher.mutable_expires_at());
  keyline::v1::SignedVoucher signed_voucher;
  if (!voucher.SerializeToString(signed_voucher.mutable_voucher())) {
    return absl::InternalError("voucher: serialization failed");
  }
  auto signature = ca::SignWithKey(key, SignedMessage(signed_voucher.voucher()));
  if (!signature.ok()) return signature.status();
  signed_voucher.set_signature(*signature);
  signed_voucher.set_signer_certificate(std::string(signer_certificate_der));
  return signed_voucher.SerializeAsString();
}

absl::StatusOr<ParsedVoucher> ParseSignedVoucher(std::string_view bytes, std::string_view field) {
  if (bytes.size() > kMaxSignedVoucherBytes) {
    return Problem(absl::StatusCode::kInvalidArgument, field,
                   absl::StrCat(bytes.size(), " bytes, larger than the limit of ",
                                kMaxSignedVoucherBytes));
  }
  keyline::v1::SignedVoucher signed_voucher;
  if (!signed_voucher.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Problem(absl::StatusCode::kInvalidArgument, field, "not a SignedVoucher message");
  }
  if (signed_voucher.voucher().empty()) {
    return Problem(absl::StatusCode::kInvalidArgument, field, "voucher: empty");
  }
  if (signed_voucher.signature().empty()) {
    return Problem(absl::StatusCode::kInvalidArgument, field, "signature: empty");
  }
  auto signer = ca::ParseCertificateDer(signed_voucher.signer_certificate());
  if (!signer.ok()) {
    return Problem(absl::StatusCode::kInvalidArgument, field, "signer_certificate: not DER");
  }
  return ParsedVoucher{std::move(*signed_voucher.mutable_voucher()),
                       std::move(*signed_voucher.mutable_signature()), *std::move(signer)};
}

bool SignerBelongsTo(const X509* signer, const X509* trust_anchor, absl::Time now) {
  // Keyline-hosted manufacturers sign with their CA key: the signer is the anchor itself.
  if (X509_cmp(signer, trust_anchor) == 0) return true;
  // Otherwise a vendor's intermediate CA. Never a device's certificate, although the anchor issued
  // those too: whoever controls one device's secure element could otherwise sign a voucher for
  // every other device of its manufacturer.
  if ((X509_get_extension_flags(const_cast<X509*>(signer)) & EXFLAG_CA) == 0) return false;
  EVP_PKEY* anchor_key = X509_get0_pubkey(trust_anchor);
  const bool issued = X509_check_issued(const_cast<X509*>(trust_anchor),
                                        const_cast<X509*>(signer)) == X509_V_OK &&
                      anchor_key != nullptr &&
                      X509_verify(const_cast<X509*>(signer), anchor_key) == 1 &&
                      ca::NotBeforeOf(signer) <= now && now <= ca::NotAfterOf(signer);
  ERR_clear_error();
  return issued;
}

absl::StatusOr<VoucherContent> VerifyVoucher(const ParsedVoucher& voucher,
                                             const X509* trust_anchor, absl::Time now,
                                             std::string_view field) {
  X509* signer = voucher.signer.get();
  if (!SignerBelongsTo(signer, trust_anchor, now)) {
    return Problem(absl::StatusCode::kPermissionDenied, field,
                   "not signed by the device's manufacturer");
  }
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  const std::string message = SignedMessage(voucher.voucher);
  const bool verified =
      context &&
      EVP_DigestVerifyInit(context.get(), nullptr, Sha256Digest(), nullptr,
                           X509_get0_pubkey(signer)) == 1 &&
      EVP_DigestVerify(context.get(),
                       reinterpret_cast<const unsigned char*>(voucher.signature.data()),
                       voucher.signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  if (!verified) {
    return Problem(absl::StatusCode::kPermissionDenied, field, "signature does not verify");
  }

  keyline::v1::OwnershipVoucher parsed;
  if (!parsed.ParseFromString(voucher.voucher) || parsed.device_serial().empty() ||
      parsed.attestation_key_sha256().size() != 32 || parsed.owner().empty() ||
      !parsed.has_expires_at()) {
    return Problem(absl::StatusCode::kInvalidArgument, field, "not a complete OwnershipVoucher");
  }
  VoucherContent content{parsed.device_serial(), parsed.attestation_key_sha256(), parsed.owner(),
                         parsed.manufacturer(), FromTimestamp(parsed.issued_at()),
                         FromTimestamp(parsed.expires_at())};
  if (content.expires_at <= now) {
    return Problem(absl::StatusCode::kFailedPrecondition, field,
                   absl::StrCat("expired at ",
                                absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", content.expires_at,
                                                 absl::UTCTimeZone())));
  }
  return content;
}

}  // namespace keyline::provisioning
