#include "ocsp/fresh_signature_budget.h"

#include <gtest/gtest.h>

namespace keyline::ocsp {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1790000000);

TEST(FreshSignatureBudgetTest, OneSecondsWorthThenWhatTimeRefills) {
  FreshSignatureBudget budget(3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.TryTake(kStart)) << i;
  EXPECT_FALSE(budget.TryTake(kStart));
  // Half a second later: 1.5 signatures, one whole.
  EXPECT_TRUE(budget.TryTake(kStart + absl::Milliseconds(500)));
  EXPECT_FALSE(budget.TryTake(kStart + absl::Milliseconds(500)));
  // A long pause saves up no more than one second's worth.
  const absl::Time later = kStart + absl::Minutes(10);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(budget.TryTake(later)) << i;
  EXPECT_FALSE(budget.TryTake(later));
}

TEST(FreshSignatureBudgetTest, AThreadWhoseClockLagsALittleRefillsNothing) {
  FreshSignatureBudget budget(1);
  EXPECT_TRUE(budget.TryTake(kStart + absl::Milliseconds(5'500)));
  EXPECT_FALSE(budget.TryTake(kStart + absl::Seconds(5)));
  EXPECT_FALSE(budget.TryTake(kStart + absl::Milliseconds(5'500)));
  EXPECT_TRUE(budget.TryTake(kStart + absl::Milliseconds(6'500)));
}

TEST(FreshSignatureBudgetTest, AClockSteppedBackRefillsFromItsNewTime) {
  FreshSignatureBudget budget(1);
  const absl::Time before_step = kStart + absl::Hours(1);
  EXPECT_TRUE(budget.TryTake(before_step));
  EXPECT_FALSE(budget.TryTake(before_step));
  // An hour back: the budget does not wait an hour to refill.
  EXPECT_FALSE(budget.TryTake(kStart));
  EXPECT_TRUE(budget.TryTake(kStart + absl::Seconds(1)));
}

TEST(FreshSignatureBudgetTest, ZeroMeansNoLimit) {
  FreshSignatureBudget budget(0);
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(budget.TryTake(kStart)) << i;
}

}  // namespace
}  // namespace keyline::ocsp
