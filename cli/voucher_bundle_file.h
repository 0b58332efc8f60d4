// Voucher bundle files: `keylinectl voucher export` writes the keyline.v1.VoucherBundle the
// server returned, serialized as protobuf binary, and `voucher import` reads it back. The file
// is the unit that moves between two Keylines (DESIGN.md, "Ownership").
//
// DescribeVoucher reads a voucher for display (`voucher import --dry-run`) without trusting it:
// the signature is checked only against the signer certificate the voucher carries; whether that
// signer belongs to a trusted manufacturer is for the importing server to decide.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/output.h"
#include "keyline/v1/common.pb.h"

namespace keyline::cli {

inline constexpr size_t kMaxVoucherBundleBytes = 512 << 20;

[[nodiscard]] absl::Status WriteVoucherBundle(const std::string& path,
                                              const keyline::v1::VoucherBundle& bundle);

// InvalidArgument "<path>: ..." when the file is not a bundle or holds no voucher.
[[nodiscard]] absl::StatusOr<keyline::v1::VoucherBundle> ReadVoucherBundle(
    const std::string& path);

// The bytes a manufacturer signs: "keyline-voucher-v1" 0x00 || voucher.
std::string VoucherSignedMessage(std::string_view voucher);

struct VoucherSummary {
  std::string device_serial;
  std::string owner;
  std::string manufacturer;
  absl::Time issued_at;
  absl::Time expires_at;
  CertificateSummary signer;
  bool signature_valid = false;  // by the enclosed signer certificate's key
  std::string problem;           // empty, or why the voucher would be refused as it stands
};

// `now` decides "expired". Never fails: problems are reported in `problem`.
VoucherSummary DescribeVoucher(const keyline::v1::SignedVoucher& voucher, absl::Time now);

}  // namespace keyline::cli
