#include "provisioning/challenge_allowance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace keyline::provisioning {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

constexpr std::string_view kAnonymous = "device";

// Takes challenges of `serial`'s allowance at `now` for as long as it is allowed; returns how
// many.
int TakeUntilRefused(ChallengeAllowance& allowance, std::string_view serial, absl::Time now,
                     std::string_view requester = kAnonymous) {
  int taken = 0;
  while (taken < 1000 && allowance.Take(serial, requester, now).ok()) ++taken;
  return taken;
}

TEST(ChallengeAllowanceTest, ADeviceGetsItsAllowanceThenOneMorePerRefill) {
  ChallengeAllowance allowance({.per_device = 3, .refill = absl::Seconds(30)});
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart), 3);

  const absl::Status refused = allowance.Take("SN-1", kAnonymous, kStart);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("device_serial: device SN-1 was handed its 3"));
  EXPECT_THAT(refused.message(), HasSubstr("retry in 30 s"));
  EXPECT_THAT(allowance.Take("SN-1", kAnonymous, kStart + absl::Seconds(20)).message(),
              HasSubstr("retry in 10 s"));
  EXPECT_THAT(allowance.Take("SN-1", kAnonymous, kStart + absl::Milliseconds(29'500)).message(),
              HasSubstr("retry in 1 s"));

  // One refill later, one more; a whole allowance after three.
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart + absl::Seconds(30)), 1);
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart + absl::Seconds(59)), 0);
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart + absl::Seconds(150)), 3);
}

TEST(ChallengeAllowanceTest, DevicesAndRequestersHaveAllowancesOfTheirOwn) {
  ChallengeAllowance allowance({.per_device = 2, .refill = absl::Seconds(30)});
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart), 2);
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-2", kStart), 2);
  // The device renewing over mTLS, and a gateway relaying for it, are not held to what anonymous
  // callers took.
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart, "keyline:device:default:SN-1"), 2);
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart, "keyline:operator:gateway:gw-1"), 2);
  EXPECT_FALSE(allowance.Take("SN-1", kAnonymous, kStart).ok());
  // A serial and a requester cannot run together into another pair's key.
  EXPECT_EQ(TakeUntilRefused(allowance, "1", kStart, "deviceSN-"), 2);
}

TEST(ChallengeAllowanceTest, AChallengeGivenBackIsTakenAgain) {
  ChallengeAllowance allowance({.per_device = 2, .refill = absl::Hours(1)});
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(allowance.Take("SN-1", kAnonymous, kStart).ok()) << i;
    allowance.GiveBack("SN-1", kAnonymous, kStart);
  }
  EXPECT_EQ(allowance.tracked(), 0u);  // a whole allowance is forgotten at once
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart), 2);
  allowance.GiveBack("SN-1", kAnonymous, kStart);
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart), 1);
  // Giving back what was never taken gives nothing.
  allowance.GiveBack("SN-9", kAnonymous, kStart);
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-9", kStart), 2);
}

TEST(ChallengeAllowanceTest, AClockSteppedBackCostsOneRefillNotTheStep) {
  ChallengeAllowance allowance({.per_device = 2, .refill = absl::Seconds(30)});
  EXPECT_EQ(TakeUntilRefused(allowance, "SN-1", kStart), 2);
  const absl::Time stepped_back = kStart - absl::Hours(2);
  EXPECT_THAT(allowance.Take("SN-1", kAnonymous, stepped_back).message(),
              HasSubstr("retry in 30 s"));
  EXPECT_TRUE(allowance.Take("SN-1", kAnonymous, stepped_back + absl::Seconds(30)).ok());
}

TEST(ChallengeAllowanceTest, WholeAllowancesAreForgottenAsTheTableGrows) {
  ChallengeAllowance allowance({.per_device = 5, .refill = absl::Seconds(1)});
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(allowance.Take(absl::StrCat("old-", i), kAnonymous, kStart).ok());
  }
  EXPECT_EQ(allowance.tracked(), 1000u);
  // Long after, the old devices' allowances are whole: a growing table sheds them.
  const absl::Time later = kStart + absl::Minutes(5);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(allowance.Take(absl::StrCat("new-", i), kAnonymous, later).ok());
  }
  EXPECT_LT(allowance.tracked(), 1000u);
  // A device still short of its allowance is kept.
  EXPECT_EQ(TakeUntilRefused(allowance, "new-1", later), 4);
}

}  // namespace
}  // namespace keyline::provisioning
