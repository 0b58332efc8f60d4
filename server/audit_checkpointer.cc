#include "server/audit_checkpointer.h"

#include "ca/x509_signing.h"
#include "common/status_macros.h"
#include "store/audit_checkpoint_message.h"

namespace keyline::server {

absl::StatusOr<bool> AuditCheckpointer::CheckpointNow() {
  KEYLINE_ASSIGN_OR_RETURN(const auto head, log_.ReadHead());
  if (head.seq == 0) return false;
  auto latest = checkpoints_.Latest();
  if (latest.ok() && latest->seq >= head.seq) return false;
  if (!latest.ok() && !absl::IsNotFound(latest.status())) return latest.status();

  store::AuditCheckpointRecord checkpoint;
  checkpoint.seq = head.seq;
  checkpoint.row_hash = head.row_hash;
  KEYLINE_ASSIGN_OR_RETURN(checkpoint.signature,
                           ca::SignWithKey(key_, store::AuditCheckpointMessage(head.seq,
                                                                                head.row_hash)));
  const absl::Status appended = checkpoints_.Append(checkpoint);
  if (absl::IsAlreadyExists(appended)) return false;  // another replica was first
  KEYLINE_RETURN_IF_ERROR(appended);
  return true;
}

}  // namespace keyline::server
