-- Keyline schema, version 6: indexes nothing reads are dropped.

-- Every index is another B-tree insert, with its WAL, for each certificate issued and each audit
-- event appended, on the enrollment path's hottest tables. Three served no query:
--
-- - certificates_by_subject: no query looks a certificate up by subject. Device subjects carry
--   the serial, so each insert landed on a random page of a large index.
-- - certificates_by_issuer_status: CRLs and OCSP are built from the status feed (issued_at and
--   revoked_at), and no query filters on (issuer_id, status). Counting one CA's certificates is an
--   administrative count that may scan.
-- - audit_log's UNIQUE (row_hash): each row_hash is the SHA-256 of its predecessor's hash and its
--   own event, so two equal hashes would need a SHA-256 collision. What guards the chain is
--   `keylinectl audit verify` recomputing it, not this constraint; a tamperer with the rights to
--   rewrite rows could drop the constraint too. Each append put a random 32-octet key into it.
DROP INDEX certificates_by_subject;
DROP INDEX certificates_by_issuer_status;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_row_hash_key;
