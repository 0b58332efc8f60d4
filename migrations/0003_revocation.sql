-- Keyline schema, version 3: revocation, certificate status for OCSP, CRL numbering.

-- RFC 5280 5.3.2: when the key is known or suspected to have been compromised, if earlier than
-- the revocation itself.
ALTER TABLE certificates ADD COLUMN invalidity_date timestamptz;
ALTER TABLE certificates ADD CONSTRAINT certificates_reason_is_crl_reason
  CHECK (revocation_reason IS NULL OR revocation_reason BETWEEN 0 AND 10 AND revocation_reason <> 7);

-- Replicas resync their status index and CRLs with "what changed since": revocations are rare,
-- so a partial index keeps that scan tiny; issued_at follows insertion order (cheap to maintain).
CREATE INDEX certificates_revoked_at ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_by_issued_at ON certificates (issued_at);
-- The service's own certificates (OCSP signers, audit signer, TLS) are found by profile; the
-- many device, attestation and operator certificates stay out of this index.
CREATE INDEX certificates_by_service_profile ON certificates (profile, issuer_id, not_after)
  WHERE profile NOT IN ('device', 'attestation', 'operator');

-- CRL numbers (RFC 5280 5.2.3): one sequence per CA shared by its full and delta CRLs, monotonic
-- across restarts and replicas because every replica takes its next number here.
CREATE TABLE crl_numbers (
  ca_id       integer PRIMARY KEY REFERENCES certificate_authorities (id),
  last_number bigint NOT NULL CHECK (last_number > 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON crl_numbers FROM PUBLIC;
GRANT SELECT, INSERT ON crl_numbers TO keyline_service;
GRANT UPDATE (last_number, updated_at) ON crl_numbers TO keyline_service;
GRANT UPDATE (invalidity_date) ON certificates TO keyline_service;
