#include "ocsp/response_builder.h"

#include <openssl/ocsp.h>

#include <gtest/gtest.h>

#include "common/openssl_ptr.h"
#include "ocsp/ocsp_request.h"
#include "ocsp/testing/request_builder.h"
#include "ocsp/testing/response_inspector.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

using testing::TestLeaf;
using testing::TestPki;
using testing::VerifyAndFind;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

class ResponseBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(hsm::KeyAlgorithm::kEcdsaP256); }

  void Make(hsm::KeyAlgorithm algorithm) {
    auto pki = TestPki::Create(algorithm);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    for (const char* name : {"sensor-1", "sensor-2"}) {
      auto leaf = pki_->IssueLeaf(name);
      ASSERT_TRUE(leaf.ok()) << leaf.status();
      leaves_.push_back(*std::move(leaf));
    }
  }

  // The CertID DER OpenSSL makes for the leaf, as a request would carry it.
  std::string CertIdOf(const TestLeaf& leaf, const EVP_MD* md = EVP_sha1()) {
    auto request = testing::MakeOcspRequest({leaf.certificate.get()}, pki_->ca(), md);
    EXPECT_TRUE(request.ok());
    auto parsed = ParseOcspRequest(*request);
    EXPECT_TRUE(parsed.ok());
    return parsed->cert_ids[0].der;
  }

  std::unique_ptr<TestPki> pki_;
  std::vector<TestLeaf> leaves_;
};

TEST_F(ResponseBuilderTest, GoodResponseVerifiesWithOpenSsl) {
  const std::string id = CertIdOf(leaves_[0]);
  const SingleResponseData single{id, CertificateStatus{CertificateStatus::Kind::kGood, {}, {}},
                                  kNow - absl::Minutes(1), kNow + absl::Minutes(59)};
  auto der = SignOcspResponse(*pki_->issuer(), {&single, 1}, kNow, std::nullopt);
  ASSERT_TRUE(der.ok()) << der.status();
  auto found = VerifyAndFind(*der, *pki_, leaves_[0].certificate.get());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(found->this_update, kNow - absl::Minutes(1));
  EXPECT_EQ(found->next_update, kNow + absl::Minutes(59));
  EXPECT_EQ(found->produced_at, kNow);
  EXPECT_EQ(found->signature_nid, NID_ecdsa_with_SHA256);
  EXPECT_EQ(found->single_count, 1);
  // The signer certificate travels in `certs`, responderID is byKey.
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(found->basic.get());
  ASSERT_EQ(sk_X509_num(certs), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 0), pki_->signer()), 0);
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(found->basic.get(), &key_id, &name), 1);
  ASSERT_NE(key_id, nullptr);
  EXPECT_EQ(name, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(key_id)),
                        static_cast<size_t>(ASN1_STRING_length(key_id))),
            pki_->issuer()->responder_key_hash());
  // Another certificate of the same CA is not in this response.
  EXPECT_FALSE(VerifyAndFind(*der, *pki_, leaves_[1].certificate.get()).ok());
  // DER: OpenSSL encodes what it parsed to the same bytes.
  const auto* cursor = reinterpret_cast<const unsigned char*>(der->data());
  OcspResponsePtr parsed(d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(der->size())));
  unsigned char* reencoded = nullptr;
  const int length = i2d_OCSP_RESPONSE(parsed.get(), &reencoded);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(reencoded), static_cast<size_t>(length)), *der);
  OPENSSL_free(reencoded);
}

TEST_F(ResponseBuilderTest, RevokedWithAndWithoutReasonAndUnknown) {
  const std::string first = CertIdOf(leaves_[0], EVP_sha256());
  const std::string second = CertIdOf(leaves_[1]);
  const absl::Time revoked_at = kNow - absl::Hours(3);
  const SingleResponseData singles[] = {
      {first, CertificateStatus{CertificateStatus::Kind::kRevoked, revoked_at, 1}, kNow,
       kNow + absl::Hours(1)},
      {second, CertificateStatus{CertificateStatus::Kind::kRevoked, revoked_at, std::nullopt},
       kNow, kNow + absl::Hours(1)},
  };
  auto der = SignOcspResponse(*pki_->issuer(), singles, kNow, std::nullopt);
  ASSERT_TRUE(der.ok()) << der.status();
  auto found = VerifyAndFind(*der, *pki_, leaves_[0].certificate.get(), EVP_sha256());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->single_count, 2);
  EXPECT_EQ(found->status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(found->reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
  EXPECT_EQ(found->revoked_at, revoked_at);
  auto without_reason = VerifyAndFind(*der, *pki_, leaves_[1].certificate.get());
  ASSERT_TRUE(without_reason.ok()) << without_reason.status();
  EXPECT_EQ(without_reason->status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(without_reason->reason, OCSP_REVOKED_STATUS_NOSTATUS);

  const SingleResponseData unknown{first, CertificateStatus{}, kNow, kNow + absl::Minutes(5)};
  auto unknown_der = SignOcspResponse(*pki_->issuer(), {&unknown, 1}, kNow, std::nullopt);
  ASSERT_TRUE(unknown_der.ok());
  auto unknown_found = VerifyAndFind(*unknown_der, *pki_, leaves_[0].certificate.get(),
                                     EVP_sha256());
  ASSERT_TRUE(unknown_found.ok()) << unknown_found.status();
  EXPECT_EQ(unknown_found->status, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(ResponseBuilderTest, NonceIsEchoedAsOpenSslExpects) {
  const std::string nonce(32, '\x42');
  auto request_der = testing::MakeOcspRequest({leaves_[0].certificate.get()}, pki_->ca(),
                                              EVP_sha1(), nonce);
  ASSERT_TRUE(request_der.ok());
  auto request = ParseOcspRequest(*request_der);
  ASSERT_TRUE(request.ok());
  const SingleResponseData single{request->cert_ids[0].der, CertificateStatus{
                                      CertificateStatus::Kind::kGood, {}, {}},
                                  kNow, kNow + absl::Hours(1)};
  auto der = SignOcspResponse(*pki_->issuer(), {&single, 1}, kNow, *request->nonce);
  ASSERT_TRUE(der.ok()) << der.status();
  auto found = VerifyAndFind(*der, *pki_, leaves_[0].certificate.get());
  ASSERT_TRUE(found.ok()) << found.status();
  const auto* cursor = reinterpret_cast<const unsigned char*>(request_der->data());
  OcspRequestPtr openssl_request(
      d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(request_der->size())));
  EXPECT_EQ(OCSP_check_nonce(openssl_request.get(), found->basic.get()), 1);

  // A response to another nonce does not pass.
  auto other = SignOcspResponse(*pki_->issuer(), {&single, 1}, kNow, std::string(32, '\x43'));
  ASSERT_TRUE(other.ok());
  auto other_found = VerifyAndFind(*other, *pki_, leaves_[0].certificate.get());
  ASSERT_TRUE(other_found.ok());
  EXPECT_EQ(OCSP_check_nonce(openssl_request.get(), other_found->basic.get()), 0);
  // Without a nonce, OpenSSL reports "nonce in request only".
  auto none = SignOcspResponse(*pki_->issuer(), {&single, 1}, kNow, std::nullopt);
  ASSERT_TRUE(none.ok());
  auto none_found = VerifyAndFind(*none, *pki_, leaves_[0].certificate.get());
  ASSERT_TRUE(none_found.ok());
  EXPECT_EQ(OCSP_check_nonce(openssl_request.get(), none_found->basic.get()), -1);
}

TEST_F(ResponseBuilderTest, P384SignerSignsWithSha384) {
  leaves_.clear();
  Make(hsm::KeyAlgorithm::kEcdsaP384);
  const std::string id = CertIdOf(leaves_[0]);
  const SingleResponseData single{id, CertificateStatus{CertificateStatus::Kind::kGood, {}, {}},
                                  kNow, kNow + absl::Hours(1)};
  auto der = SignOcspResponse(*pki_->issuer(), {&single, 1}, kNow, std::nullopt);
  ASSERT_TRUE(der.ok()) << der.status();
  auto found = VerifyAndFind(*der, *pki_, leaves_[0].certificate.get());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->signature_nid, NID_ecdsa_with_SHA384);
}

TEST_F(ResponseBuilderTest, LongCertIdUsesLongFormLengths) {
  // Many SingleResponses push every enclosing length past 255 octets (two-octet lengths).
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(CertIdOf(leaves_[i % 2]));
  std::vector<SingleResponseData> singles;
  for (const auto& id : ids) {
    singles.push_back({id, CertificateStatus{CertificateStatus::Kind::kGood, {}, {}}, kNow,
                       kNow + absl::Hours(1)});
  }
  auto der = SignOcspResponse(*pki_->issuer(), singles, kNow, std::nullopt);
  ASSERT_TRUE(der.ok());
  auto found = VerifyAndFind(*der, *pki_, leaves_[1].certificate.get());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->single_count, 40);
}

TEST_F(ResponseBuilderTest, RefusesBadInput) {
  const std::string id = CertIdOf(leaves_[0]);
  const CertificateStatus good{CertificateStatus::Kind::kGood, {}, {}};
  const auto code = [&](const SingleResponseData& single, std::optional<std::string_view> nonce) {
    return SignOcspResponse(*pki_->issuer(), {&single, 1}, kNow, nonce).status().code();
  };
  EXPECT_EQ(SignOcspResponse(*pki_->issuer(), {}, kNow, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, good, kNow, kNow}, std::nullopt), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({"", good, kNow, kNow + absl::Hours(1)}, std::nullopt),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, CertificateStatus{CertificateStatus::Kind::kRevoked, kNow, 7}, kNow,
                  kNow + absl::Hours(1)},
                 std::nullopt),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, CertificateStatus{CertificateStatus::Kind::kRevoked, kNow, 11}, kNow,
                  kNow + absl::Hours(1)},
                 std::nullopt),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, CertificateStatus{CertificateStatus::Kind::kRevoked, {}, {}}, kNow,
                  kNow + absl::Hours(1)},
                 std::nullopt),
            absl::StatusCode::kOk);  // revoked at the epoch is a time like any other
  EXPECT_EQ(code({id, CertificateStatus{CertificateStatus::Kind::kRevoked, absl::InfinitePast(),
                                        std::nullopt},
                  kNow, kNow + absl::Hours(1)},
                 std::nullopt),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, good, kNow, absl::InfiniteFuture()}, std::nullopt),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, good, absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0),
                                            absl::UTCTimeZone()),
                  absl::FromCivil(absl::CivilSecond(10001, 1, 1, 0, 0, 0), absl::UTCTimeZone())},
                 std::nullopt),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignOcspResponse(*pki_->issuer(), {}, absl::InfiniteFuture(), std::nullopt)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, good, kNow, kNow + absl::Hours(1)}, ""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({id, good, kNow, kNow + absl::Hours(1)}, std::string(129, 'n')),
            absl::StatusCode::kInvalidArgument);
}

TEST(UnsignedOcspResponseTest, ErrorStatusesParseWithOpenSsl) {
  for (const auto& [status, expected] :
       {std::pair{OcspResponseStatus::kMalformedRequest, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST},
        std::pair{OcspResponseStatus::kInternalError, OCSP_RESPONSE_STATUS_INTERNALERROR},
        std::pair{OcspResponseStatus::kTryLater, OCSP_RESPONSE_STATUS_TRYLATER},
        std::pair{OcspResponseStatus::kSigRequired, OCSP_RESPONSE_STATUS_SIGREQUIRED},
        std::pair{OcspResponseStatus::kUnauthorized, OCSP_RESPONSE_STATUS_UNAUTHORIZED}}) {
    const std::string_view der = UnsignedOcspResponse(status);
    EXPECT_EQ(der.size(), 5u);
    EXPECT_EQ(testing::ResponseStatusOf(der), expected) << OcspResponseStatusName(status);
  }
  EXPECT_EQ(testing::ResponseStatusOf(UnsignedOcspResponse(OcspResponseStatus::kSuccessful)),
            OCSP_RESPONSE_STATUS_INTERNALERROR);
}

}  // namespace
}  // namespace keyline::ocsp
