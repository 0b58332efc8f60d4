// Signs a checkpoint of the audit chain when it has grown since the last one: the head's seq and
// row_hash, signed by the HSM audit key (store/audit_checkpoint_message.h). Replicas may race for
// the same seq; the second insert is refused and ignored.
#pragma once

#include "absl/status/statusor.h"
#include "hsm/signing_key.h"
#include "store/audit_checkpoint_repository.h"
#include "store/audit_log_reader.h"

namespace keyline::server {

class AuditCheckpointer {
 public:
  AuditCheckpointer(store::AuditLogReader& log, store::AuditCheckpointRepository& checkpoints,
                    const hsm::SigningKey& key)
      : log_(log), checkpoints_(checkpoints), key_(key) {}

  // True when it wrote a checkpoint, false when there was nothing new.
  [[nodiscard]] absl::StatusOr<bool> CheckpointNow();

 private:
  store::AuditLogReader& log_;
  store::AuditCheckpointRepository& checkpoints_;
  const hsm::SigningKey& key_;
};

}  // namespace keyline::server
