#include "hsm/ecdsa_signature.h"

#include "common/openssl_error.h"
#include "common/openssl_ptr.h"

namespace keyline::hsm {

absl::StatusOr<std::string> EcdsaRawSignatureToDer(std::string_view raw) {
  // 2 x 66 bytes is P-521; anything longer is no ECDSA signature we can meet.
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > 2 * 66) {
    return absl::InternalError("CKM_ECDSA signature: r || s of odd, zero or excessive length");
  }
  const int half = static_cast<int>(raw.size() / 2);
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BigNumPtr r(BN_bin2bn(bytes, half, nullptr));
  BigNumPtr s(BN_bin2bn(bytes + half, half, nullptr));
  EcdsaSigPtr signature(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || signature == nullptr ||
      ECDSA_SIG_set0(signature.get(), r.get(), s.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "CKM_ECDSA signature");
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  r.release();
  s.release();
  // One encoding pass into a buffer sized for the worst case (two INTEGERs of half + 1 content
  // bytes with their headers, inside a SEQUENCE with a long-form length), then trimmed.
  std::string der(2 * (static_cast<size_t>(half) + 4) + 4, '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  const int length = i2d_ECDSA_SIG(signature.get(), &out);
  if (length <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "encoding ECDSA-Sig-Value");
  }
  der.resize(static_cast<size_t>(length));
  return der;
}

}  // namespace keyline::hsm
