-- Keyline schema, version 10: audit checkpoints carry the time they were signed.

-- A checkpoint vouches for the chain up to its seq, but until now not for when: whoever could
-- remove the log's newest rows could remove the checkpoints that covered them too, and what was
-- left looked like a log that had stopped there. Now the signature covers the signing time
-- ("keyline-audit-checkpoint-v2", store/audit_checkpoint_message.h), and a server signs the head
-- again when its newest checkpoint is older than audit.checkpoint_refresh_seconds, even if no row
-- was added. `keylinectl audit verify --max-checkpoint-gap` then finds the stretch of time a cut
-- leaves without checkpoints. Checkpoints signed before this version have no signed_at (v1) and
-- stay valid.
ALTER TABLE audit_checkpoints ADD COLUMN signed_at timestamptz;

-- One seq may now have several checkpoints, one per signing time; two without a time (v1) for
-- the same seq are still refused.
ALTER TABLE audit_checkpoints DROP CONSTRAINT audit_checkpoints_pkey;
ALTER TABLE audit_checkpoints ADD CONSTRAINT audit_checkpoints_seq_signed_at
  UNIQUE NULLS NOT DISTINCT (seq, signed_at);
