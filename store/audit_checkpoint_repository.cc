#include "store/audit_checkpoint_repository.h"

#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/field_checks.h"
#include "store/sha256.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

// pg_advisory_xact_lock key of checkpoint appends ("kl-audch" in ASCII).
constexpr int64_t kCheckpointAppendLock = 0x6b6c2d6175646368;

std::string SelectCheckpoints() {
  return absl::StrCat("SELECT seq, row_hash, signature, ", EpochMicrosSql("created_at"), ", ",
                      EpochMicrosSql("signed_at"), " FROM audit_checkpoints");
}

AuditCheckpointRecord CheckpointFromRow(const pqxx::row& row) {
  AuditCheckpointRecord checkpoint{row[0].as<int64_t>(), pqxx::binarystring(row[1]).str(),
                                   pqxx::binarystring(row[2]).str(),
                                   FromEpochMicros(row[3].as<int64_t>()), std::nullopt};
  if (!row[4].is_null()) checkpoint.signed_at = FromEpochMicros(row[4].as<int64_t>());
  return checkpoint;
}

}  // namespace

absl::Status AuditCheckpointRepository::Append(const AuditCheckpointRecord& checkpoint,
                                               absl::Duration unless_signed_within) {
  if (checkpoint.seq <= 0) return absl::InvalidArgumentError("checkpoint.seq: must be > 0");
  KEYLINE_RETURN_IF_ERROR(CheckByteCount(checkpoint.row_hash, kSha256Size, "checkpoint.row_hash"));
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyBytes(checkpoint.signature, "checkpoint.signature"));
  bool signed_recently = false;
  absl::Status status = pool_.RunTransaction("append audit checkpoint", [&](pqxx::work& tx) {
    // A checkpoint vouches for a row of the chain: it must name one that exists, with its hash.
    const pqxx::result row =
        tx.exec_params("SELECT row_hash FROM audit_log WHERE seq = $1", checkpoint.seq);
    if (row.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("checkpoint.seq: no audit row ", checkpoint.seq));
    }
    if (pqxx::binarystring(row[0][0]).str() != checkpoint.row_hash) {
      return absl::FailedPreconditionError(
          absl::StrCat("checkpoint.row_hash: differs from audit row ", checkpoint.seq));
    }
    const std::string signed_at =
        checkpoint.signed_at ? FormatRfc3339Micros(*checkpoint.signed_at) : std::string();
    if (checkpoint.signed_at && unless_signed_within > absl::ZeroDuration()) {
      // One appender at a time, so that the look below sees every replica's append before it.
      tx.exec_params("SELECT pg_advisory_xact_lock($1)", kCheckpointAppendLock);
      const pqxx::result recent = tx.exec_params(
          "SELECT 1 FROM audit_checkpoints WHERE seq >= $1 AND signed_at > $2::timestamptz "
          "AND signed_at <= $3::timestamptz LIMIT 1",
          checkpoint.seq, FormatRfc3339Micros(*checkpoint.signed_at - unless_signed_within),
          FormatRfc3339Micros(*checkpoint.signed_at + unless_signed_within));
      if (!recent.empty()) {
        signed_recently = true;
        return absl::OkStatus();
      }
    }
    tx.exec_params(
        "INSERT INTO audit_checkpoints (seq, row_hash, signature, signed_at) "
        "VALUES ($1, $2::bytea, $3::bytea, $4::timestamptz)",
        checkpoint.seq, ByteaParam(checkpoint.row_hash), ByteaParam(checkpoint.signature),
        checkpoint.signed_at ? signed_at.c_str() : nullptr);
    return absl::OkStatus();
  });
  if (status.ok() && signed_recently) {
    return absl::AlreadyExistsError(
        absl::StrCat("checkpoint.seq: ", checkpoint.seq, " or later was signed less than ",
                     absl::FormatDuration(unless_signed_within), " before"));
  }
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("checkpoint.seq: a checkpoint for ",
                                                 checkpoint.seq, " with that signing time exists"));
  }
  return status;
}

absl::StatusOr<std::vector<AuditCheckpointRecord>> AuditCheckpointRepository::List() {
  return pool_.WithTransaction(
      "list audit checkpoints",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<AuditCheckpointRecord>> {
        std::vector<AuditCheckpointRecord> checkpoints;
        for (const pqxx::row& row :
             tx.exec(SelectCheckpoints() + " ORDER BY seq, signed_at NULLS FIRST")) {
          checkpoints.push_back(CheckpointFromRow(row));
        }
        return checkpoints;
      });
}

absl::StatusOr<AuditCheckpointRecord> AuditCheckpointRepository::Latest() {
  return pool_.WithTransaction(
      "read latest audit checkpoint", [&](pqxx::work& tx) -> absl::StatusOr<AuditCheckpointRecord> {
        const pqxx::result rows =
            tx.exec(SelectCheckpoints() + " ORDER BY seq DESC, signed_at DESC NULLS LAST LIMIT 1");
        if (rows.empty()) return absl::NotFoundError("no audit checkpoint");
        return CheckpointFromRow(rows[0]);
      });
}

}  // namespace keyline::store
