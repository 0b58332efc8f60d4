// /readyz tells a load balancer whether this replica's certificate status is current. A replica
// cut off from PostgreSQL keeps answering OCSP from memory, and would keep saying `good` for a
// certificate revoked through another replica: it reports 503 until it is back in step.
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "tests/support/keyline_environment.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/relying_party.h"

namespace keyline {
namespace {

TEST(StatusReadinessTest, AReplicaCutOffFromTheDatabaseIsNotReadyUntilItIsBackInStep) {
  testing::KeylineEnvironment::Options options;
  options.status_yaml = "  resync_interval_seconds: 1\n";
  auto environment = testing::KeylineEnvironment::Create(options);
  ASSERT_TRUE(environment.ok()) << environment.status();
  ASSERT_TRUE((*environment)->StartServer().ok());
  auto cluster = testing::SharedPostgresCluster();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string database = (*environment)->database().name;
  const std::string url = (*environment)->status_url() + "/readyz";
  const auto wait_for = [&](int status) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    int last = 0;
    do {
      const auto reply = testing::HttpGet(url);
      last = reply.ok() ? reply->status : -1;
      if (last == status) return true;
      absl::SleepFor(absl::Milliseconds(200));
    } while (absl::Now() < deadline);
    ADD_FAILURE() << "/readyz answered " << last << ", not " << status;
    return false;
  };
  ASSERT_TRUE(wait_for(200));

  ASSERT_TRUE((*cluster)
                  ->ExecuteAsSuperuser(database,
                                       "REVOKE CONNECT ON DATABASE \"" + database +
                                           "\" FROM PUBLIC; "
                                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                           "WHERE datname = current_database() AND "
                                           "pid <> pg_backend_pid()")
                  .ok());
  EXPECT_TRUE(wait_for(503));
  const auto health = testing::HttpGet((*environment)->status_url() + "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);  // alive, only not current

  ASSERT_TRUE(
      (*cluster)
          ->ExecuteAsSuperuser(database, "GRANT CONNECT ON DATABASE \"" + database + "\" TO PUBLIC")
          .ok());
  EXPECT_TRUE(wait_for(200));
}

}  // namespace
}  // namespace keyline
