#include "server/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace keyline::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/keyline-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    for (const char* name : {"KEYLINE_DATABASE_URL", "KEYLINE_GRPC_LISTEN", "KEYLINE_STATE_DIR",
                             "KEYLINE_HSM_PIN_SOURCE", "KEYLINE_PUBLIC_BASE_URL"}) {
      unsetenv(name);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& yaml) {
    const std::string path = dir_ + "/keyline.yaml";
    std::ofstream(path) << yaml;
    return path;
  }

  std::string dir_;
};

TEST_F(ConfigTest, DefaultsAreSafe) {
  auto config = LoadConfig("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->grpc.listen, "127.0.0.1:8443");
  EXPECT_EQ(config->hsm.pin_source, "file:hsm/user.pin");
  EXPECT_EQ(config->ca.deployments, std::vector<std::string>{"default"});
  EXPECT_EQ(config->profiles.device_validity, absl::Hours(24 * 30));
}

TEST_F(ConfigTest, ReadsEverySectionAndResolvesPathsAgainstTheFile) {
  auto config = LoadConfig(Write(R"(
state_dir: state
organization: St. Example Hospital
public_base_url: http://pki.example:8080
hsm: {module: /opt/hsm.so, token: t1, pin_source: "file:pins/user.pin", sessions: 4}
database: {url: "dbname=k user=app", migration_url: "dbname=k user=owner", pool_size: 3}
grpc: {listen: "0.0.0.0:9443", server_names: [pki.example], server_ips: []}
ca: {deployments: [icu, ward-7], manufacturers: [acme], device_validity_days: 7}
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->profiles.organization, "St. Example Hospital");
  EXPECT_EQ(config->hsm.module, "/opt/hsm.so");
  EXPECT_EQ(config->hsm.sessions, 4u);
  EXPECT_EQ(config->database.pool_size, 3u);
  EXPECT_EQ(config->ca.deployments, (std::vector<std::string>{"icu", "ward-7"}));
  EXPECT_EQ(config->profiles.device_validity, absl::Hours(24 * 7));
  EXPECT_EQ(config->StatePath("tls"), dir_ + "/state/tls");
  EXPECT_EQ(config->ResolvePinSource(config->hsm.pin_source), "file:" + dir_ + "/state/pins/user.pin");
  EXPECT_EQ(config->ResolvePinSource("env:PIN"), "env:PIN");
  EXPECT_EQ(config->StatePath("/abs/x"), "/abs/x");
}

TEST_F(ConfigTest, ReadsTheGroupCommitWaitAndTarget) {
  auto defaults = LoadConfig(Write("organization: x\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->database.group_commit_wait, std::chrono::microseconds(1000));
  EXPECT_EQ(defaults->database.group_commit_target, 16u);
  auto set =
      LoadConfig(Write("database: {group_commit_wait_microseconds: 0, group_commit_target: 32}\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->database.group_commit_wait, std::chrono::microseconds(0));
  EXPECT_EQ(set->database.group_commit_target, 32u);
}

TEST_F(ConfigTest, RejectsAGroupCommitWaitOrTargetOutOfRange) {
  const auto message = [this](const std::string& yaml) {
    const auto config = LoadConfig(Write(yaml));
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << yaml;
    return std::string(config.status().message());
  };
  EXPECT_EQ(message("database: {group_commit_wait_microseconds: 100001}\n"),
            "database.group_commit_wait_microseconds: must be 0 to 100000 microseconds");
  EXPECT_EQ(message("database: {group_commit_wait_microseconds: -1}\n"),
            "database.group_commit_wait_microseconds: must be 0 to 100000 microseconds");
  EXPECT_EQ(message("database: {group_commit_wait_microseconds: soon}\n"),
            "database.group_commit_wait_microseconds: not a number of microseconds");
  EXPECT_EQ(message("database: {group_commit_target: 0}\n"),
            "database.group_commit_target: must be 1 to 512 rows");
  EXPECT_EQ(message("database: {group_commit_target: 513}\n"),
            "database.group_commit_target: must be 1 to 512 rows");
}

TEST_F(ConfigTest, ReadsTheGrpcMemoryLimit) {
  auto defaults = LoadConfig(Write("organization: x\n"));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->grpc.memory_limit_megabytes, 256);
  auto set = LoadConfig(Write("grpc: {memory_limit_mb: 1024}\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->grpc.memory_limit_megabytes, 1024);
}

TEST_F(ConfigTest, RejectsAGrpcMemoryLimitThatCannotHoldTwoLargestMessages) {
  const auto message = [this](const std::string& yaml) {
    const auto config = LoadConfig(Write(yaml));
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << yaml;
    return std::string(config.status().message());
  };
  EXPECT_EQ(message("grpc: {memory_limit_mb: 127}\n"),
            "grpc.memory_limit_mb: must be 128 to 1048576 MiB");
  EXPECT_EQ(message("grpc: {memory_limit_mb: plenty}\n"),
            "grpc.memory_limit_mb: not a number of MiB");
}

TEST_F(ConfigTest, EnvironmentOverridesTheFile) {
  setenv("KEYLINE_DATABASE_URL", "dbname=from-env", 1);
  setenv("KEYLINE_GRPC_LISTEN", "127.0.0.1:0", 1);
  auto config = LoadConfig(Write("database: {url: from-file}\n"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->database.url, "dbname=from-env");
  EXPECT_EQ(config->grpc.listen, "127.0.0.1:0");
}

TEST_F(ConfigTest, AcceptsAPkcs11UriForTheToken) {
  auto config = LoadConfig(Write(
      "hsm: {token: \"pkcs11:token=prod%20ca?module-path=/usr/lib/vendor.so&pin-source=env:HSM_PIN\"}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hsm.token, "prod ca");
  EXPECT_EQ(config->hsm.module, "/usr/lib/vendor.so");
  EXPECT_EQ(config->hsm.pin_source, "env:HSM_PIN");
}

TEST_F(ConfigTest, RejectsUnknownKeysNamingThem) {
  auto top = LoadConfig(Write("listen: 1\n"));
  EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(top.status().message()).find("listen: unknown key"), std::string::npos);
  auto nested = LoadConfig(Write("hsm: {pin: 1234}\n"));
  EXPECT_NE(std::string(nested.status().message()).find("hsm.pin: unknown key"),
            std::string::npos)
      << nested.status();
}

TEST_F(ConfigTest, RejectsBadValues) {
  EXPECT_NE(std::string(LoadConfig(Write("ca: {device_validity_days: 0}\n")).status().message())
                .find("ca.device_validity_days"),
            std::string::npos);
  EXPECT_NE(std::string(LoadConfig(Write("database: {pool_size: lots}\n")).status().message())
                .find("database.pool_size"),
            std::string::npos);
  EXPECT_NE(std::string(LoadConfig(Write("ca: {deployments: [\"a/b\"]}\n")).status().message())
                .find("ca.deployments"),
            std::string::npos);
  EXPECT_NE(std::string(LoadConfig(Write("public_base_url: ftp://x\n")).status().message())
                .find("public_base_url"),
            std::string::npos);
  EXPECT_FALSE(LoadConfig(Write("hsm: {token: \"pkcs11:bogus=1\"}\n")).ok());
  EXPECT_EQ(LoadConfig(dir_ + "/missing.yaml").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LoadConfig(Write("hsm: [unclosed\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyline::server

namespace keyline::server {
namespace {

TEST_F(ConfigTest, OcspCacheResponses) {
  auto defaults = LoadConfig("");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->status.ocsp_cache_responses, 100'000u);
  auto config = LoadConfig(Write("status: {ocsp_cache_responses: 250000}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->status.ocsp_cache_responses, 250'000u);
  for (const char* yaml :
       {"status: {ocsp_cache_responses: 0}\n", "status: {ocsp_cache_responses: 20000000}\n"}) {
    EXPECT_NE(std::string(LoadConfig(Write(yaml)).status().message())
                  .find("status.ocsp_cache_responses: must be 1 to 10000000"),
              std::string::npos)
        << yaml;
  }
  EXPECT_NE(
      std::string(LoadConfig(Write("status: {ocsp_cache_responses: many}\n")).status().message())
          .find("status.ocsp_cache_responses: bad value"),
      std::string::npos);
}

TEST_F(ConfigTest, OcspFreshSignaturesPerSecond) {
  auto defaults = LoadConfig("");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->status.ocsp_fresh_signatures_per_second, 1000);
  for (int value : {0, 50000}) {
    auto config = LoadConfig(
        Write(absl::StrCat("status: {ocsp_fresh_signatures_per_second: ", value, "}\n")));
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->status.ocsp_fresh_signatures_per_second, value);
  }
  for (const char* yaml : {"status: {ocsp_fresh_signatures_per_second: -1}\n",
                           "status: {ocsp_fresh_signatures_per_second: 2000000}\n"}) {
    EXPECT_NE(std::string(LoadConfig(Write(yaml)).status().message())
                  .find("status.ocsp_fresh_signatures_per_second: must be 0 to 1000000"),
              std::string::npos)
        << yaml;
  }
  EXPECT_NE(std::string(LoadConfig(Write("status: {ocsp_fresh_signatures_per_second: lots}\n"))
                            .status()
                            .message())
                .find("status.ocsp_fresh_signatures_per_second: not a number"),
            std::string::npos);
}

TEST_F(ConfigTest, EnrollmentAndAuditSettings) {
  auto config = LoadConfig(Write(
      "enrollment: {challenge_lifetime_seconds: 30}\naudit: {checkpoint_interval_seconds: 2}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->enrollment.challenge_lifetime, absl::Seconds(30));
  EXPECT_EQ(config->audit.checkpoint_interval, absl::Seconds(2));
  EXPECT_EQ(config->audit.checkpoint_refresh, absl::Minutes(5));
  auto refresh = LoadConfig(Write("audit: {checkpoint_refresh_seconds: 5}\n"));
  ASSERT_TRUE(refresh.ok()) << refresh.status();
  EXPECT_EQ(refresh->audit.checkpoint_refresh, absl::Seconds(5));
  EXPECT_NE(
      std::string(LoadConfig(Write("audit: {checkpoint_refresh_seconds: 0}\n")).status().message())
          .find("audit.checkpoint_refresh_seconds: must be 1 to 604800"),
      std::string::npos);
  EXPECT_NE(std::string(LoadConfig(Write("enrollment: {challenge_lifetime_seconds: 1}\n"))
                            .status()
                            .message())
                .find("enrollment.challenge_lifetime_seconds: must be 5 to 3600"),
            std::string::npos);
}

TEST_F(ConfigTest, ChallengeAllowance) {
  auto defaults = LoadConfig(Write(""));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->enrollment.challenges_per_device, 10);
  EXPECT_EQ(defaults->enrollment.challenge_refill, absl::Seconds(30));

  auto config =
      LoadConfig(Write("enrollment: {challenges_per_device: 3, challenge_refill_seconds: 120}\n"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->enrollment.challenges_per_device, 3);
  EXPECT_EQ(config->enrollment.challenge_refill, absl::Seconds(120));

  for (const auto& [yaml, error] : std::vector<std::pair<std::string, std::string>>{
           {"enrollment: {challenges_per_device: 0}\n",
            "enrollment.challenges_per_device: must be 1 to 10000 challenges"},
           {"enrollment: {challenges_per_device: many}\n",
            "enrollment.challenges_per_device: not a number of challenges"},
           {"enrollment: {challenge_refill_seconds: 0}\n",
            "enrollment.challenge_refill_seconds: must be 1 to 86400 seconds"}}) {
    EXPECT_NE(std::string(LoadConfig(Write(yaml)).status().message()).find(error),
              std::string::npos)
        << yaml;
  }
}

}  // namespace
}  // namespace keyline::server
