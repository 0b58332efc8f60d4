// Many threads answer while others revoke (Invalidate) and refresh (RefreshDue) with a moving
// clock. The property: once Invalidate(serial) has returned, no answer started afterwards says
// anything but `revoked` for that serial. scripts/test also runs it in the ASan/UBSan build.
#include <openssl/ocsp.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/openssl_ptr.h"
#include "ocsp/ocsp_responder.h"
#include "ocsp/testing/in_memory_status_source.h"
#include "ocsp/testing/request_builder.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

using testing::InMemoryStatusSource;
using testing::TestLeaf;
using testing::TestPki;

const absl::Time kStart = absl::FromUnixSeconds(1790000000);

// The status the response gives for `id` (no signature check: other tests do that), or -1.
int StatusIn(const std::string& der, OCSP_CERTID* id) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(der.size())));
  if (!response || OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return -1;
  }
  OcspBasicResponsePtr basic(OCSP_response_get1_basic(response.get()));
  int status = -1;
  int reason = -1;
  if (!basic || OCSP_resp_find_status(basic.get(), id, &status, &reason, nullptr, nullptr,
                                      nullptr) != 1) {
    return -1;
  }
  return status;
}

TEST(OcspResponderConcurrencyTest, NoStaleGoodAfterInvalidateWhileAnsweringAndRefreshing) {
  constexpr int kLeaves = 12;
  auto pki = TestPki::Create();
  ASSERT_TRUE(pki.ok()) << pki.status();
  auto source = std::make_shared<InMemoryStatusSource>();
  OcspResponderOptions options;
  options.max_cached_responses = 64;  // small: evictions happen too
  auto responder_or = OcspResponder::New(options, source);
  ASSERT_TRUE(responder_or.ok());
  OcspResponder& responder = **responder_or;
  responder.AddIssuer((*pki)->issuer());

  std::vector<TestLeaf> leaves;
  std::vector<std::string> requests;
  std::vector<std::string> nonce_requests;
  std::vector<OcspCertIdPtr> ids;
  for (int i = 0; i < kLeaves; ++i) {
    auto leaf = (*pki)->IssueLeaf("sensor-" + std::to_string(i));
    ASSERT_TRUE(leaf.ok());
    source->SetGood(leaf->serial);
    requests.push_back(*testing::MakeOcspRequest({leaf->certificate.get()}, (*pki)->ca()));
    nonce_requests.push_back(*testing::MakeOcspRequest({leaf->certificate.get()}, (*pki)->ca(),
                                                       EVP_sha1(), std::string(16, 'n')));
    ids.emplace_back(OCSP_cert_to_id(EVP_sha1(), leaf->certificate.get(), (*pki)->ca()));
    leaves.push_back(*std::move(leaf));
  }

  std::atomic<int> revoked_count{0};
  std::atomic<int64_t> clock_seconds{absl::ToUnixSeconds(kStart)};
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::atomic<int> answers{0};
  const auto now = [&] { return absl::FromUnixSeconds(clock_seconds.load()); };

  const auto reader = [&](int seed, bool with_nonce) {
    int i = seed;
    while (!done.load()) {
      i = (i + 7) % kLeaves;
      const int revoked_before = revoked_count.load(std::memory_order_acquire);
      const OcspAnswer answer =
          responder.Answer(with_nonce ? nonce_requests[i] : requests[i], now());
      const int status = StatusIn(*answer.body, ids[i].get());
      answers.fetch_add(1);
      if (status < 0) {
        violations.fetch_add(1);
      } else if (i < revoked_before && status != V_OCSP_CERTSTATUS_REVOKED) {
        violations.fetch_add(1);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back(reader, t, false);
  threads.emplace_back(reader, 5, true);
  threads.emplace_back([&] {  // the server's refresh loop, with time running fast
    while (!done.load()) {
      clock_seconds.fetch_add(90);
      const auto result = responder.RefreshDue(now());
      if (result.failed != 0) violations.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  for (int i = 0; i < kLeaves; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    source->SetRevoked(leaves[i].serial, now(), 1);  // the database commit
    ASSERT_TRUE(responder.Invalidate(*(*pki)->issuer(), leaves[i].serial, now()).ok());
    revoked_count.store(i + 1, std::memory_order_release);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  done.store(true);
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(answers.load(), kLeaves * 4);
  for (int i = 0; i < kLeaves; ++i) {
    EXPECT_EQ(StatusIn(*responder.Answer(requests[i], now()).body, ids[i].get()),
              V_OCSP_CERTSTATUS_REVOKED);
  }
}

}  // namespace
}  // namespace keyline::ocsp
