#include "hsm/ecdsa_signature.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "common/openssl_ptr.h"

namespace keyline::hsm {
namespace {

// r || s of a DER signature, each padded to `half` bytes: the form PKCS#11 returns.
std::string RawFromDer(const std::string& der, int half) {
  const auto* in = reinterpret_cast<const unsigned char*>(der.data());
  const EcdsaSigPtr signature(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  EXPECT_NE(signature, nullptr);
  if (signature == nullptr) return "";
  std::string raw(2 * static_cast<size_t>(half), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), out, half), half);
  EXPECT_EQ(BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), out + half, half), half);
  return raw;
}

TEST(EcdsaSignatureTest, RoundTripsSoftwareSignatures) {
  for (const auto& [curve, half] : {std::pair{"P-256", 32}, std::pair{"P-384", 48}}) {
    const EvpPkeyPtr key(EVP_EC_gen(curve));
    ASSERT_NE(key, nullptr);
    for (int i = 0; i < 50; ++i) {
      const std::string digest(static_cast<size_t>(half), static_cast<char>(i));
      const EvpPkeyCtxPtr context(EVP_PKEY_CTX_new(key.get(), nullptr));
      ASSERT_EQ(EVP_PKEY_sign_init(context.get()), 1);
      size_t length = 0;
      const auto* digest_bytes = reinterpret_cast<const unsigned char*>(digest.data());
      ASSERT_EQ(EVP_PKEY_sign(context.get(), nullptr, &length, digest_bytes, digest.size()), 1);
      std::string der(length, '\0');
      ASSERT_EQ(EVP_PKEY_sign(context.get(), reinterpret_cast<unsigned char*>(der.data()), &length,
                              digest_bytes, digest.size()),
                1);
      der.resize(length);
      const absl::StatusOr<std::string> converted = EcdsaRawSignatureToDer(RawFromDer(der, half));
      ASSERT_TRUE(converted.ok()) << converted.status();
      EXPECT_EQ(*converted, der) << curve << " #" << i;
    }
  }
}

TEST(EcdsaSignatureTest, EncodesMinimalIntegers) {
  // r = 0x80 00.. needs a leading zero byte; s = 00 00 .. 01 loses its padding.
  std::string raw(64, '\0');
  raw[0] = static_cast<char>(0x80);
  raw[63] = 1;
  const absl::StatusOr<std::string> der = EcdsaRawSignatureToDer(raw);
  ASSERT_TRUE(der.ok()) << der.status();
  std::string expected = "\x30\x26\x02\x21";
  expected += std::string("\x00\x80", 2) + std::string(31, '\0');
  expected += std::string("\x02\x01\x01", 3);
  EXPECT_EQ(*der, expected);
}

TEST(EcdsaSignatureTest, RefusesMalformedRawSignatures) {
  EXPECT_EQ(EcdsaRawSignatureToDer("").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(EcdsaRawSignatureToDer(std::string(63, 'x')).status().code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(EcdsaRawSignatureToDer(std::string(200, 'x')).status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace keyline::hsm
