#include "cli/revoke_counts.h"

#include <gtest/gtest.h>

namespace keyline::cli {
namespace {

keyline::v1::RevokeResponse Listing(std::initializer_list<const char*> issuers) {
  keyline::v1::RevokeResponse response;
  for (const char* issuer : issuers) response.add_revoked()->set_issuer(issuer);
  return response;
}

TEST(RevokeCountsTest, TheCountsCoverWhatTheListLeavesOut) {
  keyline::v1::RevokeResponse response = Listing({"deployment/icu", "operators"});
  response.set_revoked_count(25'000);
  (*response.mutable_revoked_by_issuer())["deployment/icu"] = 24'999;
  (*response.mutable_revoked_by_issuer())["operators"] = 1;
  EXPECT_EQ(RevokedCount(response), 25'000);
  EXPECT_EQ(UnlistedCount(response), 24'998);
  EXPECT_EQ(RevokedByIssuer(response),
            (std::map<std::string, int64_t>{{"deployment/icu", 24'999}, {"operators", 1}}));
}

TEST(RevokeCountsTest, AServerOlderThanTheCountsListsEverything) {
  const keyline::v1::RevokeResponse response =
      Listing({"deployment/icu", "deployment/icu", "operators"});
  EXPECT_EQ(RevokedCount(response), 3);
  EXPECT_EQ(UnlistedCount(response), 0);
  EXPECT_EQ(RevokedByIssuer(response),
            (std::map<std::string, int64_t>{{"deployment/icu", 2}, {"operators", 1}}));
}

}  // namespace
}  // namespace keyline::cli
