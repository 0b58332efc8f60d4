#include "ocsp/ocsp_request.h"

#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "common/der_encoding.h"
#include "common/openssl_ptr.h"
#include "ocsp/testing/request_builder.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

using testing::MakeOcspRequest;
using testing::TestLeaf;
using testing::TestPki;

class OcspRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    auto leaf = pki_->IssueLeaf("sensor-1");
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    leaf_ = *std::move(leaf);
  }

  std::string Encode(OCSP_REQUEST* request) {
    auto der = EncodeDer([&](unsigned char** out) { return i2d_OCSP_REQUEST(request, out); },
                         "request");
    EXPECT_TRUE(der.ok());
    return der.ok() ? *der : "";
  }

  // A request for the leaf with one extra extension (request level or on the single request).
  std::string WithExtension(const char* oid, bool critical, std::string_view value,
                            bool on_single_request) {
    OcspRequestPtr request(OCSP_REQUEST_new());
    OCSP_ONEREQ* single = OCSP_request_add0_id(
        request.get(), OCSP_cert_to_id(EVP_sha1(), leaf_.certificate.get(), pki_->ca()));
    Asn1ObjectPtr type(OBJ_txt2obj(oid, 1));
    Asn1OctetStringPtr data(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(data.get(), reinterpret_cast<const unsigned char*>(value.data()),
                          static_cast<int>(value.size()));
    X509ExtensionPtr extension(
        X509_EXTENSION_create_by_OBJ(nullptr, type.get(), critical ? 1 : 0, data.get()));
    if (on_single_request) {
      OCSP_ONEREQ_add_ext(single, extension.get(), -1);
    } else {
      OCSP_REQUEST_add_ext(request.get(), extension.get(), -1);
    }
    return Encode(request.get());
  }

  // A request whose only CertID is made from the given parts.
  std::string WithCertId(const EVP_MD* md, const ASN1_BIT_STRING* issuer_key,
                         const ASN1_INTEGER* serial) {
    OcspRequestPtr request(OCSP_REQUEST_new());
    OCSP_request_add0_id(request.get(), OCSP_cert_id_new(md, X509_get_subject_name(pki_->ca()),
                                                         issuer_key, serial));
    return Encode(request.get());
  }

  std::string LeafRequest() {
    auto der = MakeOcspRequest({leaf_.certificate.get()}, pki_->ca());
    EXPECT_TRUE(der.ok());
    return der.ok() ? *der : "";
  }

  static std::string NonceValue(std::string_view inner_der) { return std::string(inner_der); }

  std::unique_ptr<TestPki> pki_;
  TestLeaf leaf_;
};

void ExpectInvalid(std::string_view der, std::string_view message_part) {
  auto parsed = ParseOcspRequest(der);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(std::string(message_part)), absl::string_view::npos)
      << parsed.status();
}

TEST_F(OcspRequestTest, ParsesSha1CertIdLikeOpenSsl) {
  const std::string der = LeafRequest();
  auto parsed = ParseOcspRequest(der);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->cert_ids.size(), 1u);
  const CertId& id = parsed->cert_ids[0];
  EXPECT_EQ(id.hash, CertIdHash::kSha1);
  EXPECT_EQ(id.issuer_name_hash, pki_->issuer()->name_hash(CertIdHash::kSha1));
  EXPECT_EQ(id.issuer_key_hash, pki_->issuer()->key_hash(CertIdHash::kSha1));
  EXPECT_EQ(id.serial, leaf_.serial);
  // The CertID bytes are those of the request.
  EXPECT_NE(der.find(id.der), std::string::npos);
  EXPECT_EQ(static_cast<uint8_t>(id.der[0]), 0x30);
  EXPECT_TRUE(pki_->issuer()->Matches(id));
  EXPECT_FALSE(parsed->nonce.has_value());
  EXPECT_FALSE(parsed->signed_request);
}

TEST_F(OcspRequestTest, ParsesSha256AndSeveralCertIdsInOrder) {
  auto second = pki_->IssueLeaf("sensor-2");
  ASSERT_TRUE(second.ok());
  auto der = MakeOcspRequest({leaf_.certificate.get(), second->certificate.get()}, pki_->ca(),
                             EVP_sha256());
  ASSERT_TRUE(der.ok());
  auto parsed = ParseOcspRequest(*der);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->cert_ids.size(), 2u);
  EXPECT_EQ(parsed->cert_ids[0].hash, CertIdHash::kSha256);
  EXPECT_EQ(parsed->cert_ids[0].issuer_key_hash, pki_->issuer()->key_hash(CertIdHash::kSha256));
  EXPECT_EQ(parsed->cert_ids[0].serial, leaf_.serial);
  EXPECT_EQ(parsed->cert_ids[1].serial, second->serial);
  EXPECT_TRUE(pki_->issuer()->Matches(parsed->cert_ids[1]));
}

TEST_F(OcspRequestTest, UnknownHashAlgorithmParsesAsUnknown) {
  auto der = MakeOcspRequest({leaf_.certificate.get()}, pki_->ca(), EVP_sha384());
  ASSERT_TRUE(der.ok());
  auto parsed = ParseOcspRequest(*der);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->cert_ids[0].hash, CertIdHash::kUnknown);
  EXPECT_FALSE(pki_->issuer()->Matches(parsed->cert_ids[0]));
}

TEST_F(OcspRequestTest, NonceOfOneTo128OctetsIsAccepted) {
  for (size_t length : {size_t{1}, size_t{32}, size_t{128}}) {
    const std::string nonce(length, '\x5a');
    auto der = MakeOcspRequest({leaf_.certificate.get()}, pki_->ca(), EVP_sha1(), nonce);
    ASSERT_TRUE(der.ok());
    auto parsed = ParseOcspRequest(*der);
    ASSERT_TRUE(parsed.ok()) << length << ": " << parsed.status();
    ASSERT_TRUE(parsed->nonce.has_value());
    EXPECT_EQ(*parsed->nonce, nonce);
  }
}

TEST_F(OcspRequestTest, NonceOfZeroOr129OctetsIsRefused) {
  // extnValue holds the DER OCTET STRING of the nonce (RFC 9654 2.1).
  ExpectInvalid(WithExtension("1.3.6.1.5.5.7.48.1.2", false, std::string("\x04\x00", 2), false),
                "0 octets");
  std::string long_nonce("\x04\x81\x81", 3);
  long_nonce.append(129, '\x01');
  ExpectInvalid(WithExtension("1.3.6.1.5.5.7.48.1.2", false, long_nonce, false), "129 octets");
}

TEST_F(OcspRequestTest, NonceThatIsNotADerOctetStringIsRefused) {
  // The raw nonce without the OCTET STRING (what some pre-RFC 8954 clients sent).
  ExpectInvalid(WithExtension("1.3.6.1.5.5.7.48.1.2", false, std::string(16, '\x07'), false),
                "nonce");
  // An INTEGER, an OCTET STRING with trailing bytes, a non-minimal length.
  ExpectInvalid(WithExtension("1.3.6.1.5.5.7.48.1.2", false, "\x02\x01\x05", false), "nonce");
  ExpectInvalid(
      WithExtension("1.3.6.1.5.5.7.48.1.2", false, std::string("\x04\x01\x05\x00", 4), false),
      "trailing");
  ExpectInvalid(
      WithExtension("1.3.6.1.5.5.7.48.1.2", false, std::string("\x04\x81\x01\x05", 4), false),
      "not DER");
}

TEST_F(OcspRequestTest, DuplicateExtensionIsRefused) {
  // OCSP_request_add1_nonce replaces an earlier nonce, so add the extension object twice.
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_request_add0_id(request.get(),
                       OCSP_cert_to_id(EVP_sha1(), leaf_.certificate.get(), pki_->ca()));
  Asn1OctetStringPtr data(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(data.get(), reinterpret_cast<const unsigned char*>("\x04\x01\x07"), 3);
  X509ExtensionPtr nonce(
      X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, data.get()));
  ASSERT_EQ(OCSP_REQUEST_add_ext(request.get(), nonce.get(), -1), 1);
  EXPECT_TRUE(ParseOcspRequest(Encode(request.get())).ok());
  ASSERT_EQ(OCSP_REQUEST_add_ext(request.get(), nonce.get(), -1), 1);
  ExpectInvalid(Encode(request.get()), "appears twice");
}

TEST_F(OcspRequestTest, UnknownCriticalExtensionIsRefusedAnywhere) {
  ExpectInvalid(WithExtension("1.3.6.1.4.1.55555.1", true, "\x05\x00", false),
                "requestExtensions: unsupported critical extension 1.3.6.1.4.1.55555.1");
  ExpectInvalid(WithExtension("1.3.6.1.4.1.55555.1", true, "\x05\x00", true),
                "requestList[0].singleRequestExtensions: unsupported critical extension");
}

TEST_F(OcspRequestTest, UnknownNonCriticalExtensionIsIgnored) {
  // id-pkix-ocsp-pref-sig-algs and a private one, not critical.
  EXPECT_TRUE(ParseOcspRequest(WithExtension("1.3.6.1.5.5.7.48.1.8", false, "\x30\x00", false)).ok());
  EXPECT_TRUE(ParseOcspRequest(WithExtension("1.3.6.1.4.1.55555.1", false, "\x05\x00", true)).ok());
}

TEST_F(OcspRequestTest, GarbageAndEmptyInputAreRefused) {
  ExpectInvalid("", "empty");
  ExpectInvalid("GET / HTTP/1.1\r\n", "not an OCSPRequest");
  ExpectInvalid(std::string("\x30\x03\x02\x01\x01", 5), "not an OCSPRequest");
  const std::string der = LeafRequest();
  ExpectInvalid(der.substr(0, der.size() - 1), "not an OCSPRequest");  // truncated
}

TEST_F(OcspRequestTest, TrailingBytesAreRefused) {
  ExpectInvalid(LeafRequest() + std::string(1, '\0'), "trailing bytes");
  const std::string der = LeafRequest();
  ExpectInvalid(der + der, "trailing bytes");
}

// The outer SEQUENCE header of `der` replaced by `header`.
std::string ReplaceOuterHeader(const std::string& der, std::string_view header) {
  size_t header_length = 2;
  if (static_cast<uint8_t>(der[1]) & 0x80) header_length += static_cast<uint8_t>(der[1]) & 0x7f;
  return std::string(header) + der.substr(header_length);
}

TEST_F(OcspRequestTest, BerEncodingsAreRefusedThoughOpenSslReadsThem) {
  const std::string der = LeafRequest();
  const std::string indefinite = ReplaceOuterHeader(der, std::string("\x30\x80", 2)) +
                                 std::string("\x00\x00", 2);
  const size_t content = der.size() - (static_cast<uint8_t>(der[1]) & 0x80
                                           ? 2 + (static_cast<uint8_t>(der[1]) & 0x7f)
                                           : 2);
  std::string long_form("\x30\x84\x00\x00", 4);
  long_form.push_back(static_cast<char>(content >> 8));
  long_form.push_back(static_cast<char>(content & 0xff));
  const std::string non_minimal = ReplaceOuterHeader(der, long_form);
  for (const std::string& ber : {indefinite, non_minimal}) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(ber.data());
    OcspRequestPtr lenient(d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(ber.size())));
    EXPECT_TRUE(lenient) << "OpenSSL should read this BER";
    ExpectInvalid(ber, "not DER");
  }
}

TEST_F(OcspRequestTest, ZeroCertIdsAreRefused) {
  OcspRequestPtr request(OCSP_REQUEST_new());
  ExpectInvalid(Encode(request.get()), "no CertID");
}

TEST_F(OcspRequestTest, OversizedRequestIsRefusedBeforeParsing) {
  ExpectInvalid(std::string(kMaxOcspRequestBytes + 1, '\x30'), "more than 65536");
  // A real request over the limit: about 900 CertIDs.
  OcspRequestPtr request(OCSP_REQUEST_new());
  for (int i = 0; i < 900; ++i) {
    OCSP_request_add0_id(request.get(),
                         OCSP_cert_to_id(EVP_sha1(), leaf_.certificate.get(), pki_->ca()));
  }
  const std::string large = Encode(request.get());
  ASSERT_GT(large.size(), kMaxOcspRequestBytes);
  ExpectInvalid(large, "more than 65536");
}

TEST_F(OcspRequestTest, NegativeOrZeroSerialIsRefused) {
  const ASN1_BIT_STRING* key = X509_get0_pubkey_bitstr(pki_->ca());
  Asn1IntegerPtr negative(ASN1_INTEGER_new());
  ASN1_INTEGER_set(negative.get(), -5);
  ExpectInvalid(WithCertId(EVP_sha1(), key, negative.get()), "serialNumber: negative");
  Asn1IntegerPtr zero(ASN1_INTEGER_new());
  ASN1_INTEGER_set(zero.get(), 0);
  ExpectInvalid(WithCertId(EVP_sha1(), key, zero.get()), "serialNumber: zero");
  Asn1IntegerPtr positive(ASN1_INTEGER_new());
  ASN1_INTEGER_set(positive.get(), 0x80);  // encoded 00 80: the sign octet is not in the serial
  auto parsed = ParseOcspRequest(WithCertId(EVP_sha1(), key, positive.get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->cert_ids[0].serial, std::string("\x80", 1));
}

TEST_F(OcspRequestTest, HashLengthMustMatchTheAlgorithm) {
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf_.certificate.get(), pki_->ca());
  OCSP_request_add0_id(request.get(), id);
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASSERT_EQ(OCSP_id_get0_info(&name_hash, nullptr, nullptr, nullptr, id), 1);
  ASN1_OCTET_STRING_set(name_hash, reinterpret_cast<const unsigned char*>("short"), 5);
  ExpectInvalid(Encode(request.get()), "hash length");
}

TEST_F(OcspRequestTest, SignedRequestIsAcceptedAndMarked) {
  OcspRequestPtr request(OCSP_REQUEST_new());
  OCSP_request_add0_id(request.get(),
                       OCSP_cert_to_id(EVP_sha1(), leaf_.certificate.get(), pki_->ca()));
  // The requestor's identity is not checked; any certificate with its key will do.
  ASSERT_EQ(OCSP_request_sign(request.get(), pki_->signer(), pki_->signer_key()->public_key(),
                              EVP_sha256(), nullptr, 0),
            1);
  auto parsed = ParseOcspRequest(Encode(request.get()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->signed_request);
  EXPECT_EQ(parsed->cert_ids.size(), 1u);
}

}  // namespace
}  // namespace keyline::ocsp

namespace keyline::ocsp {
namespace {

// The fuzz seeds are requests made by `openssl ocsp -reqout` (testdata/.../generate.sh).
TEST(OcspRequestSeedsTest, OpensslCliRequestsParse) {
  const std::string directory = std::string(KEYLINE_OCSP_TESTDATA) + "/parse_ocsp_request_fuzzer";
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() != ".der") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = ParseOcspRequest(der);
    ASSERT_TRUE(parsed.ok()) << entry.path() << ": " << parsed.status();
    const std::string name = entry.path().stem().string();
    EXPECT_EQ(parsed->cert_ids.size(), name.find("two_certids") == 0 ? 2u : 1u) << name;
    EXPECT_EQ(parsed->nonce.has_value(), name.find("nonce") != std::string::npos) << name;
    EXPECT_EQ(parsed->signed_request, name == "signed_nonce") << name;
    EXPECT_EQ(parsed->cert_ids[0].hash, name == "sha256" ? CertIdHash::kSha256 : CertIdHash::kSha1);
    ++seeds;
  }
  EXPECT_EQ(seeds, 5);
}

}  // namespace
}  // namespace keyline::ocsp
