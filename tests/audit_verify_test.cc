// The audit log cannot be changed unnoticed: after real operations and a signed checkpoint,
// `keylinectl audit verify` passes; then, as the database superuser (who can disable the
// append-only trigger), each kind of tampering is tried on its own Keyline and verify names it.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/fleet.h"

namespace keyline {
namespace {

class AuditVerifyTest : public ::testing::Test {
 protected:
  // A Keyline with some history: operators issued, devices manufactured, claimed and enrolled,
  // and at least one signed checkpoint covering all of it.
  static std::unique_ptr<testing::Fleet> FleetWithHistory() {
    testing::KeylineEnvironment::Options options;
    // The head is signed again every 2 s while nothing happens (a live server never leaves more
    // than about refresh + interval without a checkpoint).
    options.extra_yaml = "audit: {checkpoint_interval_seconds: 1, checkpoint_refresh_seconds: 2}\n";
    auto fleet = testing::Fleet::Create(options, absl::StrCat("audit-se-", counter_++));
    EXPECT_TRUE(fleet.ok()) << fleet.status();
    if (!fleet.ok()) return nullptr;
    auto devices = (*fleet)->Manufacture("audited", 3);
    EXPECT_TRUE(devices.ok());
    EXPECT_TRUE((*fleet)->Claim(*devices).ok());
    for (auto& device : *devices) {
      EXPECT_TRUE(testing::Enroll((*fleet)->Anonymous(), device, (*fleet)->secure_element()).ok());
    }
    const int64_t rows = (*fleet)->Count("SELECT max(seq) FROM audit_log");
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while ((*fleet)->Count("SELECT coalesce(max(seq), 0) FROM audit_checkpoints") < rows &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    EXPECT_EQ((*fleet)->Count("SELECT max(seq) FROM audit_checkpoints"), rows);
    return *std::move(fleet);
  }

  static testing::ProcessResult Verify(testing::Fleet& fleet) {
    auto result = fleet.environment().Keylinectl({"audit", "verify"});
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result : testing::ProcessResult{};
  }

  static void Tamper(testing::Fleet& fleet, const std::string& sql) {
    auto cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok());
    ASSERT_TRUE((*cluster)
                    ->ExecuteAsSuperuser(fleet.environment().database().name,
                                         "ALTER TABLE audit_log DISABLE TRIGGER USER; " + sql +
                                             "; ALTER TABLE audit_log ENABLE TRIGGER USER;")
                    .ok());
  }

  static inline int counter_ = 0;
};

TEST_F(AuditVerifyTest, IntactLogVerifies) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  const auto result = Verify(*fleet);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("intact"), std::string::npos) << result.out;
  auto tail = fleet->environment().Keylinectl({"audit", "tail", "-n", "3"});
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->exit_code, 0) << tail->err;
  EXPECT_NE(tail->out.find("device.enrolled"), std::string::npos) << tail->out;
}

TEST_F(AuditVerifyTest, AnUpdatedRowIsNamed) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  Tamper(*fleet, "UPDATE audit_log SET actor = 'urn:keyline:role:admin:nobody' WHERE seq = 5");
  const auto result = Verify(*fleet);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE((result.out + result.err).find("row 5"), std::string::npos) << result.out << result.err;
}

// A time the appender never writes, and one the row's hash cannot even be recomputed from.
TEST_F(AuditVerifyTest, ARowWhoseTimeIsInfinityIsNamed) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  Tamper(*fleet, "UPDATE audit_log SET occurred_at = 'infinity' WHERE seq = 5");
  const auto result = Verify(*fleet);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE((result.out + result.err).find("row 5: occurred_at is not a finite time"),
            std::string::npos)
      << result.out << result.err;
}

TEST_F(AuditVerifyTest, ADeletedRowIsNamed) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  Tamper(*fleet, "DELETE FROM audit_log WHERE seq = 6");
  const auto result = Verify(*fleet);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE((result.out + result.err).find("row 6"), std::string::npos) << result.out << result.err;
}

TEST_F(AuditVerifyTest, SwappedRowsAreNamed) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  // Rows 4 and 5 exchange everything but their position (through a copy).
  const std::string copy_from =
      "SET occurred_at = s.occurred_at, actor = s.actor, action = s.action, target = s.target, "
      "details = s.details, prev_hash = s.prev_hash, row_hash = s.row_hash FROM swapped s ";
  Tamper(*fleet,
         absl::StrCat("CREATE TEMP TABLE swapped AS SELECT * FROM audit_log WHERE seq IN (4, 5); ",
                      "UPDATE audit_log a ", copy_from, "WHERE a.seq = 5 AND s.seq = 4; ",
                      "UPDATE audit_log a ", copy_from, "WHERE a.seq = 4 AND s.seq = 5"));
  const auto result = Verify(*fleet);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE((result.out + result.err).find("row 4"), std::string::npos) << result.out << result.err;
}

TEST_F(AuditVerifyTest, TheTailDroppedAfterACheckpointIsNoticed) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  const int64_t last = fleet->Count("SELECT max(seq) FROM audit_log");
  Tamper(*fleet, absl::StrCat("DELETE FROM audit_log WHERE seq > ", last - 3));
  const auto result = Verify(*fleet);
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE((result.out + result.err).find(absl::StrCat(last - 3)), std::string::npos)
      << result.out << result.err;
}

// The checkpoints live in the database they vouch for: someone who drops the tail can drop the
// checkpoints covering it and move the head back, and the log then verifies as a shorter one. The
// head a verify printed, kept elsewhere and handed to a later verify, exposes it.
TEST_F(AuditVerifyTest, ATailDroppedWithItsCheckpointsIsNoticedAgainstTheRecordedHead) {
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  const auto before = Verify(*fleet);
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  const size_t at = before.out.find("head: ");
  ASSERT_NE(at, std::string::npos) << before.out;
  const std::string head = before.out.substr(at + 6, before.out.find(' ', at + 6) - at - 6);
  const int64_t last = fleet->Count("SELECT max(seq) FROM audit_log");
  EXPECT_EQ(head.substr(0, head.find(':')), std::to_string(last)) << head;

  auto cluster = testing::SharedPostgresCluster();
  ASSERT_TRUE(cluster.ok());
  const int64_t kept = last - 3;
  ASSERT_TRUE(
      (*cluster)
          ->ExecuteAsSuperuser(fleet->environment().database().name,
                               absl::StrCat("ALTER TABLE audit_log DISABLE TRIGGER USER; "
                                            "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; "
                                            "DELETE FROM audit_log WHERE seq > ",
                                            kept,
                                            "; "
                                            "DELETE FROM audit_checkpoints WHERE seq > ",
                                            kept,
                                            "; "
                                            "UPDATE audit_head SET seq = ",
                                            kept,
                                            ", row_hash = (SELECT "
                                            "row_hash FROM audit_log WHERE seq = ",
                                            kept,
                                            "); "
                                            "ALTER TABLE audit_checkpoints ENABLE TRIGGER USER; "
                                            "ALTER TABLE audit_log ENABLE TRIGGER USER;"))
          .ok());
  auto pinned = fleet->environment().Keylinectl({"audit", "verify", "--known-head", head});
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->exit_code, 1) << pinned->out << pinned->err;
  EXPECT_NE(pinned->err.find(absl::StrCat("rows after ", kept,
                                          " missing: the head was recorded "
                                          "at seq ",
                                          last)),
            std::string::npos)
      << pinned->out << pinned->err;

  auto malformed = fleet->environment().Keylinectl({"audit", "verify", "--known-head", "12"});
  ASSERT_TRUE(malformed.ok());
  EXPECT_NE(malformed->exit_code, 0);
  EXPECT_NE(malformed->err.find("--known-head"), std::string::npos) << malformed->err;
}

TEST_F(AuditVerifyTest, AStretchWithoutCheckpointsIsNoticedEvenAfterTheServerSignsAgain) {
  // Legitimately at most about 3 s apart (refresh 2 s + interval 1 s); 8 s leaves room for a busy
  // machine.
  const std::vector<std::string> every_8s = {"audit", "verify", "--max-checkpoint-gap", "8"};
  auto fleet = FleetWithHistory();
  ASSERT_TRUE(fleet);
  const int64_t last = fleet->Count("SELECT max(seq) FROM audit_log");
  // Waits until the server has signed `seq` in the last 2 s; false after 20 s.
  const auto signed_again = [&fleet](int64_t seq) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (fleet->Count(absl::StrCat("SELECT count(*) FROM audit_checkpoints WHERE seq = ", seq,
                                    " AND signed_at > now() - interval '2 seconds'")) > 0) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  };
  const auto superuser = [&fleet](const std::string& sql) {
    auto cluster = testing::SharedPostgresCluster();
    ASSERT_TRUE(cluster.ok());
    ASSERT_TRUE((*cluster)
                    ->ExecuteAsSuperuser(fleet->environment().database().name,
                                         "ALTER TABLE audit_log DISABLE TRIGGER USER; "
                                         "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER; " +
                                             sql +
                                             "; ALTER TABLE audit_checkpoints ENABLE TRIGGER USER; "
                                             "ALTER TABLE audit_log ENABLE TRIGGER USER;")
                    .ok());
  };

  // Idle, the server keeps signing the head: the newest checkpoint stays recent.
  absl::SleepFor(absl::Seconds(10));
  auto idle = fleet->environment().Keylinectl(every_8s);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->exit_code, 0) << idle->out << idle->err;
  EXPECT_GE(fleet->Count(absl::StrCat("SELECT count(*) FROM audit_checkpoints WHERE seq = ", last,
                                      " AND signed_at IS NOT NULL")),
            3);
  // What an auditor keeps from this verify, besides the head.
  const std::string kept_marker = "checkpoints signed up to ";
  const size_t at = idle->out.find(kept_marker);
  ASSERT_NE(at, std::string::npos) << idle->out;
  const std::string signed_up_to = idle->out.substr(at + kept_marker.size(), 20);

  // More history, signed for 10 s, then removed with its checkpoints by the database superuser.
  auto more = fleet->Manufacture("removed", 2);
  ASSERT_TRUE(more.ok()) << more.status();
  const int64_t grown = fleet->Count("SELECT max(seq) FROM audit_log");
  ASSERT_GT(grown, last);
  absl::SleepFor(absl::Seconds(10));
  ASSERT_GT(
      fleet->Count(absl::StrCat("SELECT count(*) FROM audit_checkpoints WHERE seq = ", grown)), 0);
  superuser(absl::StrCat("DELETE FROM audit_log WHERE seq > ", last,
                         "; DELETE FROM audit_checkpoints WHERE seq > ", last,
                         "; UPDATE audit_head SET seq = ", last,
                         ", row_hash = (SELECT row_hash FROM audit_log WHERE seq = ", last, ")"));
  ASSERT_TRUE(signed_again(last));  // the shortened head, signed as the newest

  // Chain and checkpoints agree, so without a bound on gaps the cut goes unnoticed...
  const auto unbounded = Verify(*fleet);
  EXPECT_EQ(unbounded.exit_code, 0) << unbounded.out << unbounded.err;
  // ...but nobody without the audit key can sign checkpoints for the time that was removed.
  auto bounded = fleet->environment().Keylinectl(every_8s);
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->exit_code, 1) << bounded->out << bounded->err;
  EXPECT_NE(bounded->err.find("no checkpoint signed between "), std::string::npos) << bounded->err;
  EXPECT_NE(bounded->err.find("more than the 8 s allowed): rows and checkpoints of that time "
                              "removed, or no server running?"),
            std::string::npos)
      << bounded->err;

  // Every timed checkpoint deleted as well: the stretch now starts at the server's next
  // signature, unless the time kept from the earlier verify anchors it.
  superuser("DELETE FROM audit_checkpoints WHERE signed_at IS NOT NULL");
  ASSERT_TRUE(signed_again(last));
  auto unanchored = fleet->environment().Keylinectl(every_8s);
  ASSERT_TRUE(unanchored.ok());
  EXPECT_EQ(unanchored->exit_code, 0) << unanchored->out << unanchored->err;
  std::vector<std::string> anchored_args = every_8s;
  anchored_args.insert(anchored_args.end(), {"--checkpoints-since", signed_up_to});
  auto anchored = fleet->environment().Keylinectl(anchored_args);
  ASSERT_TRUE(anchored.ok());
  EXPECT_EQ(anchored->exit_code, 1) << anchored->out << anchored->err;
  EXPECT_NE(anchored->err.find(absl::StrCat("no checkpoint signed between ", signed_up_to)),
            std::string::npos)
      << anchored->err;
}

}  // namespace
}  // namespace keyline
