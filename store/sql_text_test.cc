#include "store/sql_text.h"

#include <gtest/gtest.h>

namespace keyline::store {
namespace {

TEST(SqlTextTest, ByteaTextFormIsHex) {
  EXPECT_EQ(ByteaParam(std::string("\x00\x01\xfe\xff", 4)), "\\x0001feff");
  EXPECT_EQ(ByteaParam(""), "\\x");
}

TEST(SqlTextTest, ArrayLiteralsQuoteEveryElement) {
  EXPECT_EQ(TextArrayParam({}), "{}");
  EXPECT_EQ(TextArrayParam({"a", "", "NULL", "b c,d{e}"}), R"({"a","","NULL","b c,d{e}"})");
  EXPECT_EQ(TextArrayParam({"quote\"", "back\\slash"}), R"({"quote\"","back\\slash"})");
  EXPECT_EQ(ByteaArrayParam({}), "{}");
  EXPECT_EQ(ByteaArrayParam({std::string_view("\x00\xff", 2), ""}), R"({"\\x00ff","\\x"})");
}

TEST(SqlTextTest, NumbersPlaceholdersRowByRow) {
  EXPECT_EQ(ValuesPlaceholders(2, {"::bytea", "", "::text"}),
            "($1::bytea,$2,$3::text),($4::bytea,$5,$6::text)");
  EXPECT_EQ(ValuesPlaceholders(1, {"", ""}, 7), "($7,$8)");
  EXPECT_EQ(ValuesPlaceholders(0, {""}), "");
}

}  // namespace
}  // namespace keyline::store
