#include "server/audit_checkpointer.h"

#include "ca/x509_signing.h"
#include "common/status_macros.h"
#include "store/audit_checkpoint_message.h"

namespace keyline::server {
namespace {

// Replicas' clocks agree within this (NTP); a newest checkpoint further ahead was signed by a
// clock that runs ahead, and leaving the signing to it would leave this stretch unsigned.
constexpr absl::Duration kClockSkew = absl::Seconds(5);

}  // namespace

absl::StatusOr<bool> AuditCheckpointer::CheckpointNow(absl::Time now) {
  KEYLINE_ASSIGN_OR_RETURN(const auto head, log_.ReadHead());
  if (head.seq == 0) return false;
  auto latest = checkpoints_.Latest();
  if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();
  // Whole microseconds, as stored: the signature must cover what the verifier will read back.
  const absl::Time signed_at = absl::FromUnixMicros(absl::ToUnixMicros(now));
  if (latest.ok() && latest->seq >= head.seq && latest->signed_at &&
      *latest->signed_at > signed_at - refresh_ && *latest->signed_at <= signed_at + kClockSkew) {
    return false;  // the head is signed, and recently enough
  }

  store::AuditCheckpointRecord checkpoint;
  checkpoint.seq = head.seq;
  checkpoint.row_hash = head.row_hash;
  checkpoint.signed_at = signed_at;
  KEYLINE_ASSIGN_OR_RETURN(
      checkpoint.signature,
      ca::SignWithKey(key_, store::AuditCheckpointMessageV2(head.seq, head.row_hash, signed_at)));
  // Another replica may have signed this head since Latest(): then this one is not stored.
  const absl::Status appended = checkpoints_.Append(checkpoint, refresh_);
  if (absl::IsAlreadyExists(appended)) return false;
  KEYLINE_RETURN_IF_ERROR(appended);
  return true;
}

}  // namespace keyline::server
