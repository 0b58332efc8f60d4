#include "common/hex.h"

#include <gtest/gtest.h>

namespace keyline {
namespace {

TEST(HexTest, EncodesEveryByteValueAndDecodesBack) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string hex = HexEncode(all);
  EXPECT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 6), "000102");
  EXPECT_EQ(hex.substr(506), "fdfeff");
  EXPECT_EQ(HexDecode(hex), all);
}

TEST(HexTest, DecodesUpperCase) { EXPECT_EQ(HexDecode("0AfF"), std::string("\x0a\xff", 2)); }

TEST(HexTest, RejectsOddLengthAndNonHex) {
  EXPECT_EQ(HexDecode("abc"), std::nullopt);
  EXPECT_EQ(HexDecode("zz"), std::nullopt);
  EXPECT_EQ(HexDecode("0g"), std::nullopt);
}

}  // namespace
}  // namespace keyline
