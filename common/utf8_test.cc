#include "common/utf8.h"

#include <gtest/gtest.h>

namespace keyline {
namespace {

TEST(Utf8Test, WellFormedAsPostgresqlAcceptsIt) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x91"));  // 2, 3 and 4 bytes
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                             // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // continuation without a lead
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));          // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));
}

TEST(Utf8Test, CountsCodePointsNotOctets) {
  EXPECT_EQ(Utf8CharacterCount(""), 0u);
  EXPECT_EQ(Utf8CharacterCount("plain ascii"), 11u);
  EXPECT_EQ(Utf8CharacterCount("M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x91"), 10u);
  EXPECT_EQ(Utf8CharacterCount("\xc3\x28"), std::nullopt);
}

}  // namespace
}  // namespace keyline
