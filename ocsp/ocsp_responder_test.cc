#include "ocsp/ocsp_responder.h"

#include <openssl/ocsp.h>

#include <gtest/gtest.h>

#include "ocsp/testing/in_memory_status_source.h"
#include "ocsp/testing/request_builder.h"
#include "ocsp/testing/response_inspector.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

using testing::InMemoryStatusSource;
using testing::MakeOcspRequest;
using testing::TestLeaf;
using testing::TestPki;
using testing::VerifyAndFind;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

class OcspResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    for (int i = 0; i < 3; ++i) {
      auto leaf = pki_->IssueLeaf("sensor-" + std::to_string(i));
      ASSERT_TRUE(leaf.ok()) << leaf.status();
      source_->SetGood(leaf->serial);
      leaves_.push_back(*std::move(leaf));
    }
    MakeResponder(OcspResponderOptions());
  }

  void MakeResponder(OcspResponderOptions options) {
    auto responder = OcspResponder::New(options, source_);
    ASSERT_TRUE(responder.ok()) << responder.status();
    responder_ = *std::move(responder);
    responder_->AddIssuer(pki_->issuer());
  }

  std::string Request(int leaf, const EVP_MD* md = EVP_sha1(),
                      std::optional<std::string> nonce = std::nullopt) {
    auto der = MakeOcspRequest({leaves_[leaf].certificate.get()}, pki_->ca(), md, nonce);
    EXPECT_TRUE(der.ok());
    return *der;
  }

  testing::FoundStatus Verify(const OcspAnswer& answer, int leaf, const EVP_MD* md = EVP_sha1()) {
    EXPECT_EQ(answer.status, OcspResponseStatus::kSuccessful) << answer.detail;
    auto found = VerifyAndFind(*answer.body, *pki_, leaves_[leaf].certificate.get(), md);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *std::move(found) : testing::FoundStatus{};
  }

  std::unique_ptr<TestPki> pki_;
  std::vector<TestLeaf> leaves_;
  std::shared_ptr<InMemoryStatusSource> source_ = std::make_shared<InMemoryStatusSource>();
  std::unique_ptr<OcspResponder> responder_;
};

TEST_F(OcspResponderTest, RepeatedRequestIsServedFromTheCacheWithTheSameBytes) {
  const std::string request = Request(0);
  const OcspAnswer first = responder_->Answer(request, kNow);
  const auto found = Verify(first, 0);
  EXPECT_EQ(found.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_TRUE(first.cacheable);
  EXPECT_EQ(first.this_update, kNow - absl::Minutes(1));
  EXPECT_EQ(first.next_update, kNow + absl::Minutes(59));
  EXPECT_EQ(first.produced_at, kNow);
  EXPECT_EQ(found.this_update, first.this_update);
  EXPECT_EQ(found.next_update, first.next_update);
  EXPECT_EQ(first.etag.size(), 14u);
  EXPECT_EQ(first.etag.front(), '"');

  const OcspAnswer second = responder_->Answer(request, kNow + absl::Seconds(30));
  EXPECT_EQ(second.body.get(), first.body.get());  // the very same cached object
  EXPECT_EQ(second.etag, first.etag);
  EXPECT_EQ(source_->lookups(), 1u);
  const auto stats = responder_->stats();
  EXPECT_EQ(stats.signatures, 1u);
  EXPECT_EQ(stats.hot_hits, 1u);
  EXPECT_EQ(stats.cached_responses, 1u);
  EXPECT_EQ(stats.hot_requests, 1u);
}

TEST_F(OcspResponderTest, Sha1AndSha256CertIdsGetTheirOwnEchoedResponses) {
  const OcspAnswer sha1 = responder_->Answer(Request(0), kNow);
  const OcspAnswer sha256 = responder_->Answer(Request(0, EVP_sha256()), kNow);
  EXPECT_EQ(Verify(sha1, 0).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(Verify(sha256, 0, EVP_sha256()).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_NE(*sha1.body, *sha256.body);
  EXPECT_EQ(responder_->stats().cached_responses, 2u);
}

TEST_F(OcspResponderTest, UnknownSerialIsUnknownWithShortValidity) {
  source_->Forget(leaves_[1].serial);
  const OcspAnswer answer = responder_->Answer(Request(1), kNow);
  const auto found = Verify(answer, 1);
  EXPECT_EQ(found.status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(answer.next_update - answer.this_update, absl::Minutes(5));
}

TEST_F(OcspResponderTest, RevokedCarriesTimeAndReason) {
  const absl::Time revoked_at = kNow - absl::Hours(2);
  source_->SetRevoked(leaves_[2].serial, revoked_at, 4);  // superseded
  const auto found = Verify(responder_->Answer(Request(2), kNow), 2);
  EXPECT_EQ(found.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(found.reason, OCSP_REVOKED_STATUS_SUPERSEDED);
  EXPECT_EQ(found.revoked_at, revoked_at);
}

TEST_F(OcspResponderTest, InvalidateFlipsGoodToRevokedAtOnce) {
  const std::string request = Request(0);
  const std::string sha256_request = Request(0, EVP_sha256());
  EXPECT_EQ(Verify(responder_->Answer(request, kNow), 0).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(Verify(responder_->Answer(sha256_request, kNow), 0, EVP_sha256()).status,
            V_OCSP_CERTSTATUS_GOOD);
  source_->SetRevoked(leaves_[0].serial, kNow, 1);
  // Until told, the cache answers from what it signed.
  EXPECT_EQ(Verify(responder_->Answer(request, kNow), 0).status, V_OCSP_CERTSTATUS_GOOD);

  ASSERT_TRUE(responder_->Invalidate(*pki_->issuer(), leaves_[0].serial, kNow).ok());
  const auto found = Verify(responder_->Answer(request, kNow + absl::Seconds(1)), 0);
  EXPECT_EQ(found.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(found.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
  EXPECT_EQ(Verify(responder_->Answer(sha256_request, kNow), 0, EVP_sha256()).status,
            V_OCSP_CERTSTATUS_REVOKED);
  // Other certificates keep their cached answers; Invalidate of an uncached serial is a no-op.
  const auto signatures = responder_->stats().signatures;
  EXPECT_TRUE(responder_->Invalidate(*pki_->issuer(), leaves_[1].serial, kNow).ok());
  EXPECT_EQ(responder_->stats().signatures, signatures);
}

TEST_F(OcspResponderTest, InvalidateThatCannotSignDropsTheEntry) {
  const std::string request = Request(0);
  EXPECT_EQ(Verify(responder_->Answer(request, kNow), 0).status, V_OCSP_CERTSTATUS_GOOD);
  source_->SetRevoked(leaves_[0].serial, kNow, std::nullopt);
  source_->FailWith(absl::UnavailableError("database down"));
  EXPECT_EQ(responder_->Invalidate(*pki_->issuer(), leaves_[0].serial, kNow).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(responder_->stats().cached_responses, 0u);
  // Never the stale `good`: tryLater until the source answers again.
  const OcspAnswer during = responder_->Answer(request, kNow);
  EXPECT_EQ(during.status, OcspResponseStatus::kTryLater);
  EXPECT_EQ(testing::ResponseStatusOf(*during.body), OCSP_RESPONSE_STATUS_TRYLATER);
  source_->FailWith(absl::OkStatus());
  EXPECT_EQ(Verify(responder_->Answer(request, kNow), 0).status, V_OCSP_CERTSTATUS_REVOKED);
}

TEST_F(OcspResponderTest, SourceErrorsBecomeTryLaterOrInternalError) {
  source_->FailWith(absl::UnavailableError("database down"));
  EXPECT_EQ(responder_->Answer(Request(0), kNow).status, OcspResponseStatus::kTryLater);
  EXPECT_EQ(responder_->Answer(Request(0, EVP_sha1(), "nonce"), kNow).status,
            OcspResponseStatus::kTryLater);
  source_->FailWith(absl::InternalError("bug"));
  const OcspAnswer answer = responder_->Answer(Request(1), kNow);
  EXPECT_EQ(answer.status, OcspResponseStatus::kInternalError);
  EXPECT_EQ(testing::ResponseStatusOf(*answer.body), OCSP_RESPONSE_STATUS_INTERNALERROR);
  EXPECT_EQ(answer.detail.code(), absl::StatusCode::kInternal);
  EXPECT_FALSE(answer.cacheable);
}

TEST_F(OcspResponderTest, RefreshDueResignsEntriesPastHalfTheirValidity) {
  const std::string request = Request(0);
  const OcspAnswer first = responder_->Answer(request, kNow);
  const auto early = responder_->RefreshDue(kNow + absl::Minutes(20));
  EXPECT_EQ(early.resigned, 0u);
  EXPECT_EQ(responder_->Answer(request, kNow + absl::Minutes(20)).body.get(), first.body.get());

  // nextUpdate is kNow + 59 min: below 30 minutes left from kNow + 29 min on.
  const absl::Time later = kNow + absl::Minutes(30);
  const auto due = responder_->RefreshDue(later);
  EXPECT_EQ(due.resigned, 1u);
  EXPECT_EQ(due.failed, 0u);
  const OcspAnswer refreshed = responder_->Answer(request, later);
  EXPECT_NE(refreshed.body.get(), first.body.get());
  EXPECT_EQ(refreshed.this_update, later - absl::Minutes(1));
  EXPECT_EQ(Verify(refreshed, 0).this_update, later - absl::Minutes(1));
  EXPECT_NE(refreshed.etag, first.etag);
  EXPECT_EQ(responder_->RefreshDue(later).resigned, 0u);  // nothing due any more
}

TEST_F(OcspResponderTest, RefreshDueDropsUnknownEntriesAndKeepsFailedOnes) {
  source_->Forget(leaves_[1].serial);
  responder_->Answer(Request(0), kNow);
  responder_->Answer(Request(1), kNow);  // unknown: valid 5 minutes
  const auto result = responder_->RefreshDue(kNow + absl::Minutes(3));
  EXPECT_EQ(result.dropped, 1u);
  EXPECT_EQ(result.resigned, 0u);
  EXPECT_EQ(responder_->stats().cached_responses, 1u);

  source_->FailWith(absl::UnavailableError("database down"));
  const auto failed = responder_->RefreshDue(kNow + absl::Minutes(31));
  EXPECT_EQ(failed.failed, 1u);
  EXPECT_EQ(failed.first_error.code(), absl::StatusCode::kUnavailable);
  // The old response is still valid for a while and keeps being served.
  EXPECT_EQ(responder_->Answer(Request(0), kNow + absl::Minutes(31)).status,
            OcspResponseStatus::kSuccessful);
}

TEST_F(OcspResponderTest, StaleEntryIsResignedBeforeServingWhenRefreshDidNotRun) {
  const std::string request = Request(0);
  const OcspAnswer first = responder_->Answer(request, kNow);
  // Past nextUpdate - 15 min (half the refresh window) the cached answer is not served as is.
  const absl::Time late = kNow + absl::Minutes(45);
  const OcspAnswer answer = responder_->Answer(request, late);
  EXPECT_NE(answer.body.get(), first.body.get());
  EXPECT_EQ(answer.this_update, late - absl::Minutes(1));
}

TEST_F(OcspResponderTest, StaleEntryIsServedUntilNextUpdateWhileTheSourceIsDown) {
  const std::string request = Request(0);
  const OcspAnswer first = responder_->Answer(request, kNow);
  source_->FailWith(absl::UnavailableError("database down"));
  // Due for re-signing (past nextUpdate - 15 min) but still valid: the old answer.
  EXPECT_EQ(responder_->Answer(request, kNow + absl::Minutes(50)).body.get(), first.body.get());
  // At nextUpdate it is no longer true: tryLater.
  EXPECT_EQ(responder_->Answer(request, first.next_update).status, OcspResponseStatus::kTryLater);
  source_->FailWith(absl::OkStatus());
  const OcspAnswer recovered = responder_->Answer(request, first.next_update);
  EXPECT_EQ(Verify(recovered, 0).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(recovered.this_update, first.next_update - absl::Minutes(1));
}

TEST_F(OcspResponderTest, FailedFirstSigningLeavesNoEntryBehind) {
  source_->FailWith(absl::UnavailableError("database down"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(responder_->Answer(Request(i), kNow).status, OcspResponseStatus::kTryLater);
  }
  EXPECT_EQ(responder_->stats().cached_responses, 0u);
  EXPECT_EQ(responder_->stats().hot_requests, 0u);
}

TEST_F(OcspResponderTest, NonceRequestsAreAlwaysSignedFresh) {
  const std::string request = Request(0, EVP_sha1(), std::string(32, 'a'));
  const OcspAnswer first = responder_->Answer(request, kNow);
  const OcspAnswer second = responder_->Answer(request, kNow);
  EXPECT_EQ(Verify(first, 0).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_FALSE(first.cacheable);
  EXPECT_TRUE(first.etag.empty());
  EXPECT_NE(first.body.get(), second.body.get());
  EXPECT_EQ(responder_->stats().signatures, 2u);
  EXPECT_EQ(responder_->stats().cached_responses, 0u);
  EXPECT_EQ(responder_->stats().hot_requests, 0u);
  // Each echoes its own nonce.
  const auto* cursor = reinterpret_cast<const unsigned char*>(request.data());
  OcspRequestPtr parsed(d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(request.size())));
  EXPECT_EQ(OCSP_check_nonce(parsed.get(), Verify(second, 0).basic.get()), 1);
  // A cached answer for the same certificate does not leak into nonce requests.
  responder_->Answer(Request(0), kNow);
  source_->SetRevoked(leaves_[0].serial, kNow, std::nullopt);
  EXPECT_EQ(Verify(responder_->Answer(request, kNow), 0).status, V_OCSP_CERTSTATUS_REVOKED);
}

TEST_F(OcspResponderTest, ANonceOverTheFreshSignatureBudgetIsIgnoredForThePresignedAnswer) {
  OcspResponderOptions options;
  options.fresh_signatures_per_second = 2;
  MakeResponder(options);
  const auto nonce_status = [](const std::string& request, const testing::FoundStatus& found) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(request.data());
    OcspRequestPtr parsed(d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(request.size())));
    return OCSP_check_nonce(parsed.get(), found.basic.get());
  };
  std::vector<std::string> requests;
  for (char fill : {'a', 'b', 'c', 'd'}) {
    requests.push_back(Request(0, EVP_sha1(), std::string(32, fill)));
  }
  for (int i = 0; i < 2; ++i) {
    const OcspAnswer answer = responder_->Answer(requests[i], kNow);
    EXPECT_FALSE(answer.nonce_ignored);
    EXPECT_FALSE(answer.cacheable);
    EXPECT_EQ(nonce_status(requests[i], Verify(answer, 0)), 1) << "echoes its nonce";
  }

  // The budget is spent for this second: the pre-signed answer, without the nonce.
  const OcspAnswer ignored = responder_->Answer(requests[2], kNow);
  EXPECT_TRUE(ignored.nonce_ignored);
  EXPECT_TRUE(ignored.cacheable);
  EXPECT_EQ(nonce_status(requests[2], Verify(ignored, 0)), -1) << "nonce in the request only";
  EXPECT_EQ(responder_->Answer(Request(0), kNow).body.get(), ignored.body.get());
  auto stats = responder_->stats();
  EXPECT_EQ(stats.signatures, 3u);  // two fresh, one pre-signed
  EXPECT_EQ(stats.nonces_ignored, 1u);
  EXPECT_EQ(stats.hot_requests, 1u) << "only the request without a nonce is remembered";

  // Revocation still reaches a nonce request answered from the cache.
  source_->SetRevoked(leaves_[0].serial, kNow, std::nullopt);
  ASSERT_TRUE(responder_->Invalidate(*pki_->issuer(), leaves_[0].serial, kNow).ok());
  EXPECT_EQ(Verify(responder_->Answer(requests[2], kNow), 0).status, V_OCSP_CERTSTATUS_REVOKED);

  // A second later the budget has refilled.
  const OcspAnswer fresh = responder_->Answer(requests[3], kNow + absl::Seconds(1));
  EXPECT_FALSE(fresh.nonce_ignored);
  EXPECT_EQ(nonce_status(requests[3], Verify(fresh, 0)), 1);
}

TEST_F(OcspResponderTest, SeveralCertIdsOverTheFreshSignatureBudgetGetTryLater) {
  OcspResponderOptions options;
  options.fresh_signatures_per_second = 1;
  MakeResponder(options);
  auto der =
      MakeOcspRequest({leaves_[0].certificate.get(), leaves_[1].certificate.get()}, pki_->ca());
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(Verify(responder_->Answer(*der, kNow), 1).single_count, 2);
  const OcspAnswer refused = responder_->Answer(*der, kNow);
  EXPECT_EQ(refused.status, OcspResponseStatus::kTryLater);
  EXPECT_EQ(testing::ResponseStatusOf(*refused.body), OCSP_RESPONSE_STATUS_TRYLATER);
  EXPECT_EQ(refused.detail.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.detail.message().find("requestList"), std::string::npos);
  EXPECT_TRUE(refused.refused_over_budget);
  EXPECT_EQ(responder_->stats().fresh_refused, 1u);
  EXPECT_EQ(responder_->stats().signatures, 1u);
  // Requests for one CertID without a nonce are not held to the budget.
  EXPECT_EQ(Verify(responder_->Answer(Request(2), kNow), 2).status, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspResponderTest, NewUnknownSerialsComeOutOfTheFreshSignatureBudget) {
  OcspResponderOptions options;
  options.fresh_signatures_per_second = 1;
  MakeResponder(options);
  source_->Forget(leaves_[1].serial);
  source_->Forget(leaves_[2].serial);
  EXPECT_EQ(Verify(responder_->Answer(Request(1), kNow), 1).status, V_OCSP_CERTSTATUS_UNKNOWN);
  // Another serial nobody issued, in the same second: not signed.
  const OcspAnswer refused = responder_->Answer(Request(2), kNow);
  EXPECT_EQ(refused.status, OcspResponseStatus::kTryLater);
  EXPECT_EQ(refused.detail.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(refused.refused_over_budget);
  EXPECT_EQ(responder_->stats().cached_responses, 1u) << "nothing evicted, nothing added";
  EXPECT_EQ(responder_->stats().fresh_refused, 1u);
  // What is cached is served (other request bytes: the SHA-256 CertID is a slot of its own, but
  // the serial is cached), and known serials are not held to the budget.
  EXPECT_EQ(Verify(responder_->Answer(Request(1, EVP_sha256()), kNow), 1, EVP_sha256()).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(Verify(responder_->Answer(Request(0), kNow), 0).status, V_OCSP_CERTSTATUS_GOOD);
  // A second later the budget has refilled.
  EXPECT_EQ(Verify(responder_->Answer(Request(2), kNow + absl::Seconds(1)), 2).status,
            V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(OcspResponderTest, SeveralCertIdsAreAnsweredTogether) {
  source_->SetRevoked(leaves_[1].serial, kNow - absl::Hours(1), std::nullopt);
  auto der = MakeOcspRequest({leaves_[0].certificate.get(), leaves_[1].certificate.get()},
                             pki_->ca());
  ASSERT_TRUE(der.ok());
  const OcspAnswer answer = responder_->Answer(*der, kNow);
  EXPECT_EQ(Verify(answer, 0).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(Verify(answer, 1).status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(Verify(answer, 1).single_count, 2);
  EXPECT_TRUE(answer.cacheable);
}

TEST_F(OcspResponderTest, TooManyCertIdsIsMalformed) {
  OcspResponderOptions options;
  options.max_cert_ids_per_request = 2;
  MakeResponder(options);
  auto der = MakeOcspRequest({leaves_[0].certificate.get(), leaves_[1].certificate.get(),
                              leaves_[2].certificate.get()},
                             pki_->ca());
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(responder_->Answer(*der, kNow).status, OcspResponseStatus::kMalformedRequest);
  EXPECT_EQ(source_->lookups(), 0u);
}

TEST_F(OcspResponderTest, MalformedRequestsGetTheConstantResponse) {
  for (const std::string& bad : {std::string("garbage"), Request(0) + "x", std::string()}) {
    const OcspAnswer answer = responder_->Answer(bad, kNow);
    EXPECT_EQ(answer.status, OcspResponseStatus::kMalformedRequest);
    EXPECT_EQ(*answer.body, UnsignedOcspResponse(OcspResponseStatus::kMalformedRequest));
    EXPECT_EQ(answer.detail.code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(OcspResponderTest, UnknownHashAlgorithmIsUnauthorized) {
  const OcspAnswer answer = responder_->Answer(Request(0, EVP_sha384()), kNow);
  EXPECT_EQ(answer.status, OcspResponseStatus::kUnauthorized);
  EXPECT_EQ(testing::ResponseStatusOf(*answer.body), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
}

TEST_F(OcspResponderTest, NameHashMatchWithAnotherKeyHashIsUnauthorized) {
  // Same CA subject, different CA key: cfssl would answer by serial, we must not.
  auto impostor = TestPki::Create(hsm::KeyAlgorithm::kEcdsaP256, "default");
  ASSERT_TRUE(impostor.ok());
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_request_add0_id(request.get(),
                       OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(pki_->ca()),
                                        X509_get0_pubkey_bitstr((*impostor)->ca()),
                                        X509_get0_serialNumber(leaves_[0].certificate.get())));
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_REQUEST(request.get(), &der);
  const std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  const OcspAnswer answer = responder_->Answer(bytes, kNow);
  EXPECT_EQ(answer.status, OcspResponseStatus::kUnauthorized);
  EXPECT_EQ(source_->lookups(), 0u);
}

TEST_F(OcspResponderTest, IssuersAddedAtRuntimeAreServedSideBySide) {
  auto next = TestPki::Create(hsm::KeyAlgorithm::kEcdsaP256, "next");
  ASSERT_TRUE(next.ok());
  auto new_leaf = (*next)->IssueLeaf("sensor-new");
  ASSERT_TRUE(new_leaf.ok());
  source_->SetGood(new_leaf->serial);
  auto request = MakeOcspRequest({new_leaf->certificate.get()}, (*next)->ca());
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(responder_->Answer(*request, kNow).status, OcspResponseStatus::kUnauthorized);

  responder_->AddIssuer((*next)->issuer());
  EXPECT_EQ(responder_->issuers().size(), 2u);
  const OcspAnswer answer = responder_->Answer(*request, kNow);
  auto found = VerifyAndFind(*answer.body, **next, new_leaf->certificate.get());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(Verify(responder_->Answer(Request(0), kNow), 0).status, V_OCSP_CERTSTATUS_GOOD);

  // One response cannot speak for two CAs: each has its own delegated signer.
  OcspRequestPtr both(OCSP_REQUEST_new());
  OCSP_request_add0_id(both.get(),
                       OCSP_cert_to_id(EVP_sha1(), leaves_[0].certificate.get(), pki_->ca()));
  OCSP_request_add0_id(both.get(),
                       OCSP_cert_to_id(EVP_sha1(), new_leaf->certificate.get(), (*next)->ca()));
  unsigned char* der = nullptr;
  const int length = i2d_OCSP_REQUEST(both.get(), &der);
  const std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  EXPECT_EQ(responder_->Answer(bytes, kNow).status, OcspResponseStatus::kUnauthorized);
}

TEST_F(OcspResponderTest, SignerRotationReplacesTheIssuerAndRefreshUsesTheNewSigner) {
  const std::string request = Request(0);
  responder_->Answer(request, kNow);
  auto rotated = pki_->NewSigner();
  ASSERT_TRUE(rotated.ok());
  responder_->AddIssuer(*rotated);
  ASSERT_EQ(responder_->issuers().size(), 1u);
  EXPECT_EQ(responder_->RefreshDue(kNow + absl::Minutes(31)).resigned, 1u);
  const OcspAnswer answer = responder_->Answer(request, kNow + absl::Minutes(31));
  const auto found = Verify(answer, 0);
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(found.basic.get(), &key_id, &name), 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(key_id)),
                        static_cast<size_t>(ASN1_STRING_length(key_id))),
            (*rotated)->responder_key_hash());
}

TEST_F(OcspResponderTest, CacheSizeIsBounded) {
  OcspResponderOptions options;
  options.max_cached_responses = 16;  // one per shard
  options.max_hot_requests = 16;
  MakeResponder(options);
  std::vector<TestLeaf> many;
  for (int i = 0; i < 60; ++i) {
    auto leaf = pki_->IssueLeaf("bulk-" + std::to_string(i));
    ASSERT_TRUE(leaf.ok());
    source_->SetGood(leaf->serial);
    auto request = MakeOcspRequest({leaf->certificate.get()}, pki_->ca());
    ASSERT_TRUE(request.ok());
    const OcspAnswer answer = responder_->Answer(*request, kNow + absl::Seconds(i));
    auto found = VerifyAndFind(*answer.body, *pki_, leaf->certificate.get());
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->status, V_OCSP_CERTSTATUS_GOOD);
    many.push_back(*std::move(leaf));
  }
  const auto stats = responder_->stats();
  EXPECT_LE(stats.cached_responses, 16u);
  EXPECT_GE(stats.cached_responses, 8u);
  EXPECT_LE(stats.hot_requests, 16u);
}

TEST(OcspResponderOptionsTest, RefusesSchedulesThatCannotWork) {
  auto source = std::make_shared<InMemoryStatusSource>();
  const auto refused = [&](OcspResponderOptions options) {
    return OcspResponder::New(options, source).status().code() ==
           absl::StatusCode::kInvalidArgument;
  };
  EXPECT_FALSE(refused(OcspResponderOptions()));
  EXPECT_EQ(OcspResponder::New(OcspResponderOptions(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  OcspResponderOptions options;
  options.validity = absl::ZeroDuration();
  EXPECT_TRUE(refused(options));
  options = OcspResponderOptions();
  options.refresh_fraction = 1.0;
  EXPECT_TRUE(refused(options));
  options = OcspResponderOptions();
  options.backdate = absl::Minutes(3);  // unknown answers: 5 min, refresh after 2.5 min
  EXPECT_TRUE(refused(options));
  options = OcspResponderOptions();
  options.max_cached_responses = 0;
  EXPECT_TRUE(refused(options));
  for (double budget : {-1.0, 0.5}) {
    options = OcspResponderOptions();
    options.fresh_signatures_per_second = budget;
    EXPECT_TRUE(refused(options)) << budget;
  }
  options.fresh_signatures_per_second = 1;
  EXPECT_FALSE(refused(options));
}

}  // namespace
}  // namespace keyline::ocsp
