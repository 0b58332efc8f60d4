#include "ca/csr_builder.h"

#include <gtest/gtest.h>

#include "ca/csr_policy.h"
#include "ca/testing/software_signing_key.h"

namespace keyline::ca {
namespace {

TEST(CsrBuilderTest, RequestsSignedByAnExternalKeyPassThePolicy) {
  for (hsm::KeyAlgorithm algorithm : {hsm::KeyAlgorithm::kEcdsaP256, hsm::KeyAlgorithm::kEcdsaP384}) {
    auto key = testing::SoftwareSigningKey::Generate(algorithm);
    auto csr = CreateCsrWithKey(*key, "device-1");
    ASSERT_TRUE(csr.ok()) << csr.status();
    auto accepted = ParseAndCheckCsr(*csr);
    ASSERT_TRUE(accepted.ok()) << accepted.status();
    EXPECT_EQ(EVP_PKEY_eq(accepted->public_key.key(), key->public_key()), 1);
    // And OpenSSL's own parser agrees.
    const auto* cursor = reinterpret_cast<const unsigned char*>(csr->data());
    X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(csr->size())));
    ASSERT_TRUE(request);
    EXPECT_EQ(X509_REQ_verify(request.get(), key->public_key()), 1);
  }
}

}  // namespace
}  // namespace keyline::ca
