#include "cli/audit_verifier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/output.h"
#include "cli/signature_check.h"
#include "store/audit_checkpoint_message.h"

namespace keyline::cli {
namespace {

absl::Status Problem(std::string message) { return absl::DataLossError(message); }

// Whole seconds, rounded up: a 6.4 s gap is not "6 s, more than the 6 s allowed".
int64_t CeilSeconds(absl::Duration duration) {
  return absl::ToInt64Seconds(absl::Ceil(duration, absl::Seconds(1)));
}

// Checkpoints dated this far after the verifier's clock are refused: a server clock ahead would
// otherwise make the newest checkpoint look recent for as long as it is ahead.
constexpr absl::Duration kClockSkew = absl::Minutes(1);

}  // namespace

AuditLogVerifier::AuditLogVerifier(std::vector<SignedCheckpoint> checkpoints)
    : checkpoints_(std::move(checkpoints)), last_hash_(store::GenesisAuditHash()) {
  std::stable_sort(
      checkpoints_.begin(), checkpoints_.end(),
      [](const SignedCheckpoint& a, const SignedCheckpoint& b) { return a.seq < b.seq; });
}

std::optional<int64_t> AuditLogVerifier::last_checkpoint_seq() const {
  if (checkpoints_.empty()) return std::nullopt;
  return checkpoints_.back().seq;
}

std::optional<absl::Time> AuditLogVerifier::newest_signed_at() const {
  std::optional<absl::Time> newest;
  for (const SignedCheckpoint& checkpoint : checkpoints_) {
    if (checkpoint.signed_at && (!newest || *checkpoint.signed_at > *newest)) {
      newest = checkpoint.signed_at;
    }
  }
  return newest;
}

absl::Status AuditLogVerifier::CheckSignatures(EVP_PKEY* audit_key) const {
  for (const SignedCheckpoint& checkpoint : checkpoints_) {
    const std::string message =
        checkpoint.signed_at ? store::AuditCheckpointMessageV2(checkpoint.seq, checkpoint.row_hash,
                                                               *checkpoint.signed_at)
                             : store::AuditCheckpointMessage(checkpoint.seq, checkpoint.row_hash);
    if (!EcdsaSha256Verifies(audit_key, message, checkpoint.signature)) {
      return Problem(absl::StrCat("checkpoint at seq ", checkpoint.seq,
                                  ": signature does not verify (forged?)"));
    }
  }
  return absl::OkStatus();
}

absl::Status AuditLogVerifier::AddRows(std::span<const store::AuditRow> rows) {
  for (size_t i = 0; i < rows.size() && problem_.ok(); ++i) {
    problem_ = CheckRow(rows, i);
    if (problem_.ok()) problem_ = MatchCheckpoints(rows[i]);
    if (problem_.ok()) problem_ = MatchRecordedHead(rows[i]);
  }
  return problem_;
}

absl::Status AuditLogVerifier::CheckRow(std::span<const store::AuditRow> rows, size_t index) {
  const store::AuditRow& row = rows[index];
  const int64_t expected = last_seq_ + 1;
  if (row.seq != expected) {
    if (row.seq < expected) {
      return Problem(absl::StrCat("row ", row.seq, " out of order: it comes after row ", last_seq_,
                                  " (reordered or repeated?)"));
    }
    for (size_t j = index + 1; j < rows.size(); ++j) {
      if (rows[j].seq == expected) {
        return Problem(
            absl::StrCat("rows ", expected, " and ", row.seq, " out of order (reordered?)"));
      }
    }
    if (row.seq == expected + 1) return Problem(absl::StrCat("row ", expected, " missing"));
    return Problem(absl::StrCat("rows ", expected, " to ", row.seq - 1, " missing"));
  }

  // store::VerifyAuditChain is the definition of a good row; the rest only names the problem.
  const absl::Status verified = store::VerifyAuditChain(std::span(&row, 1), last_seq_, last_hash_);
  if (!verified.ok()) {
    const auto canonical = store::CanonicalAuditEvent(row.seq, row.occurred_at, row.event);
    if (!canonical.ok()) {
      return Problem(absl::StrCat(
          "row ", row.seq, ": cannot be canonicalized (altered?): ", canonical.status().message()));
    }
    const bool hash_matches = store::AuditRowHash(row.prev_hash, *canonical) == row.row_hash;
    const bool linked = row.prev_hash == last_hash_;
    if (!linked) {
      // The row that should follow the previous one sits elsewhere: rows were moved.
      for (size_t j = 0; j < rows.size(); ++j) {
        if (j != index && rows[j].prev_hash == last_hash_) {
          return Problem(absl::StrCat("row ", row.seq, ": out of place: the row that follows row ",
                                      last_seq_, " is stored at seq ", rows[j].seq,
                                      " (reordered?)"));
        }
      }
    }
    if (!hash_matches) return Problem(absl::StrCat("row ", row.seq, ": hash mismatch (altered?)"));
    if (!linked) {
      return Problem(absl::StrCat("row ", row.seq, ": prev_hash does not match the hash of row ",
                                  last_seq_, " (row ", last_seq_,
                                  " altered and rehashed, or rows reordered?)"));
    }
    return Problem(absl::StrCat("row ", row.seq, ": ", verified.message()));
  }
  last_seq_ = row.seq;
  last_hash_ = row.row_hash;
  ++rows_verified_;
  return absl::OkStatus();
}

absl::Status AuditLogVerifier::MatchCheckpoints(const store::AuditRow& row) {
  for (; next_checkpoint_ < checkpoints_.size() && checkpoints_[next_checkpoint_].seq <= row.seq;
       ++next_checkpoint_) {
    const SignedCheckpoint& checkpoint = checkpoints_[next_checkpoint_];
    if (checkpoint.seq != row.seq) {  // only possible for seq < 1: every row before was seen
      return Problem(absl::StrCat("checkpoint at seq ", checkpoint.seq, ": no such row"));
    }
    if (checkpoint.row_hash != row.row_hash) {
      return Problem(absl::StrCat("row ", row.seq,
                                  ": hash differs from the checkpoint signed at seq ",
                                  checkpoint.seq, " (rows up to ", row.seq, " rewritten?)"));
    }
  }
  return absl::OkStatus();
}

absl::Status AuditLogVerifier::MatchRecordedHead(const store::AuditRow& row) const {
  if (!recorded_head_ || recorded_head_->seq != row.seq ||
      recorded_head_->row_hash == row.row_hash) {
    return absl::OkStatus();
  }
  return Problem(absl::StrCat("row ", row.seq, ": hash differs from the head recorded at seq ",
                              row.seq, " (log rewritten?)"));
}

absl::Status AuditLogVerifier::Finish() {
  if (!problem_.ok()) return problem_;
  if (recorded_head_ && last_seq_ < recorded_head_->seq) {
    problem_ =
        Problem(absl::StrCat("rows after ", last_seq_, " missing: the head was recorded at seq ",
                             recorded_head_->seq, " (rows dropped?)"));
    return problem_;
  }
  if (next_checkpoint_ < checkpoints_.size()) {
    const SignedCheckpoint& next = checkpoints_[next_checkpoint_];
    const SignedCheckpoint& beyond = checkpoints_.back();
    if (next.seq < 1) {
      problem_ = Problem(absl::StrCat("checkpoint at seq ", next.seq, ": no such row"));
    } else {
      problem_ = Problem(absl::StrCat("rows after ", last_seq_, " missing: checkpoint at ",
                                      beyond.seq, " signed"));
    }
    return problem_;
  }
  problem_ = CheckCheckpointGaps();
  return problem_;
}

absl::Status AuditLogVerifier::CheckCheckpointGaps() const {
  if (!max_checkpoint_gap_) return absl::OkStatus();
  // Signing times, after `since` when given, which then opens the sequence.
  std::vector<absl::Time> times;
  if (checkpoints_since_) times.push_back(*checkpoints_since_);
  for (const SignedCheckpoint& checkpoint : checkpoints_) {
    if (!checkpoint.signed_at) continue;
    if (*checkpoint.signed_at > now_ + kClockSkew) {
      return Problem(absl::StrCat("checkpoint at seq ", checkpoint.seq, " signed at ",
                                  TimeText(*checkpoint.signed_at),
                                  ", after now (a server clock ahead?)"));
    }
    if (!checkpoints_since_ || *checkpoint.signed_at > *checkpoints_since_) {
      times.push_back(*checkpoint.signed_at);
    }
  }
  if (times.empty()) {
    if (rows_verified_ == 0) return absl::OkStatus();  // an empty log: nothing signed, nothing cut
    return Problem(
        "no checkpoint carries a signing time (none signed since schema 10?): gaps between "
        "checkpoints cannot be checked");
  }
  std::sort(times.begin(), times.end());
  const int64_t allowed = absl::ToInt64Seconds(*max_checkpoint_gap_);
  for (size_t i = 1; i < times.size(); ++i) {
    const absl::Duration gap = times[i] - times[i - 1];
    if (gap <= *max_checkpoint_gap_) continue;
    return Problem(absl::StrCat("no checkpoint signed between ", TimeText(times[i - 1]), " and ",
                                TimeText(times[i]), " (", CeilSeconds(gap), " s, more than the ",
                                allowed,
                                " s allowed): rows and checkpoints of that time removed, or no "
                                "server running?"));
  }
  const absl::Duration age = now_ - times.back();
  if (age <= *max_checkpoint_gap_) return absl::OkStatus();
  return Problem(absl::StrCat("newest checkpoint signed at ", TimeText(times.back()), ", ",
                              CeilSeconds(age), " s ago, more than the ", allowed,
                              " s allowed: rows and checkpoints after it removed, or no server "
                              "running?"));
}

absl::Status VerifyAuditLog(std::span<const store::AuditRow> rows,
                            std::vector<SignedCheckpoint> checkpoints, EVP_PKEY* audit_key) {
  AuditLogVerifier verifier(std::move(checkpoints));
  if (absl::Status status = verifier.CheckSignatures(audit_key); !status.ok()) return status;
  if (absl::Status status = verifier.AddRows(rows); !status.ok()) return status;
  return verifier.Finish();
}

}  // namespace keyline::cli
