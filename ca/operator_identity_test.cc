#include "ca/operator_identity.h"

#include <gtest/gtest.h>

namespace keyline::ca {
namespace {

TEST(OperatorIdentityTest, RoundTripsEveryRole) {
  for (OperatorRole role : {OperatorRole::kAdmin, OperatorRole::kFactory, OperatorRole::kGateway}) {
    const std::string uri = OperatorUri(role, "line-3");
    auto parsed = ParseOperatorUri(uri);
    ASSERT_TRUE(parsed.ok()) << uri;
    EXPECT_EQ(parsed->role, role);
    EXPECT_EQ(parsed->name, "line-3");
  }
  EXPECT_EQ(OperatorUri(OperatorRole::kFactory, "line-3"), "urn:keyline:role:factory:line-3");
}

TEST(OperatorIdentityTest, ParsesRoleNames) {
  EXPECT_EQ(*ParseOperatorRole("gateway"), OperatorRole::kGateway);
  const auto unknown = ParseOperatorRole("root");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(unknown.status().message()).find("role: unknown role 'root'"),
            std::string::npos);
}

TEST(OperatorIdentityTest, ValidatesNames) {
  EXPECT_TRUE(ValidateOperatorName("a").ok());
  EXPECT_TRUE(ValidateOperatorName("line_3.east-1").ok());
  EXPECT_TRUE(ValidateOperatorName(std::string(64, 'x')).ok());
  EXPECT_EQ(ValidateOperatorName("").message(), "name: empty");
  EXPECT_FALSE(ValidateOperatorName(std::string(65, 'x')).ok());
  EXPECT_FALSE(ValidateOperatorName("-leading").ok());
  EXPECT_FALSE(ValidateOperatorName("Upper").ok());
  EXPECT_FALSE(ValidateOperatorName("with:colon").ok());
  EXPECT_FALSE(ValidateOperatorName("with space").ok());
  EXPECT_FALSE(ValidateOperatorName("caf\xc3\xa9").ok());
}

TEST(OperatorIdentityTest, RejectsOtherUris) {
  EXPECT_FALSE(ParseOperatorUri("urn:keyline:default:device:SN1").ok());
  EXPECT_FALSE(ParseOperatorUri("urn:keyline:role:admin").ok());
  EXPECT_FALSE(ParseOperatorUri("urn:keyline:role:root:x").ok());
  EXPECT_FALSE(ParseOperatorUri("urn:keyline:role:admin:a:b").ok());
}

}  // namespace
}  // namespace keyline::ca
