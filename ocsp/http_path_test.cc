#include "ocsp/http_path.h"

#include <openssl/evp.h>

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "ocsp/ocsp_request.h"
#include "ocsp/testing/request_builder.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

void ExpectInvalid(std::string_view encoded, std::string_view message_part) {
  auto decoded = DecodeOcspGetPath(encoded);
  ASSERT_FALSE(decoded.ok()) << encoded;
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find(std::string(message_part)), absl::string_view::npos)
      << decoded.status();
}

TEST(DecodeOcspGetPathTest, DecodesRealRequestRawAndEscaped) {
  auto pki = testing::TestPki::Create();
  ASSERT_TRUE(pki.ok());
  auto leaf = (*pki)->IssueLeaf("sensor-get");
  ASSERT_TRUE(leaf.ok());
  auto der = testing::MakeOcspRequest({leaf->certificate.get()}, (*pki)->ca());
  ASSERT_TRUE(der.ok());
  const std::string text = Base64(*der);
  auto raw = DecodeOcspGetPath(text);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw, *der);
  EXPECT_TRUE(ParseOcspRequest(*raw).ok());

  std::string escaped;
  for (char c : text) {
    if (c == '+') escaped += "%2B";
    else if (c == '/') escaped += "%2f";  // either case
    else if (c == '=') escaped += "%3D";
    else escaped += c;
  }
  auto unescaped = DecodeOcspGetPath(escaped);
  ASSERT_TRUE(unescaped.ok()) << unescaped.status();
  EXPECT_EQ(*unescaped, *der);
}

TEST(DecodeOcspGetPathTest, SlashAndPlusDecodeAsBase64) {
  // 0xfb 0xff 0xbf encodes to "+/+/": both characters cfssl refuses, and a raw '/' that splits
  // the path into segments.
  const std::string bytes("\xfb\xff\xbf\xfb\xff\xbf", 6);
  ASSERT_EQ(Base64(bytes), "+/+/+/+/");
  auto decoded = DecodeOcspGetPath("+/+/+/+/");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, bytes);
  auto escaped = DecodeOcspGetPath("%2B%2F+/+/%2b/");
  ASSERT_TRUE(escaped.ok()) << escaped.status();
  EXPECT_EQ(*escaped, bytes);
}

TEST(DecodeOcspGetPathTest, PaddingMayBeMissing) {
  EXPECT_EQ(*DecodeOcspGetPath("YQ=="), "a");
  EXPECT_EQ(*DecodeOcspGetPath("YQ"), "a");
  EXPECT_EQ(*DecodeOcspGetPath("YWI="), "ab");
  EXPECT_EQ(*DecodeOcspGetPath("YWI"), "ab");
  EXPECT_EQ(*DecodeOcspGetPath("YWI%3D"), "ab");
  EXPECT_EQ(*DecodeOcspGetPath("YWJj"), "abc");
}

TEST(DecodeOcspGetPathTest, BadPercentEscapesAreRefused) {
  ExpectInvalid("YW%", "bad percent escape");
  ExpectInvalid("YW%4", "bad percent escape");
  ExpectInvalid("YW%zz", "bad percent escape");
  ExpectInvalid("%G1YWJj", "bad percent escape at offset 0");
}

TEST(DecodeOcspGetPathTest, CharactersOutsideTheStandardAlphabetAreRefused) {
  ExpectInvalid("YW-j", "0x2d");       // URL-safe alphabet
  ExpectInvalid("YW_j", "0x5f");
  ExpectInvalid("YW j", "0x20");       // a space, also when escaped
  ExpectInvalid("YW%20j", "0x20");
  ExpectInvalid("YW%00j", "0x00");
  ExpectInvalid("YWJj?x=1", "0x3f");  // the caller strips the query string
  ExpectInvalid("YW=j", "0x3d");       // padding in the middle
}

TEST(DecodeOcspGetPathTest, WrongLengthsAndPaddingAreRefused) {
  ExpectInvalid("", "empty");
  ExpectInvalid("==", "no base64 data");
  ExpectInvalid("YWJjZ", "truncated");
  ExpectInvalid("YQ=", "wrong base64 padding");
  ExpectInvalid("YWJj=", "wrong base64 padding");
  ExpectInvalid("YQ===", "padding");  // three '=' are never padding
}

TEST(DecodeOcspGetPathTest, InputIsBounded) {
  ExpectInvalid(std::string(kMaxEncodedOcspGetPathBytes + 4, 'A'), "more than 65536");
  auto largest = DecodeOcspGetPath(std::string(kMaxEncodedOcspGetPathBytes, 'A'));
  ASSERT_TRUE(largest.ok());
  EXPECT_EQ(largest->size(), kMaxEncodedOcspGetPathBytes / 4 * 3);
}

std::string ReadSeed(const std::string& relative) {
  std::ifstream in(std::string(KEYLINE_OCSP_TESTDATA) + "/" + relative, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The GET seeds are the base64 (plain and percent-escaped) of requests from `openssl ocsp`.
TEST(DecodeOcspGetPathTest, SeedsDecodeToTheRequestsTheyWereMadeFrom) {
  for (const char* name : {"sha1", "sha1_nonce", "sha256"}) {
    const std::string der = ReadSeed(std::string("parse_ocsp_request_fuzzer/") + name + ".der");
    ASSERT_FALSE(der.empty()) << name;
    for (const char* suffix : {".txt", "_escaped.txt"}) {
      const std::string path = std::string("decode_ocsp_get_path_fuzzer/") + name + suffix;
      auto decoded = DecodeOcspGetPath(ReadSeed(path));
      ASSERT_TRUE(decoded.ok()) << path << ": " << decoded.status();
      EXPECT_EQ(*decoded, der) << path;
    }
  }
}

}  // namespace
}  // namespace keyline::ocsp
