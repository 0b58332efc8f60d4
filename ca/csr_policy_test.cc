#include "ca/csr_policy.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ca/software_key.h"

namespace keyline::ca {
namespace {

std::string CsrFor(EVP_PKEY* key, const EVP_MD* digest = EVP_sha256()) {
  X509ReqPtr request(X509_REQ_new());
  X509_REQ_set_pubkey(request.get(), key);
  X509_REQ_sign(request.get(), key, digest);
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  std::string result(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return result;
}

std::string ToPem(const std::string& der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(der.size())));
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), request.get());
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

void ExpectRejected(const std::string& csr, const std::string& expected_text) {
  const auto result = ParseAndCheckCsr(csr);
  ASSERT_FALSE(result.ok()) << "accepted, expected: " << expected_text;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(result.status().message()).find(expected_text), std::string::npos)
      << result.status();
  EXPECT_EQ(std::string(result.status().message()).rfind("csr: ", 0), 0u) << result.status();
}

TEST(CsrPolicyTest, AcceptsEveryAllowedKeyType) {
  const std::pair<SoftwareKeyType, std::string> cases[] = {
      {SoftwareKeyType::kEcP256, "ec-p256"},
      {SoftwareKeyType::kEcP384, "ec-p384"},
      {SoftwareKeyType::kEd25519, "ed25519"},
      {SoftwareKeyType::kRsa2048, "rsa-2048"}};
  for (const auto& [type, name] : cases) {
    auto key = GenerateSoftwareKey(type);
    ASSERT_TRUE(key.ok());
    auto csr = CreateCsr(key->get(), "device");
    ASSERT_TRUE(csr.ok());
    auto accepted = ParseAndCheckCsr(*csr);
    ASSERT_TRUE(accepted.ok()) << name << ": " << accepted.status();
    EXPECT_EQ(accepted->key_type, name);
    EXPECT_EQ(EVP_PKEY_eq(accepted->public_key.key(), key->get()), 1) << name;
  }
}

TEST(CsrPolicyTest, AcceptsPem) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  const std::string pem = ToPem(CsrFor(key->get()));
  ASSERT_EQ(pem.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);
  EXPECT_TRUE(ParseAndCheckCsr(pem).ok());
}

TEST(CsrPolicyTest, RejectsEmpty) { ExpectRejected("", "empty"); }

TEST(CsrPolicyTest, RejectsOversized) {
  ExpectRejected(std::string(kMaxCsrBytes + 1, '\x30'), "larger than the limit of 65536");
}

TEST(CsrPolicyTest, RejectsMalformedDer) {
  ExpectRejected("\x30\x82\x01\x00garbage", "not a DER PKCS#10 certificate request");
}

TEST(CsrPolicyTest, RejectsMalformedPem) {
  ExpectRejected("-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n",
                 "not a PEM certificate request");
}

TEST(CsrPolicyTest, RejectsTrailingData) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  ExpectRejected(CsrFor(key->get()) + "x", "trailing data");
}

TEST(CsrPolicyTest, RejectsWrongSignature) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  std::string csr = CsrFor(key->get());
  // The signature BIT STRING ends the DER; change its last octet.
  csr.back() = static_cast<char>(csr.back() ^ 0x01);
  ExpectRejected(csr, "signature does not verify");
}

TEST(CsrPolicyTest, RejectsAPointOffTheCurve) {
  for (const SoftwareKeyType type : {SoftwareKeyType::kEcP256, SoftwareKeyType::kEcP384}) {
    auto key = GenerateSoftwareKey(type);
    ASSERT_TRUE(key.ok());
    unsigned char point[1 + 2 * 48];
    size_t length = 0;
    ASSERT_EQ(EVP_PKEY_get_octet_string_param(key->get(), OSSL_PKEY_PARAM_PUB_KEY, point,
                                              sizeof(point), &length),
              1);
    std::string csr = CsrFor(key->get());
    const size_t at = csr.find(std::string(reinterpret_cast<char*>(point), length));
    ASSERT_NE(at, std::string::npos);
    csr[at + length - 1] = static_cast<char>(csr[at + length - 1] ^ 0x01);  // y no longer fits x
    ExpectRejected(csr, "public key cannot be decoded");
  }
}

TEST(CsrPolicyTest, RejectsSignatureOfAnotherKey) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  auto other = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok() && other.ok());
  X509ReqPtr request(X509_REQ_new());
  X509_REQ_set_pubkey(request.get(), key->get());
  X509_REQ_sign(request.get(), other->get(), EVP_sha256());
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  std::string csr(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  ExpectRejected(csr, "signature does not verify");
}

TEST(CsrPolicyTest, RejectsRsa1024) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  ASSERT_TRUE(key);
  ExpectRejected(CsrFor(key.get()), "RSA key of 1024 bits, at least 2048 required");
}

TEST(CsrPolicyTest, RejectsUnsupportedCurves) {
  for (const char* curve : {"P-224", "P-521", "secp256k1"}) {
    EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
    ASSERT_TRUE(key) << curve;
    ExpectRejected(CsrFor(key.get()), "unsupported curve");
  }
}

TEST(CsrPolicyTest, RejectsUnsupportedKeyType) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  ASSERT_TRUE(key);
  ExpectRejected(CsrFor(key.get(), nullptr), "unsupported key type ED448");
}

TEST(CsrPolicyTest, RejectsSha1Signature) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  ExpectRejected(CsrFor(key->get(), EVP_sha1()), "SHA-256 or stronger required");
}

TEST(CsrPolicyTest, RejectsVersionOtherThanV1) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  X509ReqPtr request(X509_REQ_new());
  X509_REQ_set_version(request.get(), 2);
  X509_REQ_set_pubkey(request.get(), key->get());
  X509_REQ_sign(request.get(), key->get(), EVP_sha256());
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  std::string csr(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  ExpectRejected(csr, "version is not v1");
}

TEST(CsrPolicyTest, RejectsExplicitCurveParameters) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_TRUE(key);
  ASSERT_EQ(EVP_PKEY_set_utf8_string_param(key.get(), "encoding", "explicit"), 1);
  ExpectRejected(CsrFor(key.get()), "explicit parameters are not accepted");
}

TEST(CsrPolicyTest, RejectsRsaPssSignatures) {
  auto key = GenerateSoftwareKey(SoftwareKeyType::kRsa2048);
  ASSERT_TRUE(key.ok());
  X509ReqPtr request(X509_REQ_new());
  X509_REQ_set_pubkey(request.get(), key->get());
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  EVP_PKEY_CTX* key_context = nullptr;
  ASSERT_EQ(EVP_DigestSignInit(context.get(), &key_context, EVP_sha256(), nullptr, key->get()), 1);
  EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
  ASSERT_GT(X509_REQ_sign_ctx(request.get(), context.get()), 0);
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  std::string csr(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  ExpectRejected(csr, "signature algorithm");
}

// Our parser keeps the key as bits and verifies with the bytes it received; it must never accept
// a request that OpenSSL's own parser and verifier refuse. Every single-bit corruption of valid
// requests of each key type is tried.
TEST(CsrPolicyTest, NeverAcceptsWhatOpenSslRefuses) {
  for (SoftwareKeyType type :
       {SoftwareKeyType::kEcP256, SoftwareKeyType::kEd25519, SoftwareKeyType::kRsa2048}) {
    auto key = GenerateSoftwareKey(type);
    ASSERT_TRUE(key.ok());
    const std::string csr = *CreateCsr(key->get(), "device-0001");
    int accepted = 0;
    for (size_t position = 0; position < csr.size(); ++position) {
      for (int bit : {0, 7}) {
        std::string corrupted = csr;
        corrupted[position] = static_cast<char>(corrupted[position] ^ (1 << bit));
        if (!ParseAndCheckCsr(corrupted).ok()) continue;
        ++accepted;
        const auto* cursor = reinterpret_cast<const unsigned char*>(corrupted.data());
        X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(corrupted.size())));
        ASSERT_TRUE(request) << "position " << position;
        EvpPkeyPtr public_key(X509_REQ_get_pubkey(request.get()));
        EXPECT_EQ(X509_REQ_verify(request.get(), public_key.get()), 1) << "position " << position;
      }
    }
    // Only corruptions of ignored content (the subject's text) may still pass.
    EXPECT_LT(accepted, 40);
  }
}

TEST(CsrPolicyTest, NamesTheGivenField) {
  const auto result = ParseAndCheckCsr("", "requests[3].csr");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "requests[3].csr: empty");
}

}  // namespace
}  // namespace keyline::ca

namespace keyline::ca {
namespace {

TEST(CsrPolicyTest, PublicKeyInfoDerIsTheKeysSubjectPublicKeyInfo) {
  for (SoftwareKeyType type : {SoftwareKeyType::kEcP256, SoftwareKeyType::kEd25519,
                               SoftwareKeyType::kRsa2048}) {
    auto key = GenerateSoftwareKey(type);
    ASSERT_TRUE(key.ok());
    auto accepted = ParseAndCheckCsr(*CreateCsr(key->get(), "x"));
    ASSERT_TRUE(accepted.ok());
    EXPECT_EQ(*accepted->public_key.ToDer(), *PublicKeyToDer(key->get()));
  }
}

}  // namespace
}  // namespace keyline::ca
