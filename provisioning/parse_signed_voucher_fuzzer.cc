// libFuzzer target for ownership vouchers imported from another Keyline or a vendor:
// ParseSignedVoucher, then VerifyVoucher against the signer itself as the anchor (so inputs that
// carry a real certificate reach the signature check and the content parser).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/time/clock.h"
#include "provisioning/ownership_voucher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = keyline::provisioning::ParseSignedVoucher(input, "voucher");
  if (!parsed.ok()) return 0;
  if (!parsed->signer || parsed->voucher.empty() || parsed->signature.empty()) __builtin_trap();
  auto content = keyline::provisioning::VerifyVoucher(*parsed, parsed->signer.get(), absl::Now(),
                                                      "voucher");
  if (content.ok() && content->attestation_key_sha256.size() != 32) __builtin_trap();
  return 0;
}
