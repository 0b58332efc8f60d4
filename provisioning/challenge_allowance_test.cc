#include "provisioning/challenge_allowance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace keyline::provisioning {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// Hands `serial` challenges at `now` for as long as it is allowed; returns how many.
int HandOutUntilRefused(ChallengeAllowance& allowance, std::string_view serial, absl::Time now) {
  int handed = 0;
  while (allowance.Allows(serial, now).ok() && handed < 1000) {
    allowance.Record(serial, now);
    ++handed;
  }
  return handed;
}

TEST(ChallengeAllowanceTest, ADeviceGetsItsAllowanceThenOneMorePerRefill) {
  ChallengeAllowance allowance({.per_device = 3, .refill = absl::Seconds(30)});
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-1", kStart), 3);

  const absl::Status refused = allowance.Allows("SN-1", kStart);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("device_serial: device SN-1"));
  EXPECT_THAT(refused.message(), HasSubstr("retry in 30 s"));
  EXPECT_THAT(allowance.Allows("SN-1", kStart + absl::Seconds(20)).message(),
              HasSubstr("retry in 10 s"));

  // One refill later, one more; a whole allowance after three.
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-1", kStart + absl::Seconds(30)), 1);
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-1", kStart + absl::Seconds(59)), 0);
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-1", kStart + absl::Seconds(150)), 3);
}

TEST(ChallengeAllowanceTest, DevicesHaveAllowancesOfTheirOwn) {
  ChallengeAllowance allowance({.per_device = 2, .refill = absl::Seconds(30)});
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-1", kStart), 2);
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-2", kStart), 2);
  EXPECT_FALSE(allowance.Allows("SN-1", kStart).ok());
}

TEST(ChallengeAllowanceTest, AskingUsesNothing) {
  ChallengeAllowance allowance({.per_device = 1, .refill = absl::Hours(1)});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(allowance.Allows("SN-1", kStart).ok());
  EXPECT_EQ(allowance.tracked(), 0u);
  allowance.Record("SN-1", kStart);
  EXPECT_FALSE(allowance.Allows("SN-1", kStart).ok());
}

TEST(ChallengeAllowanceTest, ChallengesInFlightPastTheCapAreForgiven) {
  // Three requests allowed at once, all recorded: the device is one past its cap of two, yet
  // waits one refill for the next, as a device exactly at its cap would.
  ChallengeAllowance allowance({.per_device = 2, .refill = absl::Seconds(30)});
  for (int i = 0; i < 3; ++i) allowance.Record("SN-1", kStart);
  EXPECT_FALSE(allowance.Allows("SN-1", kStart + absl::Seconds(29)).ok());
  EXPECT_TRUE(allowance.Allows("SN-1", kStart + absl::Seconds(30)).ok());
}

TEST(ChallengeAllowanceTest, AClockSteppedBackCostsOneRefillNotTheStep) {
  ChallengeAllowance allowance({.per_device = 2, .refill = absl::Seconds(30)});
  EXPECT_EQ(HandOutUntilRefused(allowance, "SN-1", kStart), 2);
  const absl::Time stepped_back = kStart - absl::Hours(2);
  EXPECT_THAT(allowance.Allows("SN-1", stepped_back).message(), HasSubstr("retry in 30 s"));
  EXPECT_TRUE(allowance.Allows("SN-1", stepped_back + absl::Seconds(30)).ok());
}

TEST(ChallengeAllowanceTest, WholeAllowancesAreForgottenAsTheTableGrows) {
  ChallengeAllowance allowance({.per_device = 5, .refill = absl::Seconds(1)});
  for (int i = 0; i < 1000; ++i) allowance.Record(absl::StrCat("old-", i), kStart);
  EXPECT_EQ(allowance.tracked(), 1000u);
  // Long after, the old devices' allowances are whole: a growing table sheds them.
  const absl::Time later = kStart + absl::Minutes(5);
  for (int i = 0; i < 100; ++i) allowance.Record(absl::StrCat("new-", i), later);
  EXPECT_LT(allowance.tracked(), 1000u);
  // A device still short of its allowance is kept.
  EXPECT_EQ(HandOutUntilRefused(allowance, "new-1", later), 4);
}

}  // namespace
}  // namespace keyline::provisioning
