// Signs a checkpoint of the audit chain: the head's seq and row_hash and the signing time, signed
// by the HSM audit key (store/audit_checkpoint_message.h, v2). It signs when the chain has grown
// since the newest checkpoint, and also when that checkpoint is older than `refresh`, so that the
// newest checkpoint of a live Keyline is never much older than `refresh` plus the checkpoint
// interval, idle or not (what `keylinectl audit verify --max-checkpoint-gap` relies on). A newest
// checkpoint dated ahead of this server's clock (another replica's clock runs ahead) does not
// count as recent. Replicas take turns under a lock (AuditCheckpointRepository::Append): one
// signs a head, the others see it.
#pragma once

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hsm/signing_key.h"
#include "store/audit_checkpoint_repository.h"
#include "store/audit_log_reader.h"

namespace keyline::server {

class AuditCheckpointer {
 public:
  AuditCheckpointer(store::AuditLogReader& log, store::AuditCheckpointRepository& checkpoints,
                    const hsm::SigningKey& key, absl::Duration refresh)
      : log_(log), checkpoints_(checkpoints), key_(key), refresh_(refresh) {}

  // True when it wrote a checkpoint, false when there was nothing to sign.
  [[nodiscard]] absl::StatusOr<bool> CheckpointNow(absl::Time now);

 private:
  store::AuditLogReader& log_;
  store::AuditCheckpointRepository& checkpoints_;
  const hsm::SigningKey& key_;
  const absl::Duration refresh_;
};

}  // namespace keyline::server
