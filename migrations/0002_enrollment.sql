-- Keyline schema, version 2: manufacturers, devices, ownership vouchers, enrollment challenges,
-- idempotent enrollments and signed audit checkpoints.

CREATE TABLE manufacturers (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  ca_id         integer REFERENCES certificate_authorities (id),  -- set when Keyline hosts it
  trust_anchor  bytea NOT NULL,        -- DER CA certificate attestation chains end at
  anchor_key_id bytea NOT NULL,        -- its subjectKeyIdentifier (or SHA-1 of its key)
  status        text NOT NULL DEFAULT 'trusted' CHECK (status IN ('trusted', 'revoked')),
  added_by      text NOT NULL,
  added_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

CREATE TABLE devices (
  serial                  text PRIMARY KEY,
  manufacturer_id         integer NOT NULL REFERENCES manufacturers (id),
  hardware_model          text NOT NULL,
  attestation_certificate bytea NOT NULL,  -- DER leaf
  attestation_chain       bytea[] NOT NULL DEFAULT '{}',  -- intermediates below the anchor
  attestation_key_sha256  bytea NOT NULL CHECK (length(attestation_key_sha256) = 32),
  state                   text NOT NULL DEFAULT 'registered'
                            CHECK (state IN ('registered', 'claimed', 'enrolled', 'decommissioned')),
  deployment              text,            -- owner, once claimed
  registered_by           text NOT NULL,
  registered_at           timestamptz NOT NULL DEFAULT now(),
  claimed_at              timestamptz,
  decommissioned_at       timestamptz,
  CHECK ((state IN ('claimed', 'enrolled')) <= (deployment IS NOT NULL)),
  CHECK ((state = 'decommissioned') = (decommissioned_at IS NOT NULL))
);
CREATE INDEX devices_by_deployment ON devices (deployment);

CREATE TABLE vouchers (
  device_serial text PRIMARY KEY REFERENCES devices (serial),
  owner         text NOT NULL,
  expires_at    timestamptz NOT NULL,
  signed        bytea NOT NULL,  -- the SignedVoucher message as received or made
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Single use: CompleteEnrollment marks used_at in the transaction that issues the certificate.
CREATE TABLE challenges (
  id            bytea PRIMARY KEY CHECK (length(id) = 16),
  device_serial text NOT NULL REFERENCES devices (serial),
  nonce         bytea NOT NULL CHECK (length(nonce) = 32),
  purpose       text NOT NULL CHECK (purpose IN ('enroll', 'renew')),
  requested_by  text NOT NULL,  -- "device" or the relaying gateway's URI
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX challenges_by_expiry ON challenges (expires_at);

-- One certificate per request_id: a retried CompleteEnrollment returns what the first one issued.
CREATE TABLE enrollments (
  request_id         text PRIMARY KEY,
  device_serial      text NOT NULL REFERENCES devices (serial),
  certificate_serial bytea NOT NULL REFERENCES certificates (serial) DEFERRABLE INITIALLY DEFERRED,
  created_at         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE certificates ADD COLUMN device_serial text REFERENCES devices (serial);
CREATE INDEX certificates_by_device ON certificates (device_serial) WHERE device_serial IS NOT NULL;

-- Checkpoints of the audit chain, signed by the HSM audit key (see keylinectl audit verify).
CREATE TABLE audit_checkpoints (
  seq        bigint PRIMARY KEY CHECK (seq > 0),
  row_hash   bytea NOT NULL CHECK (length(row_hash) = 32),
  signature  bytea NOT NULL CHECK (length(signature) > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Append-only like audit_log, with a message naming this table (audit_log_is_append_only names
-- audit_log whatever table fired it), and TRUNCATE refused too.
CREATE FUNCTION audit_checkpoints_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_are_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_are_append_only();

REVOKE ALL ON manufacturers, devices, vouchers, challenges, enrollments, audit_checkpoints
  FROM PUBLIC;
GRANT SELECT, INSERT ON manufacturers TO keyline_service;
GRANT UPDATE (status, revoked_at) ON manufacturers TO keyline_service;
GRANT SELECT, INSERT ON devices TO keyline_service;
GRANT UPDATE (state, deployment, claimed_at, decommissioned_at) ON devices TO keyline_service;
GRANT SELECT, INSERT ON vouchers TO keyline_service;
GRANT UPDATE (owner, expires_at, signed) ON vouchers TO keyline_service;
GRANT SELECT, INSERT, DELETE ON challenges TO keyline_service;
GRANT UPDATE (used_at) ON challenges TO keyline_service;
GRANT SELECT, INSERT ON enrollments TO keyline_service;
GRANT SELECT, INSERT ON audit_checkpoints TO keyline_service;
