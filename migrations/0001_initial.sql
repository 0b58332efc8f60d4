-- Keyline schema, version 1: certificate authorities, operators, certificates, audit log.
-- Applied by `keyline-server migrate` as the owner role. The service itself connects as a login
-- role that is a member of keyline_service, which gets only the privileges granted at the end.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'keyline_service') THEN
    CREATE ROLE keyline_service NOLOGIN;
  END IF;
END
$$;

CREATE TABLE certificate_authorities (
  id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name           text NOT NULL UNIQUE,   -- "root", "operators", "deployment/<name>", "manufacturer/<name>"
  kind           text NOT NULL CHECK (kind IN ('root', 'operator', 'deployment', 'manufacturer')),
  deployment     text,                   -- set for kind 'deployment'
  parent_id      integer REFERENCES certificate_authorities (id),
  key_label      text NOT NULL,          -- CKA_LABEL of the private key in the HSM
  key_algorithm  text NOT NULL,          -- "ec-p256" or "ec-p384"
  certificate    bytea NOT NULL,         -- DER
  subject_key_id bytea NOT NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired', 'revoked')),
  not_before     timestamptz NOT NULL,
  not_after      timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'deployment') = (deployment IS NOT NULL))
);

CREATE TABLE operators (
  role       text NOT NULL CHECK (role IN ('admin', 'factory', 'gateway')),
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  PRIMARY KEY (role, name)
);

CREATE TABLE certificates (
  serial            bytea PRIMARY KEY,  -- the serial's big-endian magnitude; unique across CAs
  issuer_id         integer NOT NULL REFERENCES certificate_authorities (id),
  profile           text NOT NULL,      -- "operator", "server", "ocsp-signer", "device", ...
  subject           text NOT NULL,      -- what the certificate names, e.g. its SAN URI
  not_before        timestamptz NOT NULL,
  not_after         timestamptz NOT NULL,
  der               bytea NOT NULL,
  status            text NOT NULL DEFAULT 'good' CHECK (status IN ('good', 'revoked')),
  revoked_at        timestamptz,
  revocation_reason smallint,
  issued_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX certificates_by_issuer_status ON certificates (issuer_id, status);
CREATE INDEX certificates_by_subject ON certificates (subject);

-- Append-only, hash-chained: row_hash = SHA-256(prev_hash || canonical event), see
-- store/audit_chain.h. seq is assigned by the appender under the lock on audit_head.
CREATE TABLE audit_log (
  seq         bigint PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text NOT NULL,
  details     jsonb NOT NULL,
  prev_hash   bytea NOT NULL,
  row_hash    bytea NOT NULL UNIQUE
);

-- The chain's head, one row. Appenders lock it (SELECT ... FOR UPDATE), so replicas append in
-- one order.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint NOT NULL,
  row_hash  bytea NOT NULL
);
INSERT INTO audit_head (singleton, seq, row_hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- Audit rows are never changed or removed, whoever asks (owners and superusers included, unless
-- they drop the trigger, which the hash chain then exposes).
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Least privilege for the service: no DDL, no DELETE anywhere, no UPDATE of the audit log.
REVOKE ALL ON certificate_authorities, operators, certificates, audit_log, audit_head FROM PUBLIC;
GRANT SELECT, INSERT ON certificate_authorities TO keyline_service;
GRANT UPDATE (status) ON certificate_authorities TO keyline_service;
GRANT SELECT, INSERT ON operators TO keyline_service;
GRANT SELECT, INSERT ON certificates TO keyline_service;
GRANT UPDATE (status, revoked_at, revocation_reason) ON certificates TO keyline_service;
GRANT SELECT, INSERT ON audit_log TO keyline_service;
GRANT SELECT, UPDATE ON audit_head TO keyline_service;
