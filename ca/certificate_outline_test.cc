#include "ca/certificate_outline.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "ca/certificate_der.h"
#include "ca/public_key_decoder.h"
#include "ca/software_key.h"
#include "common/der_encoding.h"

namespace keyline::ca {
namespace {

struct MadeCertificate {
  EvpPkeyPtr key;
  std::string der;
};

// A self-signed certificate made by OpenSSL's own encoder: the outline must read what it wrote.
MadeCertificate Make(SoftwareKeyType type, long version, time_t not_before, time_t not_after,
                     bool with_extensions) {
  MadeCertificate made{*GenerateSoftwareKey(type), ""};
  X509Ptr certificate(X509_new());
  X509_set_version(certificate.get(), version);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 0x1234567);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("outline"), -1, -1, 0);
  X509_set_issuer_name(certificate.get(), X509_get_subject_name(certificate.get()));
  ASN1_TIME_set(X509_getm_notBefore(certificate.get()), not_before);
  ASN1_TIME_set(X509_getm_notAfter(certificate.get()), not_after);
  X509_set_pubkey(certificate.get(), made.key.get());
  if (with_extensions) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate.get(), certificate.get(), nullptr, nullptr, 0);
    X509ExtensionPtr extension(
        X509V3_EXT_conf_nid(nullptr, &context, NID_basic_constraints, "critical,CA:FALSE"));
    X509_add_ext(certificate.get(), extension.get(), -1);
  }
  const EVP_MD* digest = type == SoftwareKeyType::kEd25519 ? nullptr : EVP_sha256();
  EXPECT_GT(X509_sign(certificate.get(), made.key.get(), digest), 0);
  made.der = *CertificateToDer(certificate.get());
  return made;
}

TEST(CertificateOutlineTest, ReadsWhatOpenSslReadsFromEveryKindOfCertificate) {
  const time_t start = 1'700'000'000;
  const time_t end_utc = 2'000'000'000;          // 2033: UTCTime
  const time_t end_generalized = 2'600'000'000;  // 2052: GeneralizedTime
  const SoftwareKeyType types[] = {SoftwareKeyType::kEcP256, SoftwareKeyType::kEcP384,
                                   SoftwareKeyType::kEd25519, SoftwareKeyType::kRsa2048};
  for (SoftwareKeyType type : types) {
    for (const bool v3 : {false, true}) {
      for (const time_t end : {end_utc, end_generalized}) {
        SCOPED_TRACE(testing::Message()
                     << "type " << static_cast<int>(type) << " v3 " << v3 << " end " << end);
        const MadeCertificate made = Make(type, v3 ? 2 : 0, start, end, v3);
        auto outline = ReadCertificateOutline(made.der);
        ASSERT_TRUE(outline.ok()) << outline.status();
        auto parsed = ParseCertificateDer(made.der);
        ASSERT_TRUE(parsed.ok());
        EXPECT_EQ(outline->not_before, NotBeforeOf(parsed->get()));
        EXPECT_EQ(outline->not_after, NotAfterOf(parsed->get()));
        EXPECT_EQ(outline->not_before, absl::FromTimeT(start));
        EXPECT_EQ(outline->not_after, absl::FromTimeT(end));
        EXPECT_EQ(outline->public_key_info_der, *PublicKeyToDer(made.key.get()));
        auto key = DecodePublicKeyDer(outline->public_key_info_der, "key");
        ASSERT_TRUE(key.ok()) << key.status();
        EXPECT_EQ(EVP_PKEY_eq(key->get(), made.key.get()), 1);
      }
    }
  }
}

TEST(CertificateOutlineTest, RefusesWhatIsNotOneCertificate) {
  const MadeCertificate made =
      Make(SoftwareKeyType::kEcP256, 2, 1'700'000'000, 2'000'000'000, true);
  EXPECT_EQ(ReadCertificateOutline("").status().message(), "certificate: not DER X.509");
  EXPECT_EQ(ReadCertificateOutline("\x30\x03\x02\x01\x01").status().message(),
            "certificate: not DER X.509");
  EXPECT_EQ(ReadCertificateOutline(made.der.substr(0, made.der.size() - 1)).status().message(),
            "certificate: not DER X.509");
  EXPECT_EQ(ReadCertificateOutline(made.der + '\0').status().message(),
            "certificate: trailing data after the DER certificate");
  // A CSR is a SEQUENCE of three elements too, with a different inside.
  auto csr = CreateCsr(made.key.get(), "not a certificate");
  ASSERT_TRUE(csr.ok());
  EXPECT_FALSE(ReadCertificateOutline(*csr).ok());
}

}  // namespace
}  // namespace keyline::ca
