// The OCSP status index under its two writers: the status feed's thread and, since a server
// records what it issues at commit, the issuance writer's thread.
#include "server/certificate_status_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ocsp/testing/test_pki.h"

namespace keyline::server {
namespace {

constexpr int32_t kCaId = 7;

store::CertificateStatusRow GoodRow(const std::string& serial) {
  store::CertificateStatusRow row;
  row.issuer_id = kCaId;
  row.serial = serial;
  return row;
}

std::string SerialNumbered(int i) {
  std::string serial = "\x5a\x01\x02\x03\x04\x05\x06\x07";
  serial += static_cast<char>(i >> 8);
  serial += static_cast<char>(i & 0xff);
  return serial;
}

TEST(CertificateStatusIndexTest, TwoThreadsApplyingTheSameNewSerialsSeeEachIssuedOnce) {
  constexpr int kSerials = 20000;
  CertificateStatusIndex index;
  std::atomic<int> issued{0};
  auto apply_all = [&] {
    for (int i = 0; i < kSerials; ++i) {
      if (index.Apply(GoodRow(SerialNumbered(i))) == CertificateStatusIndex::Change::kIssued) {
        ++issued;
      }
    }
  };
  std::thread feed(apply_all);
  std::thread writer(apply_all);
  feed.join();
  writer.join();
  EXPECT_EQ(issued.load(), kSerials);
  EXPECT_EQ(index.size(), static_cast<size_t>(kSerials));
}

TEST(CertificateStatusIndexTest, AGoodRowAfterTheRevocationDoesNotUndoIt) {
  // The feed may deliver a revocation before the issuing writer reports the issuance (a device
  // decommissioned milliseconds after it enrolled): the late `good` must change nothing.
  auto pki = ocsp::testing::TestPki::Create();
  ASSERT_TRUE(pki.ok()) << pki.status();
  CertificateStatusIndex index;
  index.RegisterIssuer((*pki)->issuer().get(), kCaId);
  const std::string serial = SerialNumbered(1);
  store::CertificateStatusRow revoked = GoodRow(serial);
  revoked.revoked = true;
  revoked.reason = 1;  // keyCompromise
  revoked.revoked_at = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(index.Apply(revoked), CertificateStatusIndex::Change::kRevoked);
  EXPECT_EQ(index.Apply(GoodRow(serial)), CertificateStatusIndex::Change::kNone);

  auto status = index.Lookup(*(*pki)->issuer(), serial);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->kind, ocsp::CertificateStatus::Kind::kRevoked);
  EXPECT_EQ(status->reason, 1);
  EXPECT_EQ(status->revoked_at, absl::FromUnixSeconds(1'800'000'000));
}

}  // namespace
}  // namespace keyline::server
