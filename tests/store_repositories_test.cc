// CaRepository, CertificateRepository and AuditLogReader against PostgreSQL, as the service login:
// round trips of every column, duplicates, look-ups that find nothing, and that every insert
// appended one correctly chained audit event.
#include <gtest/gtest.h>

#include <memory>
#include <pqxx/transaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/audit_appender.h"
#include "store/audit_chain.h"
#include "store/audit_checkpoint_repository.h"
#include "store/audit_log_reader.h"
#include "store/ca_repository.h"
#include "store/certificate_repository.h"
#include "store/certificate_status_feed.h"
#include "store/connection_pool.h"
#include "store/issuance_batch.h"
#include "store/published_crl_repository.h"
#include "store/timestamps.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_test_data.h"

namespace keyline::store {
namespace {

AuditEvent Event(const std::string& action, const std::string& target) {
  return {"urn:keyline:role:admin:alice", action, target, {{"reason", "test"}, {"n", 1}}};
}

class RepositoriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::MigratedStore> store = testing::CreateMigratedStore();
    ASSERT_TRUE(store.ok()) << store.status();
    pool_ = std::move(store->pool);
  }

  std::vector<AuditRow> AuditRows() {
    absl::StatusOr<std::vector<AuditRow>> rows = AuditLogReader(*pool_).ReadRows(0, 100000);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<AuditRow>{};
  }

  std::unique_ptr<ConnectionPool> pool_;
};

TEST_F(RepositoriesTest, CaInsertFindAndList) {
  CaRepository cas(*pool_);
  CaRecord root = testing::TestCa("root");
  root.kind = "root";
  root.deployment.reset();
  const absl::StatusOr<int32_t> root_id = cas.Insert(root, Event("ca.created", "root"));
  ASSERT_TRUE(root_id.ok()) << root_id.status();

  CaRecord deployment = testing::TestCa("deployment/acme");
  deployment.parent_id = *root_id;
  const absl::StatusOr<int32_t> deployment_id =
      cas.Insert(deployment, Event("ca.created", "deployment/acme"));
  ASSERT_TRUE(deployment_id.ok()) << deployment_id.status();
  EXPECT_NE(*root_id, *deployment_id);

  const absl::StatusOr<CaRecord> found = cas.FindByName("deployment/acme");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, *deployment_id);
  EXPECT_EQ(found->kind, "deployment");
  EXPECT_EQ(found->deployment, "deployment/acme");
  EXPECT_EQ(found->parent_id, *root_id);
  EXPECT_EQ(found->key_label, deployment.key_label);
  EXPECT_EQ(found->key_algorithm, "ec-p256");
  EXPECT_EQ(found->certificate_der, deployment.certificate_der);  // binary, with NUL bytes
  EXPECT_EQ(found->subject_key_id, deployment.subject_key_id);
  EXPECT_EQ(found->status, "active");
  // Stored to the microsecond: the test CA's times carry nanoseconds.
  EXPECT_EQ(found->not_before, TruncateToMicros(deployment.not_before));
  EXPECT_EQ(found->not_after, TruncateToMicros(deployment.not_after));

  const absl::StatusOr<CaRecord> by_id = cas.FindById(*root_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->name, "root");
  EXPECT_EQ(by_id->deployment, std::nullopt);
  EXPECT_EQ(by_id->parent_id, std::nullopt);

  const absl::StatusOr<std::vector<CaRecord>> all = cas.List();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "root");
  EXPECT_EQ((*all)[1].name, "deployment/acme");

  EXPECT_EQ(cas.FindByName("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cas.FindById(9999).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RepositoriesTest, CaDuplicatesAndSchemaViolationsChangeNothing) {
  CaRepository cas(*pool_);
  ASSERT_TRUE(cas.Insert(testing::TestCa("acme"), Event("ca.created", "acme")).ok());

  const absl::StatusOr<int32_t> duplicate =
      cas.Insert(testing::TestCa("acme"), Event("ca.created", "acme"));
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(duplicate.status().message().find("acme"), absl::string_view::npos);

  CaRecord bad_kind = testing::TestCa("other");
  bad_kind.kind = "intermediate";
  EXPECT_EQ(cas.Insert(bad_kind, Event("ca.created", "other")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  CaRecord bad_parent = testing::TestCa("orphan");
  bad_parent.parent_id = 4242;
  EXPECT_EQ(cas.Insert(bad_parent, Event("ca.created", "orphan")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  CaRecord infinite = testing::TestCa("forever");
  infinite.not_after = absl::InfiniteFuture();
  EXPECT_EQ(cas.Insert(infinite, Event("ca.created", "forever")).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Only the first insert left a trace, in the table and in the audit log.
  EXPECT_EQ(cas.List()->size(), 1u);
  EXPECT_EQ(AuditRows().size(), 1u);
}

// A batch of up to 32 certificates goes in with one INSERT, a larger one by COPY: every field,
// NULLs included, is stored alike either way, and the change is notified.
TEST_F(RepositoriesTest, FewAndManyCertificatesAreStoredAlike) {
  const absl::StatusOr<int32_t> ca =
      CaRepository(*pool_).Insert(testing::TestCa("a"), Event("ca.created", "a"));
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection =
      OpenKeyLookupConnection(pool_->database_url());
  ASSERT_TRUE(connection.ok()) << connection.status();
  absl::StatusOr<std::unique_ptr<CertificateChangeListener>> listener =
      CertificateChangeListener::Connect(pool_->database_url());
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::vector<IssuanceWrite> all;
  for (const size_t count : {32, 33}) {
    std::vector<IssuanceWrite> writes;
    for (size_t i = 0; i < count; ++i) {
      writes.push_back(testing::TestIssuance(*ca, testing::TestSerial(count, i)));
    }
    // One revoked, with a reason; the others with NULLs there.
    writes[1].certificate.status = "revoked";
    writes[1].certificate.revoked_at = absl::FromUnixMicros(1'770'000'000'000'001);
    writes[1].certificate.revocation_reason = 4;
    writes[2].certificate.subject = "quote\" \\ {brace,comma} NULL";
    std::vector<const IssuanceWrite*> pointers;
    for (const IssuanceWrite& write : writes) pointers.push_back(&write);
    pqxx::work transaction(**connection);
    absl::StatusOr<std::vector<absl::Status>> statuses = StoreIssuances(transaction, pointers);
    ASSERT_TRUE(statuses.ok()) << statuses.status();
    for (const absl::Status& status : *statuses) ASSERT_TRUE(status.ok()) << status;
    transaction.commit();
    // Either way every replica is told to read the new statuses.
    const absl::StatusOr<std::optional<absl::Time>> notified = (*listener)->Wait(absl::Seconds(10));
    ASSERT_TRUE(notified.ok()) << notified.status();
    EXPECT_TRUE(notified->has_value()) << count << " certificates: no notification";
    for (IssuanceWrite& write : writes) all.push_back(std::move(write));
  }
  CertificateRepository certificates(*pool_);
  EXPECT_EQ(*certificates.Count(), 65);
  for (const IssuanceWrite& write : all) {
    const CertificateRecord& expected = write.certificate;
    const absl::StatusOr<CertificateRecord> found = certificates.FindBySerial(expected.serial);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->issuer_id, expected.issuer_id);
    EXPECT_EQ(found->profile, expected.profile);
    EXPECT_EQ(found->subject, expected.subject);
    EXPECT_EQ(found->not_before, expected.not_before);
    EXPECT_EQ(found->not_after, expected.not_after);
    EXPECT_EQ(found->der, expected.der);
    EXPECT_EQ(found->status, expected.status);
    EXPECT_EQ(found->revoked_at, expected.revoked_at);
    EXPECT_EQ(found->revocation_reason, expected.revocation_reason);
    EXPECT_EQ(found->device_serial, std::nullopt);
  }
  EXPECT_EQ(AuditRows().size(), 1u + 65u);
  EXPECT_TRUE(VerifyAuditChain(AuditRows(), 0, GenesisAuditHash()).ok());
}

TEST_F(RepositoriesTest, CertificateInsertFindCount) {
  CaRepository cas(*pool_);
  const absl::StatusOr<int32_t> first_ca =
      cas.Insert(testing::TestCa("a"), Event("ca.created", "a"));
  const absl::StatusOr<int32_t> second_ca =
      cas.Insert(testing::TestCa("b"), Event("ca.created", "b"));
  ASSERT_TRUE(first_ca.ok() && second_ca.ok());

  CertificateRepository certificates(*pool_);
  IssuanceWrite write = testing::TestIssuance(*first_ca, testing::TestSerial(2, 7));
  write.certificate.revoked_at = absl::FromUnixMicros(1'770'000'000'000'001);
  write.certificate.status = "revoked";
  write.certificate.revocation_reason = 4;
  ASSERT_TRUE(certificates.InsertWithAudit(write).ok());
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        certificates.InsertWithAudit(testing::TestIssuance(*second_ca, testing::TestSerial(3, i)))
            .ok());
  }

  const absl::StatusOr<CertificateRecord> found =
      certificates.FindBySerial(testing::TestSerial(2, 7));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->serial, write.certificate.serial);
  EXPECT_EQ(found->issuer_id, *first_ca);
  EXPECT_EQ(found->profile, "device");
  EXPECT_EQ(found->subject, write.certificate.subject);
  EXPECT_EQ(found->not_before, write.certificate.not_before);
  EXPECT_EQ(found->not_after, write.certificate.not_after);
  EXPECT_EQ(found->der, write.certificate.der);
  EXPECT_EQ(found->status, "revoked");
  EXPECT_EQ(found->revoked_at, write.certificate.revoked_at);
  EXPECT_EQ(found->revocation_reason, 4);

  EXPECT_EQ(certificates.FindBySerial(testing::TestSerial(2, 8)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*certificates.Count(), 4);
  EXPECT_EQ(*certificates.Count(*first_ca), 1);
  EXPECT_EQ(*certificates.Count(*second_ca), 3);
  EXPECT_EQ(*certificates.Count(9999), 0);

  // A duplicate serial writes nothing: no row, no operator, no audit event.
  IssuanceWrite duplicate = testing::TestIssuance(*second_ca, testing::TestSerial(2, 7));
  duplicate.operator_record = OperatorRecord{"factory", "line-1", "system:test"};
  EXPECT_EQ(certificates.InsertWithAudit(duplicate).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*certificates.Count(), 4);
  EXPECT_EQ(AuditRows().size(), 2u + 4u);
  absl::StatusOr<int64_t> operators =
      pool_->WithTransaction("count", [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        return tx.exec1("SELECT count(*) FROM operators WHERE name = 'line-1'")[0].as<int64_t>();
      });
  EXPECT_EQ(*operators, 0);

  // Rejected before the database: nothing written either.
  IssuanceWrite unknown_issuer = testing::TestIssuance(4242, testing::TestSerial(2, 9));
  EXPECT_EQ(certificates.InsertWithAudit(unknown_issuer).code(),
            absl::StatusCode::kFailedPrecondition);
  IssuanceWrite leading_zero = testing::TestIssuance(*first_ca, std::string("\0\x01", 2));
  EXPECT_EQ(certificates.InsertWithAudit(leading_zero).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*certificates.Count(), 4);
}

// COPY's text format has its own escapes; what needs them must come back unchanged.
TEST_F(RepositoriesTest, TextNeedingEscapesRoundTrips) {
  const absl::StatusOr<int32_t> ca =
      CaRepository(*pool_).Insert(testing::TestCa("acme"), Event("ca.created", "acme"));
  ASSERT_TRUE(ca.ok());
  CertificateRepository certificates(*pool_);
  IssuanceWrite write = testing::TestIssuance(*ca, testing::TestSerial(11, 1));
  write.certificate.subject = "tab\there\nnewline\r\\N back\\slash \"quoted\" M\xc3\xbcller";
  write.audit.actor = "actor\twith\ttabs\\";
  write.audit.details = {{"note", "line one\nline two \\x00 \u00e9"}, {"empty", ""}};
  ASSERT_TRUE(certificates.InsertWithAudit(write).ok());
  EXPECT_EQ(certificates.FindBySerial(write.certificate.serial)->subject,
            write.certificate.subject);
  const std::vector<AuditRow> rows = AuditRows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].event.actor, write.audit.actor);
  EXPECT_EQ(rows[1].event.details, write.audit.details);
  EXPECT_TRUE(VerifyAuditChain(rows).ok()) << VerifyAuditChain(rows);

  // Invalid UTF-8 is refused as bad input and writes nothing.
  IssuanceWrite invalid = testing::TestIssuance(*ca, testing::TestSerial(11, 2));
  invalid.certificate.subject = "\xff\xfe";
  EXPECT_EQ(certificates.InsertWithAudit(invalid).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*certificates.Count(), 1);
}

TEST_F(RepositoriesTest, EveryInsertAppendsOneChainedAuditEvent) {
  CaRepository cas(*pool_);
  CertificateRepository certificates(*pool_);
  const absl::StatusOr<int32_t> ca =
      cas.Insert(testing::TestCa("acme"), Event("ca.created", "acme"));
  ASSERT_TRUE(ca.ok());
  const IssuanceWrite write = testing::TestIssuance(*ca, testing::TestSerial(4, 1));
  ASSERT_TRUE(certificates.InsertWithAudit(write).ok());

  const std::vector<AuditRow> rows = AuditRows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 1);
  EXPECT_EQ(rows[0].event.action, "ca.created");
  EXPECT_EQ(rows[0].event.actor, "urn:keyline:role:admin:alice");
  EXPECT_EQ(rows[0].event.details, (nlohmann::json{{"reason", "test"}, {"n", 1}}));
  EXPECT_EQ(rows[1].seq, 2);
  EXPECT_EQ(rows[1].event.action, write.audit.action);
  EXPECT_EQ(rows[1].event.target, write.audit.target);
  EXPECT_LE(rows[0].occurred_at, rows[1].occurred_at);

  // Recompute the chain from the stored rows, as `keylinectl audit verify` will.
  EXPECT_EQ(rows[0].prev_hash, GenesisAuditHash());
  const std::string first_hash =
      AuditRowHash(GenesisAuditHash(), *CanonicalAuditEvent(1, rows[0].occurred_at, rows[0].event));
  EXPECT_EQ(rows[0].row_hash, first_hash);
  EXPECT_EQ(rows[1].prev_hash, first_hash);
  EXPECT_TRUE(VerifyAuditChain(rows).ok()) << VerifyAuditChain(rows);

  const absl::StatusOr<AuditLogReader::Head> head = AuditLogReader(*pool_).ReadHead();
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->seq, 2);
  EXPECT_EQ(head->row_hash, rows[1].row_hash);
}

TEST_F(RepositoriesTest, AuditCheckpointsAppendListLatest) {
  CaRepository cas(*pool_);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(cas.Insert(testing::TestCa(name), Event("ca.created", name)).ok());
  }
  const std::vector<AuditRow> rows = AuditRows();
  ASSERT_EQ(rows.size(), 3u);
  AuditCheckpointRepository checkpoints(*pool_);
  EXPECT_EQ(checkpoints.Latest().status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(checkpoints.List()->empty());

  ASSERT_TRUE(checkpoints.Append({1, rows[0].row_hash, "sig-1", absl::Time(), std::nullopt}).ok());
  ASSERT_TRUE(checkpoints.Append({3, rows[2].row_hash, std::string("sig\0-3", 6), {}, {}}).ok());
  const absl::StatusOr<std::vector<AuditCheckpointRecord>> all = checkpoints.List();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].seq, 1);
  EXPECT_EQ((*all)[0].row_hash, rows[0].row_hash);
  EXPECT_EQ((*all)[0].signature, "sig-1");
  EXPECT_GT((*all)[0].created_at, absl::Now() - absl::Minutes(5));
  EXPECT_EQ((*all)[1].seq, 3);
  EXPECT_EQ((*all)[1].signature, std::string("sig\0-3", 6));
  const absl::StatusOr<AuditCheckpointRecord> latest = checkpoints.Latest();
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->seq, 3);

  // Refusals write nothing.
  const absl::Status duplicate = checkpoints.Append({3, rows[2].row_hash, "other", {}, {}});
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  EXPECT_EQ(duplicate.message(),
            "checkpoint.seq: a checkpoint for 3 with that signing time exists");
  const absl::Status beyond = checkpoints.Append({4, rows[2].row_hash, "sig", {}, {}});
  EXPECT_EQ(beyond.code(), absl::StatusCode::kFailedPrecondition) << beyond;
  EXPECT_EQ(beyond.message(), "checkpoint.seq: no audit row 4");
  const absl::Status wrong_hash = checkpoints.Append({2, rows[0].row_hash, "sig", {}, {}});
  EXPECT_EQ(wrong_hash.code(), absl::StatusCode::kFailedPrecondition) << wrong_hash;
  EXPECT_EQ(wrong_hash.message(), "checkpoint.row_hash: differs from audit row 2");
  EXPECT_EQ(checkpoints.Append({2, "short", "sig", {}, {}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(checkpoints.Append({2, rows[1].row_hash, "", {}, {}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(checkpoints.Append({0, rows[1].row_hash, "sig", {}, {}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(checkpoints.List()->size(), 2u);

  // Timed (v2) checkpoints: one seq signed again later is kept twice, in time order after the
  // untimed one, and the newest is the latest; the time comes back to the microsecond.
  const absl::Time first = absl::FromUnixMicros(1'800'000'000'123'456);
  const absl::Time second = first + absl::Hours(1);
  ASSERT_TRUE(checkpoints.Append({3, rows[2].row_hash, "sig-3a", {}, second}).ok());
  ASSERT_TRUE(checkpoints.Append({3, rows[2].row_hash, "sig-3b", {}, first}).ok());
  const absl::Status same_time = checkpoints.Append({3, rows[2].row_hash, "sig-3c", {}, first});
  EXPECT_EQ(same_time.code(), absl::StatusCode::kAlreadyExists) << same_time;
  const absl::StatusOr<std::vector<AuditCheckpointRecord>> timed = checkpoints.List();
  ASSERT_TRUE(timed.ok()) << timed.status();
  ASSERT_EQ(timed->size(), 4u);
  EXPECT_FALSE((*timed)[1].signed_at.has_value());
  EXPECT_EQ((*timed)[2].signed_at, first);
  EXPECT_EQ((*timed)[2].signature, "sig-3b");
  EXPECT_EQ((*timed)[3].signed_at, second);
  const absl::StatusOr<AuditCheckpointRecord> newest = checkpoints.Latest();
  ASSERT_TRUE(newest.ok()) << newest.status();
  EXPECT_EQ(newest->signature, "sig-3a");
  EXPECT_EQ(newest->signed_at, second);

  // A replica that read the latest before another's append committed: with a window, a
  // checkpoint of this seq or a later one signed within it refuses the append.
  const absl::Status raced = checkpoints.Append(
      {3, rows[2].row_hash, "sig-3d", {}, second + absl::Seconds(10)}, absl::Minutes(5));
  EXPECT_EQ(raced.code(), absl::StatusCode::kAlreadyExists) << raced;
  EXPECT_EQ(raced.message(), "checkpoint.seq: 3 or later was signed less than 5m before");
  EXPECT_EQ(
      checkpoints
          .Append({2, rows[1].row_hash, "sig-2", {}, second + absl::Seconds(20)}, absl::Minutes(5))
          .code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(
      checkpoints
          .Append({3, rows[2].row_hash, "sig-3e", {}, second + absl::Minutes(6)}, absl::Minutes(5))
          .ok());
  EXPECT_EQ(checkpoints.List()->size(), 5u);
  EXPECT_EQ(AuditRows().size(), 3u);  // checkpoints are not audit events themselves
}

// A few events go in by one INSERT that also moves the head, many by COPY: both chain alike, keep
// every field (text needing escapes, nested JSON) and leave the head on the last row.
TEST_F(RepositoriesTest, FewAndManyAuditEventsChainAlike) {
  std::vector<size_t> reported;
  for (const size_t count : {3, 64, 65, 1}) {
    std::vector<AuditEvent> events;
    for (size_t i = 0; i < count; ++i) {
      AuditEvent event = Event("test.appended", absl::StrCat("quote\" \\ {brace,comma} ", i));
      event.details["nested"] = {{"list", {1, "two", nullptr}}, {"text", "\"{x}\""}};
      events.push_back(std::move(event));
    }
    std::vector<const AuditEvent*> pointers;
    for (const AuditEvent& event : events) pointers.push_back(&event);
    const absl::Status appended =
        pool_->WithTransaction("append", [&](pqxx::work& tx) -> absl::Status {
          return AppendAuditEvents(tx, pointers,
                                   [&](size_t written) { reported.push_back(written); })
              .status();
        });
    ASSERT_TRUE(appended.ok()) << count << ": " << appended;
  }
  const std::vector<AuditRow> rows = AuditRows();
  ASSERT_EQ(rows.size(), 3u + 64u + 65u + 1u);
  EXPECT_TRUE(VerifyAuditChain(rows, 0, GenesisAuditHash()).ok());
  EXPECT_EQ(rows[2].event.target, "quote\" \\ {brace,comma} 2");
  EXPECT_EQ(rows[3 + 64].event.target, "quote\" \\ {brace,comma} 0");  // the first by COPY
  for (const AuditRow& row : rows) {
    EXPECT_EQ(row.event.actor, "urn:keyline:role:admin:alice");
    EXPECT_EQ(row.event.details["nested"]["list"][1], "two") << row.seq;
    EXPECT_EQ(row.event.details["nested"]["text"], "\"{x}\"") << row.seq;
  }
  EXPECT_TRUE(reported.empty());  // fewer than kAuditProgressStep each
  // The head is the last row: the next append chains onto it.
  const AuditEvent next = Event("test.appended", "next");
  const AuditEvent* const one[] = {&next};
  ASSERT_TRUE(pool_
                  ->WithTransaction("append",
                                    [&](pqxx::work& tx) -> absl::Status {
                                      return AppendAuditEvents(tx, one).status();
                                    })
                  .ok());
  const std::vector<AuditRow> after = AuditRows();
  ASSERT_EQ(after.size(), rows.size() + 1);
  EXPECT_EQ(after.back().seq, static_cast<int64_t>(rows.size() + 1));
  EXPECT_TRUE(VerifyAuditChain(after, 0, GenesisAuditHash()).ok());
}

// Appends from several transactions at once queue on the audit head: the chain stays whole and
// occurred_at never goes back along seq, even for a transaction that waited for the lock while
// the holder appended and held on a moment (its clock is read once the lock is granted).
TEST_F(RepositoriesTest, ConcurrentAuditAppendsKeepTheChainAndTheClockInOrder) {
  constexpr int kThreads = 4;
  constexpr int kAppendsPerThread = 15;
  std::vector<absl::Status> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread && failures[t].ok(); ++i) {
        const AuditEvent event = Event("test.appended", absl::StrCat("thread-", t, "-", i));
        const AuditEvent* const events[] = {&event};
        failures[t] = pool_->WithTransaction("append", [&](pqxx::work& tx) -> absl::Status {
          absl::StatusOr<int64_t> seq = AppendAuditEvents(tx, events);
          if (!seq.ok()) return seq.status();
          absl::SleepFor(absl::Milliseconds(2));  // the others wait for the head meanwhile
          return absl::OkStatus();
        });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& failure : failures) ASSERT_TRUE(failure.ok()) << failure;

  const std::vector<AuditRow> rows = AuditRows();
  ASSERT_EQ(rows.size(), static_cast<size_t>(kThreads * kAppendsPerThread));
  EXPECT_TRUE(VerifyAuditChain(rows, 0, GenesisAuditHash()).ok());
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LE(rows[i - 1].occurred_at, rows[i].occurred_at) << "seq " << rows[i].seq;
  }
}

// The CRL publisher lease and the stored CRLs (store/published_crl_repository.h).
TEST_F(RepositoriesTest, OnlyTheLeaseHolderStoresCrlsAndOnlyIncreasingNumbers) {
  const absl::StatusOr<int32_t> ca =
      CaRepository(*pool_).Insert(testing::TestCa("a"), Event("ca.created", "a"));
  ASSERT_TRUE(ca.ok()) << ca.status();
  PublishedCrlRepository crls(*pool_);
  const auto crl = [](uint64_t number, std::optional<uint64_t> base, std::string der) {
    ca::BuiltCrl built;
    built.der = std::make_shared<const std::string>(std::move(der));
    built.crl_number = number;
    built.base_crl_number = base;
    built.entries = 3;
    built.this_update = absl::FromUnixSeconds(1'800'000'000);
    built.next_update = built.this_update + absl::Hours(24);
    return built;
  };
  const auto stored = [&](bool delta) {
    absl::StatusOr<ca::BuiltCrl> read = crls.Read(*ca, delta);
    return read.ok() ? *read->der : std::string(read.status().message());
  };

  const auto lease_lost = [](const absl::Status& status) { return IsLeaseLost(status); };
  using Term = std::optional<int64_t>;

  // Nobody holds the lease: nothing can be stored.
  EXPECT_PRED1(lease_lost, crls.Store("a", 1, *ca, crl(1, std::nullopt, "full 1")));
  EXPECT_EQ(crls.Read(*ca, false).status().code(), absl::StatusCode::kNotFound);

  // "a" takes it in term 1 and renews it; "b" is refused while it runs.
  EXPECT_EQ(crls.HoldLease("a", absl::Seconds(30)).value_or(Term(-1)), Term(1));
  EXPECT_EQ(crls.HoldLease("a", absl::Seconds(30)).value_or(Term(-1)), Term(1));
  EXPECT_EQ(crls.HoldLease("b", absl::Seconds(30)).value_or(Term(-1)), std::nullopt);
  EXPECT_PRED1(lease_lost, crls.Store("b", 1, *ca, crl(1, std::nullopt, "full by b")));
  EXPECT_PRED1(lease_lost, crls.Store("a", 2, *ca, crl(1, std::nullopt, "a, wrong term")));

  ASSERT_TRUE(crls.Store("a", 1, *ca, crl(4, std::nullopt, "full 4")).ok());
  ASSERT_TRUE(crls.Store("a", 1, *ca, crl(5, 4, "delta 5")).ok());
  const absl::StatusOr<ca::BuiltCrl> delta = crls.Read(*ca, true);
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(*delta->der, "delta 5");
  EXPECT_EQ(delta->crl_number, 5u);
  EXPECT_EQ(delta->base_crl_number, std::optional<uint64_t>(4));
  EXPECT_EQ(delta->entries, 3u);
  EXPECT_EQ(delta->this_update, absl::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(delta->next_update, absl::FromUnixSeconds(1'800'000'000) + absl::Hours(24));
  EXPECT_EQ(stored(false), "full 4");
  const absl::StatusOr<std::vector<StoredCrlNumber>> numbers = crls.Numbers();
  ASSERT_TRUE(numbers.ok()) << numbers.status();
  ASSERT_EQ(numbers->size(), 2u);
  for (const StoredCrlNumber& number : *numbers) {
    EXPECT_EQ(number.ca_id, *ca);
    EXPECT_EQ(number.crl_number, number.delta ? 5u : 4u);
  }

  // The same number again, or a lower one, is refused and changes nothing.
  const absl::Status again = crls.Store("a", 1, *ca, crl(4, std::nullopt, "another full 4"));
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(IsLeaseLost(again));
  EXPECT_EQ(crls.Store("a", 1, *ca, crl(3, 2, "delta 3")).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stored(false), "full 4");
  EXPECT_EQ(stored(true), "delta 5");
  // Bad input.
  EXPECT_EQ(crls.Store("", 1, *ca, crl(9, std::nullopt, "x")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(crls.Store("a", 1, *ca, crl(9, std::nullopt, "")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(crls.HoldLease(std::string(201, 'h'), absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(crls.HoldLease("a", absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stored(false), "full 4");

  // Released, the lease goes to "b" at once, in term 2, and "a" can no longer store.
  ASSERT_TRUE(crls.ReleaseLease("b").ok());  // not b's: changes nothing
  EXPECT_EQ(crls.HoldLease("b", absl::Seconds(30)).value_or(Term(-1)), std::nullopt);
  ASSERT_TRUE(crls.ReleaseLease("a").ok());
  EXPECT_EQ(crls.HoldLease("b", absl::Seconds(1)).value_or(Term(-1)), Term(2));
  EXPECT_PRED1(lease_lost, crls.Store("a", 1, *ca, crl(6, std::nullopt, "full 6 by a")));
  ASSERT_TRUE(crls.Store("b", 2, *ca, crl(6, std::nullopt, "full 6 by b")).ok());
  EXPECT_EQ(stored(false), "full 6 by b");

  // A lease that ran out unrenewed can no longer store. Its holder taking it back keeps the term
  // (nobody else held it); anyone else taking it starts the next.
  absl::SleepFor(absl::Milliseconds(1200));
  EXPECT_PRED1(lease_lost, crls.Store("b", 2, *ca, crl(7, std::nullopt, "full 7 by b")));
  EXPECT_EQ(crls.HoldLease("b", absl::Seconds(1)).value_or(Term(-1)), Term(2));
  absl::SleepFor(absl::Milliseconds(1200));
  EXPECT_EQ(crls.HoldLease("a", absl::Seconds(30)).value_or(Term(-1)), Term(3));
  EXPECT_PRED1(lease_lost, crls.Store("b", 2, *ca, crl(7, std::nullopt, "full 7 by b")));
  EXPECT_EQ(stored(false), "full 6 by b");
}

}  // namespace
}  // namespace keyline::store
