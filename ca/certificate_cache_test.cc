#include "ca/certificate_cache.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <thread>
#include <vector>

#include "ca/certificate_der.h"

namespace keyline::ca {
namespace {

// A self-signed P-256 certificate with this serial, as DER.
std::string SelfSignedDer(long serial) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr certificate(X509_new());
  X509_set_version(certificate.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("cache test"), -1, -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600);
  X509_set_pubkey(certificate.get(), key.get());
  EXPECT_GT(X509_sign(certificate.get(), key.get(), EVP_sha256()), 0);
  auto der = CertificateToDer(certificate.get());
  EXPECT_TRUE(der.ok()) << der.status();
  return der.ok() ? *der : std::string();
}

long SerialOf(const X509* certificate) {
  return ASN1_INTEGER_get(X509_get0_serialNumber(certificate));
}

TEST(CertificateCacheTest, TheSameBytesGiveTheSameParsedCertificate) {
  CertificateCache cache(8);
  const std::string first = SelfSignedDer(1);
  const std::string second = SelfSignedDer(2);
  auto a = cache.Parse(first);
  auto b = cache.Parse(std::string(first));  // equal bytes elsewhere in memory
  auto c = cache.Parse(second);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(SerialOf(a->get()), 1);
  EXPECT_EQ(SerialOf(c->get()), 2);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(CertificateToDer(b->get()).value_or(""), first);
}

TEST(CertificateCacheTest, ACertificateHandedOutOutlivesItsEviction) {
  CertificateCache cache(2);
  auto kept = cache.Parse(SelfSignedDer(10));
  ASSERT_TRUE(kept.ok());
  for (long serial = 11; serial < 20; ++serial)
    ASSERT_TRUE(cache.Parse(SelfSignedDer(serial)).ok());
  EXPECT_LE(cache.size(), 2u);
  EXPECT_EQ(SerialOf(kept->get()), 10);  // still ours, whatever the cache dropped
}

// Enrollment parses a device's attestation certificate in BeginEnrollment and needs it again in
// CompleteEnrollment a few milliseconds later, while other devices' certificates keep arriving:
// the newest certificates must be the last to go.
TEST(CertificateCacheTest, AFullCacheDropsItsOldestCertificatesFirst) {
  constexpr size_t kCapacity = 32;
  constexpr size_t kRecent = 8;  // what a full cache must still hold, however long it ran
  CertificateCache cache(kCapacity);
  std::vector<std::string> ders;
  std::vector<const X509*> parsed;
  size_t dropped_while_recent = 0;
  for (long serial = 0; serial < 300; ++serial) {
    ders.push_back(SelfSignedDer(1000 + serial));
    auto certificate = cache.Parse(ders.back());
    ASSERT_TRUE(certificate.ok());
    parsed.push_back(certificate->get());
    EXPECT_LE(cache.size(), kCapacity);
    if (ders.size() <= kRecent) continue;
    const size_t earlier = ders.size() - 1 - kRecent;
    auto again = cache.Parse(ders[earlier]);
    ASSERT_TRUE(again.ok());
    if (again->get() != parsed[earlier]) {
      ++dropped_while_recent;
      parsed[earlier] = again->get();  // parsed anew and cached again
    }
  }
  EXPECT_EQ(dropped_while_recent, 0u);
  EXPECT_EQ(cache.size(), kCapacity);
}

TEST(CertificateCacheTest, BadBytesAreRefusedEveryTimeAndNotKept) {
  CertificateCache cache(8);
  const std::string good = SelfSignedDer(3);
  for (int attempt = 0; attempt < 2; ++attempt) {
    EXPECT_EQ(cache.Parse("not a certificate").status().code(), absl::StatusCode::kInvalidArgument);
    const auto trailing = cache.Parse(good + "x");
    EXPECT_EQ(trailing.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(trailing.status().message().find("trailing data"), std::string::npos);
  }
  EXPECT_EQ(cache.size(), 0u);
  // A cached certificate does not make its bytes with trailing data acceptable.
  ASSERT_TRUE(cache.Parse(good).ok());
  EXPECT_FALSE(cache.Parse(good + "x").ok());
}

TEST(CertificateCacheTest, ThreadsMeetingTheSameBytesShareOneCertificate) {
  CertificateCache cache(64);
  std::vector<std::string> ders;
  for (long serial = 100; serial < 104; ++serial) ders.push_back(SelfSignedDer(serial));
  std::vector<std::thread> threads;
  std::vector<std::vector<const X509*>> seen(4);
  for (size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (const std::string& der : ders) {
          auto parsed = cache.Parse(der);
          ASSERT_TRUE(parsed.ok());
          if (round == 49) seen[t].push_back(parsed->get());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(cache.size(), ders.size());
  for (size_t t = 1; t < seen.size(); ++t) EXPECT_EQ(seen[t], seen[0]);
}

}  // namespace
}  // namespace keyline::ca
