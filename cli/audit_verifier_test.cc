#include "cli/audit_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>

#include "ca/certificate_der.h"
#include "ca/testing/software_signing_key.h"
#include "cli/audit_inputs.h"
#include "cli/testing/test_pki.h"
#include "store/audit_checkpoint_message.h"
#include "store/sha256.h"
#include "store/timestamps.h"

namespace keyline::cli {
namespace {

using ca::testing::SoftwareSigningKey;

// Tampering with an in-memory log the way someone with write access to the table could.
class AuditVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    audit_key_ = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    rows_ = MakeChain(10);
  }

  static store::AuditRow Row(int64_t seq) {
    store::AuditRow row;
    row.seq = seq;
    row.occurred_at = absl::FromUnixMicros(1790000000123456 + seq * 1000001);
    row.event = {"urn:keyline:role:admin:alice",
                 "device.claimed",
                 "SN-" + std::to_string(seq),
                 {{"deployment", "icu"}, {"n", seq}}};
    return row;
  }

  // Fills prev_hash and row_hash from `from` (0-based) on, as the appender does.
  static void Rehash(std::vector<store::AuditRow>& rows, size_t from) {
    std::string prev = from == 0 ? store::GenesisAuditHash() : rows[from - 1].row_hash;
    for (size_t i = from; i < rows.size(); ++i) {
      rows[i].prev_hash = prev;
      rows[i].row_hash = store::AuditRowHash(
          prev, *store::CanonicalAuditEvent(rows[i].seq, rows[i].occurred_at, rows[i].event));
      prev = rows[i].row_hash;
    }
  }

  static std::vector<store::AuditRow> MakeChain(int length) {
    std::vector<store::AuditRow> rows;
    for (int seq = 1; seq <= length; ++seq) rows.push_back(Row(seq));
    Rehash(rows, 0);
    return rows;
  }

  SignedCheckpoint Sign(const SoftwareSigningKey& key, int64_t seq, const std::string& row_hash) {
    const auto signature =
        key.SignDigest(store::Sha256(store::AuditCheckpointMessage(seq, row_hash)));
    EXPECT_TRUE(signature.ok());
    return SignedCheckpoint{seq, row_hash, *signature, std::nullopt};
  }
  SignedCheckpoint CheckpointAt(int64_t seq) {
    return Sign(*audit_key_, seq, rows_[static_cast<size_t>(seq - 1)].row_hash);
  }
  // A v2 checkpoint: the signature covers the signing time too.
  SignedCheckpoint TimedCheckpointAt(int64_t seq, absl::Time signed_at) {
    const std::string& row_hash = rows_[static_cast<size_t>(seq - 1)].row_hash;
    const auto signature = audit_key_->SignDigest(
        store::Sha256(store::AuditCheckpointMessageV2(seq, row_hash, signed_at)));
    EXPECT_TRUE(signature.ok());
    return SignedCheckpoint{seq, row_hash, *signature, signed_at};
  }

  absl::Status Verify(const std::vector<SignedCheckpoint>& checkpoints) {
    return VerifyAuditLog(rows_, checkpoints, audit_key_->public_key());
  }

  std::unique_ptr<SoftwareSigningKey> audit_key_;
  std::vector<store::AuditRow> rows_;
};

MATCHER_P(IsProblem, message, "") {
  if (arg.code() != absl::StatusCode::kDataLoss || arg.message() != message) {
    *result_listener << "got " << arg;
    return false;
  }
  return true;
}

TEST_F(AuditVerifierTest, AcceptsAnIntactLogWithCheckpoints) {
  EXPECT_TRUE(Verify({CheckpointAt(4), CheckpointAt(10)}).ok());
  EXPECT_TRUE(Verify({}).ok());
  rows_.clear();
  EXPECT_TRUE(Verify({}).ok());
}

TEST_F(AuditVerifierTest, PagesGiveTheSameResultAsOneSpan) {
  AuditLogVerifier verifier({CheckpointAt(3), CheckpointAt(7)});
  ASSERT_TRUE(verifier.CheckSignatures(audit_key_->public_key()).ok());
  const std::span<const store::AuditRow> all(rows_);
  ASSERT_TRUE(verifier.AddRows(all.subspan(0, 3)).ok());
  ASSERT_TRUE(verifier.AddRows(all.subspan(3, 4)).ok());
  ASSERT_TRUE(verifier.AddRows(all.subspan(7)).ok());
  ASSERT_TRUE(verifier.Finish().ok());
  EXPECT_EQ(verifier.rows_verified(), 10);
  EXPECT_EQ(verifier.last_seq(), 10);
  EXPECT_EQ(verifier.checkpoint_count(), 2u);
  EXPECT_EQ(verifier.last_checkpoint_seq(), 7);
}

TEST_F(AuditVerifierTest, NamesAnAlteredRow) {
  rows_[4].event.target = "SN-other";
  EXPECT_THAT(Verify({}), IsProblem("row 5: hash mismatch (altered?)"));
  rows_ = MakeChain(10);
  rows_[6].occurred_at += absl::Seconds(1);
  EXPECT_THAT(Verify({}), IsProblem("row 7: hash mismatch (altered?)"));
  rows_ = MakeChain(10);
  rows_[1].event.details["n"] = 99;
  EXPECT_THAT(Verify({}), IsProblem("row 2: hash mismatch (altered?)"));
}

TEST_F(AuditVerifierTest, NamesARowAlteredAndRehashed) {
  const auto original = MakeChain(10);
  rows_[4].event.target = "SN-other";
  Rehash(rows_, 4);
  for (size_t i = 5; i < rows_.size(); ++i) rows_[i] = original[i];  // rows 6 on as they were
  EXPECT_THAT(Verify({}), IsProblem("row 6: prev_hash does not match the hash of row 5 (row 5 "
                                    "altered and rehashed, or rows reordered?)"));

  // The whole rest of the chain recomputed: only a checkpoint tells.
  rows_ = MakeChain(10);
  const SignedCheckpoint at8 = CheckpointAt(8);
  rows_[4].event.target = "SN-other";
  Rehash(rows_, 4);
  EXPECT_TRUE(Verify({}).ok());
  EXPECT_THAT(Verify({at8}),
              IsProblem("row 8: hash differs from the checkpoint signed at seq 8 (rows up to 8 "
                        "rewritten?)"));
}

TEST_F(AuditVerifierTest, NamesAMissingRow) {
  rows_.erase(rows_.begin() + 4);
  EXPECT_THAT(Verify({}), IsProblem("row 5 missing"));
  rows_ = MakeChain(10);
  rows_.erase(rows_.begin() + 4, rows_.begin() + 7);
  EXPECT_THAT(Verify({}), IsProblem("rows 5 to 7 missing"));
  rows_ = MakeChain(10);
  rows_.erase(rows_.begin());
  EXPECT_THAT(Verify({}), IsProblem("row 1 missing"));
}

TEST_F(AuditVerifierTest, NamesSwappedRows) {
  std::swap(rows_[4], rows_[5]);
  EXPECT_THAT(Verify({}), IsProblem("rows 5 and 6 out of order (reordered?)"));

  // Contents swapped while each row keeps its seq, as the table read in seq order shows it.
  rows_ = MakeChain(10);
  std::swap(rows_[4], rows_[5]);
  std::swap(rows_[4].seq, rows_[5].seq);
  EXPECT_THAT(Verify({}),
              IsProblem("row 5: out of place: the row that follows row 4 is stored at seq 6 "
                        "(reordered?)"));

  rows_ = MakeChain(10);
  rows_.insert(rows_.begin() + 6, rows_[2]);
  EXPECT_THAT(Verify({}), IsProblem("row 3 out of order: it comes after row 6 (reordered or "
                                    "repeated?)"));
}

TEST_F(AuditVerifierTest, NamesRowsDroppedFromTheTailAfterACheckpoint) {
  const SignedCheckpoint at8 = CheckpointAt(8);
  rows_.resize(6);
  EXPECT_THAT(Verify({CheckpointAt(3), at8}),
              IsProblem("rows after 6 missing: checkpoint at 8 signed"));
  // Without a checkpoint the truncation cannot be seen: the caller says so.
  EXPECT_TRUE(Verify({CheckpointAt(3)}).ok());
  rows_.clear();
  EXPECT_THAT(Verify({at8}), IsProblem("rows after 0 missing: checkpoint at 8 signed"));
}

// Whoever drops the tail can drop the checkpoints covering it, and rehash what follows: only a
// head recorded outside the database at an earlier verify tells.
TEST_F(AuditVerifierTest, NamesATailDroppedWithItsCheckpointsAgainstARecordedHead) {
  const RecordedHead head{8, rows_[7].row_hash};
  const auto verify = [&](const std::vector<store::AuditRow>& rows) {
    AuditLogVerifier verifier({CheckpointAt(3)});
    verifier.ExpectHead(head);
    absl::Status status = verifier.AddRows(rows);
    return status.ok() ? verifier.Finish() : status;
  };
  EXPECT_TRUE(verify(rows_).ok());  // the log grew past the head: fine
  std::vector<store::AuditRow> dropped(rows_.begin(), rows_.begin() + 6);
  EXPECT_THAT(verify(dropped),
              IsProblem("rows after 6 missing: the head was recorded at seq 8 (rows dropped?)"));
  // Dropped, then new events appended from row 6 on: seq 8 exists again, with another hash.
  std::vector<store::AuditRow> regrown = rows_;
  regrown[6].event.target = "SN-other";
  Rehash(regrown, 6);
  EXPECT_THAT(verify(regrown),
              IsProblem("row 8: hash differs from the head recorded at seq 8 (log rewritten?)"));
}

TEST_F(AuditVerifierTest, NamesAForgedCheckpoint) {
  const auto forger = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  EXPECT_THAT(Verify({CheckpointAt(3), Sign(*forger, 8, rows_[7].row_hash)}),
              IsProblem("checkpoint at seq 8: signature does not verify (forged?)"));

  // A genuine signature moved to another seq, or over another hash, does not verify either.
  SignedCheckpoint moved = CheckpointAt(8);
  moved.seq = 9;
  EXPECT_THAT(Verify({moved}),
              IsProblem("checkpoint at seq 9: signature does not verify (forged?)"));
  SignedCheckpoint rehashed = CheckpointAt(8);
  rehashed.row_hash = rows_[8].row_hash;
  EXPECT_THAT(Verify({rehashed}),
              IsProblem("checkpoint at seq 8: signature does not verify (forged?)"));
  SignedCheckpoint garbage = CheckpointAt(8);
  garbage.signature = "not DER";
  EXPECT_THAT(Verify({garbage}),
              IsProblem("checkpoint at seq 8: signature does not verify (forged?)"));
}

TEST_F(AuditVerifierTest, TimedCheckpointsVerifyAndTheirTimeIsSigned) {
  const absl::Time signed_at = absl::FromUnixMicros(1'800'000'000'123'456);
  // v1 and v2 side by side (a log from before schema 10), and two for one seq (signed again).
  EXPECT_TRUE(Verify({CheckpointAt(3), TimedCheckpointAt(7, signed_at),
                      TimedCheckpointAt(7, signed_at + absl::Hours(1))})
                  .ok());
  // Moving a checkpoint's time (to make an old one look fresh) breaks its signature.
  SignedCheckpoint moved = TimedCheckpointAt(7, signed_at);
  moved.signed_at = *moved.signed_at + absl::Microseconds(1);
  EXPECT_THAT(Verify({moved}),
              IsProblem("checkpoint at seq 7: signature does not verify (forged?)"));
  // A v2 signature presented as v1 (its time dropped) does not verify either.
  SignedCheckpoint untimed = TimedCheckpointAt(7, signed_at);
  untimed.signed_at.reset();
  EXPECT_THAT(Verify({untimed}),
              IsProblem("checkpoint at seq 7: signature does not verify (forged?)"));
}

TEST_F(AuditVerifierTest, NamesAStretchOfTimeWithoutACheckpoint) {
  const absl::Time now = absl::FromUnixSeconds(1'800'007'200);  // 2027-01-15T10:00:00Z
  const auto verify_every_hour = [&](std::vector<SignedCheckpoint> checkpoints) {
    AuditLogVerifier verifier(std::move(checkpoints));
    verifier.ExpectCheckpointsEvery(absl::Hours(1), now);
    EXPECT_TRUE(verifier.CheckSignatures(audit_key_->public_key()).ok());
    EXPECT_TRUE(verifier.AddRows(rows_).ok());
    return verifier.Finish();
  };
  // A v1 checkpoint, then timed ones no more than an hour apart up to now: the head signed again
  // as time passed counts as much as a new one.
  EXPECT_TRUE(verify_every_hour({CheckpointAt(2), TimedCheckpointAt(4, now - absl::Hours(3)),
                                 TimedCheckpointAt(10, now - absl::Hours(2)),
                                 TimedCheckpointAt(10, now - absl::Hours(1)),
                                 TimedCheckpointAt(10, now - absl::Minutes(5))})
                  .ok());
  // Rows and checkpoints of two hours removed, the shortened head signed again since: the hole
  // stays.
  EXPECT_THAT(verify_every_hour({TimedCheckpointAt(4, now - absl::Hours(3)),
                                 TimedCheckpointAt(10, now - absl::Minutes(30))}),
              IsProblem("no checkpoint signed between 2027-01-15T07:00:00Z and "
                        "2027-01-15T09:30:00Z (9000 s, more than the 3600 s allowed): rows and "
                        "checkpoints of that time removed, or no server running?"));
  // Nothing signed for two hours up to now.
  EXPECT_THAT(verify_every_hour({TimedCheckpointAt(10, now - absl::Hours(2))}),
              IsProblem("newest checkpoint signed at 2027-01-15T08:00:00Z, 7200 s ago, more than "
                        "the 3600 s allowed: rows and checkpoints after it removed, or no server "
                        "running?"));
  EXPECT_THAT(verify_every_hour({CheckpointAt(10)}),
              IsProblem("no checkpoint carries a signing time (none signed since schema 10?): "
                        "gaps between checkpoints cannot be checked"));
  // Without the expectation, time is not checked.
  EXPECT_TRUE(Verify({TimedCheckpointAt(4, now - absl::Hours(3)),
                      TimedCheckpointAt(10, now - absl::Minutes(30))})
                  .ok());
}

TEST_F(AuditVerifierTest, ATimeKeptOutsideTheDatabaseAnchorsTheGapCheck) {
  const absl::Time now = absl::FromUnixSeconds(1'800'007'200);  // 2027-01-15T10:00:00Z
  const auto verify = [&](std::vector<SignedCheckpoint> checkpoints, absl::Duration max_gap,
                          std::optional<absl::Time> since) {
    AuditLogVerifier verifier(std::move(checkpoints));
    verifier.ExpectCheckpointsEvery(max_gap, now, since);
    EXPECT_TRUE(verifier.CheckSignatures(audit_key_->public_key()).ok());
    EXPECT_TRUE(verifier.AddRows(rows_).ok());
    return verifier.Finish();
  };
  // Every timed checkpoint deleted, the shortened head signed since: alone, it looks like a
  // log whose timed checkpoints began a minute ago...
  const std::vector<SignedCheckpoint> resigned = {TimedCheckpointAt(6, now - absl::Minutes(1))};
  EXPECT_TRUE(verify(resigned, absl::Hours(1), std::nullopt).ok());
  // ...but not from the newest signing time an earlier verify printed.
  EXPECT_THAT(verify(resigned, absl::Hours(1), now - absl::Hours(5)),
              IsProblem("no checkpoint signed between 2027-01-15T05:00:00Z and "
                        "2027-01-15T09:59:00Z (17940 s, more than the 3600 s allowed): rows and "
                        "checkpoints of that time removed, or no server running?"));
  // Checkpoints before that time do not count; after it, they do.
  EXPECT_TRUE(verify({TimedCheckpointAt(4, now - absl::Hours(9)),
                      TimedCheckpointAt(6, now - absl::Minutes(150)),
                      TimedCheckpointAt(10, now - absl::Minutes(100)),
                      TimedCheckpointAt(10, now - absl::Minutes(40))},
                     absl::Hours(1), now - absl::Hours(3))
                  .ok());
  // Seconds round up: 6.4 s is more than 6.
  EXPECT_THAT(verify({TimedCheckpointAt(10, now - absl::Milliseconds(6'400))}, absl::Seconds(6),
                     std::nullopt),
              IsProblem("newest checkpoint signed at 2027-01-15T09:59:53Z, 7 s ago, more than the "
                        "6 s allowed: rows and checkpoints after it removed, or no server "
                        "running?"));
  // A checkpoint dated in the future would keep the newest looking recent.
  EXPECT_THAT(verify({TimedCheckpointAt(10, now + absl::Hours(2))}, absl::Hours(1), std::nullopt),
              IsProblem("checkpoint at seq 10 signed at 2027-01-15T12:00:00Z, after now (a server "
                        "clock ahead?)"));
  // An empty log has nothing signed and nothing to cut.
  rows_.clear();
  EXPECT_TRUE(verify({}, absl::Hours(1), std::nullopt).ok());
}

TEST_F(AuditVerifierTest, RefusesACheckpointAtNoRow) {
  EXPECT_THAT(Verify({Sign(*audit_key_, 0, store::GenesisAuditHash())}),
              IsProblem("checkpoint at seq 0: no such row"));
}

TEST_F(AuditVerifierTest, KeepsReportingTheFirstProblem) {
  rows_[2].event.actor = "mallory";
  AuditLogVerifier verifier({});
  EXPECT_THAT(verifier.AddRows(rows_), IsProblem("row 3: hash mismatch (altered?)"));
  EXPECT_THAT(verifier.AddRows(rows_), IsProblem("row 3: hash mismatch (altered?)"));
  EXPECT_THAT(verifier.Finish(), IsProblem("row 3: hash mismatch (altered?)"));
  EXPECT_EQ(verifier.rows_verified(), 2);
}

// ---- what the server sends ------------------------------------------------------------------

keyline::v1::AuditRecord ToRecord(const store::AuditRow& row) {
  keyline::v1::AuditRecord record;
  record.set_seq(row.seq);
  const int64_t micros = absl::ToUnixMicros(row.occurred_at);
  record.mutable_occurred_at()->set_seconds(micros / 1000000);
  record.mutable_occurred_at()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  record.set_occurred_at_text(store::FormatRfc3339Micros(row.occurred_at));
  record.set_actor(row.event.actor);
  record.set_action(row.event.action);
  record.set_target(row.event.target);
  record.set_details_json(row.event.details.dump());
  record.set_prev_hash(row.prev_hash);
  record.set_row_hash(row.row_hash);
  return record;
}

TEST_F(AuditVerifierTest, RecordsConvertBackToTheRowsTheyCameFrom) {
  std::vector<store::AuditRow> converted;
  for (const auto& row : rows_) {
    auto back = AuditRowFromRecord(ToRecord(row));
    ASSERT_TRUE(back.ok()) << back.status();
    converted.push_back(*std::move(back));
  }
  EXPECT_TRUE(VerifyAuditLog(converted, {CheckpointAt(10)}, audit_key_->public_key()).ok());
}

TEST_F(AuditVerifierTest, RecordsWhoseTimesDisagreeAreRefused) {
  keyline::v1::AuditRecord record = ToRecord(rows_[0]);
  record.set_occurred_at_text("2026-09-21T14:13:20.123457Z");
  const auto row = AuditRowFromRecord(record);
  EXPECT_EQ(row.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(row.status().ToString(), ::testing::HasSubstr("DATA_LOSS: row 1: occurred_at"));
  record.clear_occurred_at_text();
  EXPECT_FALSE(AuditRowFromRecord(record).ok());
}

TEST_F(AuditVerifierTest, RecordsWithBrokenDetailsAreRefused) {
  keyline::v1::AuditRecord record = ToRecord(rows_[1]);
  record.set_details_json("{\"deployment\": ");
  EXPECT_EQ(AuditRowFromRecord(record).status().message(), "row 2: details are not valid JSON");
}

TEST(AuditSigningKeyTest, AcceptsOnlyAnAuditSignerUnderTheRoot) {
  testing::TestPki pki;
  const auto audit_key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  const std::string audit_certificate = pki.IssueAuditSigner(pki.root(), audit_key->public_key());

  const auto key = AuditSigningKey(audit_certificate, pki.RootPem());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), audit_key->public_key()), 1);

  testing::TestPki other;
  EXPECT_THAT(AuditSigningKey(audit_certificate, other.RootPem()).status().ToString(),
              ::testing::HasSubstr("does not verify up to the --ca root"));
  // Any root in the --ca file may be the one.
  EXPECT_TRUE(AuditSigningKey(audit_certificate, other.RootPem() + pki.RootPem()).ok());

  const testing::TestCa manufacturer = pki.IssueCa(ca::Profile::kManufacturerCa, "keyline");
  EXPECT_THAT(AuditSigningKey(manufacturer.der, pki.RootPem()).status().ToString(),
              ::testing::HasSubstr("audit-signing extended key usage"));
  EXPECT_FALSE(AuditSigningKey("", pki.RootPem()).ok());
  EXPECT_FALSE(AuditSigningKey("garbage", pki.RootPem()).ok());
}

}  // namespace
}  // namespace keyline::cli
