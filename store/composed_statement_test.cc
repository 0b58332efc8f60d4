#include "store/composed_statement.h"

#include <gtest/gtest.h>

namespace keyline::store {
namespace {

TEST(RenumberParamsTest, RaisesEveryReferenceByTheOffset) {
  EXPECT_EQ(RenumberParams("UPDATE t SET a = $1 WHERE b = ANY ($2::text[]) AND c = $1", 3),
            "UPDATE t SET a = $4 WHERE b = ANY ($5::text[]) AND c = $4");
  EXPECT_EQ(RenumberParams("SELECT $9, $10, $12", 90), "SELECT $99, $100, $102");
  EXPECT_EQ(RenumberParams("SELECT $1", 0), "SELECT $1");
}

TEST(RenumberParamsTest, LeavesQuotedTextAndLoneDollarsAlone) {
  EXPECT_EQ(RenumberParams("SELECT '$1', \"$2\", $3, 'it''s $4', $", 10),
            "SELECT '$1', \"$2\", $13, 'it''s $4', $");
}

TEST(ComposedStatementTest, NumbersEachClauseAfterTheOnesBefore) {
  ComposedStatement statement;
  EXPECT_TRUE(statement.empty());
  EXPECT_EQ(statement.Sql("SELECT 1"), "SELECT 1");
  statement.With("first", "INSERT INTO a SELECT * FROM unnest($1::text[], $2::int[])", {"x", "y"});
  statement.With("second", "UPDATE b SET s = 'done' WHERE k = ANY ($1::text[])", {"z"});
  EXPECT_FALSE(statement.empty());
  EXPECT_EQ(statement.Sql("SELECT 2"),
            "WITH first AS (INSERT INTO a SELECT * FROM unnest($1::text[], $2::int[])), "
            "second AS (UPDATE b SET s = 'done' WHERE k = ANY ($3::text[])) SELECT 2");
  EXPECT_EQ(statement.Name("issuance.write"), "issuance.write:first,second");
}

}  // namespace
}  // namespace keyline::store
