#include "cli/voucher_bundle_file.h"

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "cli/signature_check.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace keyline::cli {

absl::Status WriteVoucherBundle(const std::string& path,
                                const keyline::v1::VoucherBundle& bundle) {
  std::string bytes;
  if (!bundle.SerializeToString(&bytes)) {
    return absl::InternalError("voucher bundle: cannot serialize");
  }
  return WriteFileAtomically(path, bytes, 0644);
}

absl::StatusOr<keyline::v1::VoucherBundle> ReadVoucherBundle(const std::string& path) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string bytes, ReadFile(path, kMaxVoucherBundleBytes));
  keyline::v1::VoucherBundle bundle;
  if (!bundle.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a voucher bundle (keyline.v1.VoucherBundle)"));
  }
  if (bundle.vouchers().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the bundle holds no voucher"));
  }
  return bundle;
}

std::string VoucherSignedMessage(std::string_view voucher) {
  std::string message = "keyline-voucher-v1";
  message.push_back('\0');
  message.append(voucher);
  return message;
}

VoucherSummary DescribeVoucher(const keyline::v1::SignedVoucher& voucher, absl::Time now) {
  VoucherSummary summary;
  summary.signer = SummarizeCertificate(voucher.signer_certificate());
  keyline::v1::OwnershipVoucher content;
  if (voucher.voucher().empty() || !content.ParseFromString(voucher.voucher())) {
    summary.problem = "the signed bytes are not an ownership voucher";
    return summary;
  }
  summary.device_serial = content.device_serial();
  summary.owner = content.owner();
  summary.manufacturer = content.manufacturer();
  summary.issued_at = FromTimestamp(content.issued_at());
  summary.expires_at = FromTimestamp(content.expires_at());

  auto signer = ca::ParseCertificateDer(voucher.signer_certificate());
  if (signer.ok()) {
    EvpPkeyPtr key(X509_get_pubkey(signer->get()));
    summary.signature_valid =
        key && EcdsaSha256Verifies(key.get(), VoucherSignedMessage(voucher.voucher()),
                                   voucher.signature());
  }
  if (!signer.ok()) {
    summary.problem = "the signer certificate does not parse";
  } else if (!summary.signature_valid) {
    summary.problem = "the signature does not verify with the signer certificate";
  } else if (summary.device_serial.empty() || summary.owner.empty()) {
    summary.problem = "device serial or owner missing";
  } else if (summary.expires_at <= now) {
    summary.problem = absl::StrCat("expired at ", TimeText(summary.expires_at));
  }
  return summary;
}

}  // namespace keyline::cli
