-- cfssl's certificate database for PostgreSQL, as the cfssl 1.2-era binary in Debian bookworm
-- uses it: `cfssl serve -db-config` runs
--   INSERT INTO certificates (serial_number, authority_key_identifier, ca_label, status, reason,
--                             expiry, revoked_at, pem)
-- for every certificate it signs (one autocommit statement, so durable with the cluster's
-- synchronous_commit = on). Same columns and keys as cfssl's certdb/pg migrations.
CREATE TABLE certificates (
  serial_number            bytea NOT NULL,
  authority_key_identifier bytea NOT NULL,
  ca_label                 bytea,
  status                   bytea NOT NULL,
  reason                   int,
  expiry                   timestamptz,
  revoked_at               timestamptz,
  pem                      bytea NOT NULL,
  PRIMARY KEY (serial_number, authority_key_identifier)
);

CREATE TABLE ocsp_responses (
  serial_number            bytea NOT NULL,
  authority_key_identifier bytea NOT NULL,
  body                     bytea NOT NULL,
  expiry                   timestamptz,
  PRIMARY KEY (serial_number, authority_key_identifier),
  FOREIGN KEY (serial_number, authority_key_identifier)
    REFERENCES certificates (serial_number, authority_key_identifier)
);
