#include "provisioning/begun_challenges.h"

#include <gtest/gtest.h>

namespace keyline::provisioning {
namespace {

store::ChallengeWithDevice Snapshot(int number) {
  store::ChallengeWithDevice snapshot;
  snapshot.challenge.id = "challenge-" + std::to_string(number);
  snapshot.challenge.device_serial = "SN-" + std::to_string(number);
  snapshot.device.device.serial = snapshot.challenge.device_serial;
  return snapshot;
}

TEST(BegunChallengesTest, ASnapshotIsTakenOnce) {
  BegunChallenges begun(8);
  begun.Put(Snapshot(1));
  begun.Put(Snapshot(2));
  auto taken = begun.Take("challenge-1");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->challenge.device_serial, "SN-1");
  EXPECT_EQ(taken->device.device.serial, "SN-1");
  EXPECT_FALSE(begun.Take("challenge-1").has_value());  // a retry reads the database
  EXPECT_FALSE(begun.Take("never-handed-out").has_value());
  EXPECT_EQ(begun.size(), 1u);
}

TEST(BegunChallengesTest, WhenFullTheOldestGoFirst) {
  BegunChallenges begun(4);
  for (int i = 0; i < 10; ++i) begun.Put(Snapshot(i));
  EXPECT_EQ(begun.size(), 4u);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(begun.Take("challenge-" + std::to_string(i))) << i;
  for (int i = 6; i < 10; ++i) EXPECT_TRUE(begun.Take("challenge-" + std::to_string(i))) << i;
  // Taken entries do not make room early: the ring still turns one slot per Put.
  begun.Put(Snapshot(10));
  EXPECT_TRUE(begun.Take("challenge-10"));
  EXPECT_EQ(begun.size(), 0u);
}

}  // namespace
}  // namespace keyline::provisioning
