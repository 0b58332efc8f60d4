#include "ca/revocation_reason.h"

#include <gtest/gtest.h>

namespace keyline::ca {
namespace {

TEST(RevocationReasonTest, ParsesRfc5280NamesCaseInsensitively) {
  EXPECT_EQ(*ParseRevocationReason("keyCompromise"), kKeyCompromise);
  EXPECT_EQ(*ParseRevocationReason("KEYCOMPROMISE"), kKeyCompromise);
  EXPECT_EQ(*ParseRevocationReason("cessationOfOperation"), kCessationOfOperation);
  EXPECT_EQ(*ParseRevocationReason("privilegeWithdrawn"), kPrivilegeWithdrawn);
  EXPECT_EQ(*ParseRevocationReason(""), kUnspecified);
}

TEST(RevocationReasonTest, RefusesUnknownNamesNamingTheField) {
  const auto parsed = ParseRevocationReason("stolen", "targets[2].reason");
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("targets[2].reason: unknown reason \"stolen\""),
            std::string_view::npos);
  EXPECT_NE(parsed.status().message().find("keyCompromise"), std::string_view::npos);
}

TEST(RevocationReasonTest, RefusesHoldAndRemoveFromCrl) {
  EXPECT_EQ(ParseRevocationReason("certificateHold").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRevocationReason("removeFromCRL").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsRevocationReasonAllowed(7));
  EXPECT_FALSE(IsRevocationReasonAllowed(11));
  EXPECT_FALSE(IsRevocationReasonAllowed(-1));
}

TEST(RevocationReasonTest, NamesRoundTrip) {
  for (int code = 0; code <= 10; ++code) {
    if (!IsRevocationReasonAllowed(code)) continue;
    EXPECT_EQ(*ParseRevocationReason(RevocationReasonName(code)), code);
  }
  EXPECT_EQ(RevocationReasonName(7), "unknown");
}

}  // namespace
}  // namespace keyline::ca
