#include "provisioning/enrollment_proof.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"
#include "common/digests.h"
#include "common/openssl_ptr.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kEnrollLabel = "keyline-enrollment-proof-v1";
constexpr std::string_view kRenewLabel = "keyline-renewal-proof-v1";

}  // namespace

absl::StatusOr<std::string> ProofMessage(ProofPurpose purpose, std::string_view nonce,
                                         std::string_view device_serial,
                                         std::string_view new_key_sha256) {
  if (nonce.size() != 32) return absl::InvalidArgumentError("nonce: must be 32 octets");
  if (device_serial.size() > 0xffff) return absl::InvalidArgumentError("device_serial: too long");
  if (new_key_sha256.size() != 32) return absl::InvalidArgumentError("key hash: must be 32 octets");
  std::string message(purpose == ProofPurpose::kEnroll ? kEnrollLabel : kRenewLabel);
  message.push_back('\0');
  message.append(nonce);
  message.push_back(static_cast<char>((device_serial.size() >> 8) & 0xff));
  message.push_back(static_cast<char>(device_serial.size() & 0xff));
  message.append(device_serial);
  message.append(new_key_sha256);
  return message;
}

absl::Status VerifyProof(EVP_PKEY* attestation_key, std::string_view message,
                         std::string_view proof) {
  if (proof.empty()) return absl::InvalidArgumentError("proof: empty");
  if (proof.size() > kMaxProofBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("proof: ", proof.size(), " bytes, larger than the limit of ", kMaxProofBytes));
  }
  const EVP_MD* digest =
      EVP_PKEY_get_base_id(attestation_key) == EVP_PKEY_EC ? Sha256Digest() : nullptr;
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  const bool verified =
      context &&
      EVP_DigestVerifyInit(context.get(), nullptr, digest, nullptr, attestation_key) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(proof.data()),
                       proof.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  if (!verified) return absl::UnauthenticatedError("proof: does not verify");
  return absl::OkStatus();
}

}  // namespace keyline::provisioning
