// BeginEnrollment hands one device at most enrollment.challenges_per_device challenges, one more
// every challenge_refill_seconds (provisioning/challenge_allowance.h): a device's public
// attestation certificate is not a licence to fill the challenges table.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/support/fleet.h"
#include "tests/support/relying_party.h"

namespace keyline {
namespace {

using testing::Fleet;
using testing::SimulatedDevice;

constexpr int kPerDevice = 3;

class ChallengeAllowanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::KeylineEnvironment::Options options;
    // An hour's refill: nothing comes back while the test runs, however slow the machine.
    options.extra_yaml = absl::StrCat("enrollment: {challenges_per_device: ", kPerDevice,
                                      ", challenge_refill_seconds: 3600}\n");
    auto fleet = Fleet::Create(options, "allowance-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  static SimulatedDevice ClaimedDevice(const std::string& prefix) {
    auto devices = fleet_->ManufactureAndClaim(prefix, 1);
    EXPECT_TRUE(devices.ok()) << devices.status();
    return std::move((*devices)[0]);
  }

  static int64_t ChallengesOf(const SimulatedDevice& device) {
    return fleet_->Count(absl::StrCat("SELECT count(*) FROM challenges WHERE device_serial = '",
                                      device.serial, "'"));
  }

  // keyline_enrollment_challenges_refused_total from /metrics; -1 if it is not there.
  static int64_t RefusalsCounted() {
    const auto reply = testing::HttpGet(fleet_->environment().status_url() + "/metrics");
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return -1;
    // The sample's line, not the HELP and TYPE lines that name the metric too.
    const std::string prefix = "\nkeyline_enrollment_challenges_refused_total ";
    const size_t at = reply->body.find(prefix);
    if (at == std::string::npos) return -1;
    const size_t start = at + prefix.size();
    int64_t value = -1;
    if (!absl::SimpleAtoi(reply->body.substr(start, reply->body.find('\n', start) - start),
                          &value)) {
      return -1;
    }
    return value;
  }

  static Fleet* fleet_;
};

Fleet* ChallengeAllowanceTest::fleet_ = nullptr;

TEST_F(ChallengeAllowanceTest, ADeviceIsHandedItsAllowanceAndNoMore) {
  SimulatedDevice device = ClaimedDevice("capped");
  std::vector<keyline::v1::Challenge> challenges;
  for (int i = 0; i < kPerDevice; ++i) {
    auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
    ASSERT_TRUE(challenge.ok()) << i << ": " << challenge.status();
    challenges.push_back(*challenge);
  }
  ASSERT_EQ(ChallengesOf(device), kPerDevice);

  const int64_t refusals_before = RefusalsCounted();
  ASSERT_GE(refusals_before, 0);
  for (int i = 0; i < 5; ++i) {
    auto refused = testing::BeginEnrollment(fleet_->Anonymous(), device);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
    EXPECT_NE(refused.status().message().find(
                  absl::StrCat("device_serial: device ", device.serial, " was handed its 3")),
              std::string::npos)
        << refused.status();
    EXPECT_NE(refused.status().message().find("retry in "), std::string::npos) << refused.status();
  }
  EXPECT_EQ(ChallengesOf(device), kPerDevice);
  EXPECT_EQ(RefusalsCounted(), refusals_before + 5);

  // Another device has an allowance of its own, and so has a gateway relaying for this one.
  SimulatedDevice other = ClaimedDevice("uncapped");
  EXPECT_TRUE(testing::BeginEnrollment(fleet_->Anonymous(), other).ok());
  auto relayed = testing::BeginEnrollment(fleet_->Gateway(), device);
  EXPECT_TRUE(relayed.ok()) << relayed.status();

  // A challenge already handed out still completes.
  keyline::v1::EnrollmentResponse response;
  const grpc::Status completed = testing::Complete(
      fleet_->Anonymous(), device, fleet_->secure_element(), challenges.back(), {}, &response);
  EXPECT_TRUE(completed.ok()) << completed.error_message();
  EXPECT_TRUE(response.has_certificate());
}

TEST_F(ChallengeAllowanceTest, RequestsInFlightTogetherCannotPassTheCap) {
  SimulatedDevice device = ClaimedDevice("burst");
  constexpr int kRequests = 24;
  // Connected first, then released together: the requests reach the server within a millisecond
  // or so, before the first of them is answered.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kRequests; ++i) {
    channels.push_back(fleet_->Anonymous());
    ASSERT_TRUE(
        channels.back()->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(30))));
  }
  std::atomic<int> handed{0}, refused{0}, other{0}, ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kRequests) std::this_thread::yield();
      auto challenge = testing::BeginEnrollment(channels[i], device);
      if (challenge.ok()) {
        ++handed;
      } else if (challenge.status().code() == absl::StatusCode::kResourceExhausted) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(handed.load(), kPerDevice);
  EXPECT_EQ(refused.load(), kRequests - kPerDevice);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ChallengesOf(device), kPerDevice);
}

TEST_F(ChallengeAllowanceTest, RefusedRequestsUseNoneOfTheAllowance) {
  SimulatedDevice device = ClaimedDevice("target");
  // Somebody naming the device with another device's attestation chain is refused by the chain
  // check, however often: the real device's allowance stays whole.
  SimulatedDevice impostor = ClaimedDevice("impostor");
  impostor.serial = device.serial;
  for (int i = 0; i < kPerDevice + 2; ++i) {
    auto refused = testing::BeginEnrollment(fleet_->Anonymous(), impostor);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
    EXPECT_NE(refused.status().message().find("attestation_chain: not the attestation key"),
              std::string::npos)
        << refused.status();
  }
  EXPECT_EQ(ChallengesOf(device), 0);
  for (int i = 0; i < kPerDevice; ++i) {
    auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
    EXPECT_TRUE(challenge.ok()) << i << ": " << challenge.status();
  }

  // An unknown serial is never handed anything, so it is always NOT_FOUND.
  SimulatedDevice unknown = ClaimedDevice("known");
  unknown.serial = "never-made-7";
  for (int i = 0; i < kPerDevice + 2; ++i) {
    EXPECT_EQ(testing::BeginEnrollment(fleet_->Anonymous(), unknown).status().code(),
              absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace keyline
