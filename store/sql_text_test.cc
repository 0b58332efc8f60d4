#include "store/sql_text.h"

#include <gtest/gtest.h>

namespace keyline::store {
namespace {

TEST(SqlTextTest, ByteaTextFormRoundTrips) {
  const std::string bytes("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(ByteaParam(bytes), "\\x0001feff");
  EXPECT_EQ(DecodeByteaText(ByteaParam(bytes)), bytes);
  EXPECT_EQ(ByteaParam(""), "\\x");
  EXPECT_EQ(DecodeByteaText("0001"), std::nullopt);
  EXPECT_EQ(DecodeByteaText("\\x0"), std::nullopt);
}

TEST(SqlTextTest, NumbersPlaceholdersRowByRow) {
  EXPECT_EQ(ValuesPlaceholders(2, {"::bytea", "", "::text"}),
            "($1::bytea,$2,$3::text),($4::bytea,$5,$6::text)");
  EXPECT_EQ(ValuesPlaceholders(1, {"", ""}, 7), "($7,$8)");
  EXPECT_EQ(ValuesPlaceholders(0, {""}), "");
}

}  // namespace
}  // namespace keyline::store
