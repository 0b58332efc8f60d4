-- Keyline schema, version 9: one replica publishes CRLs, every replica serves what it stored.

-- Until version 8 every replica built and signed its own CRLs from its own status feed, taking
-- numbers from the shared crl_numbers sequence. A replica whose feed lagged could then publish a
-- higher-numbered CRL that lacked a revocation a lower-numbered one (from another replica) had,
-- and a relying party that saw both would keep the higher: the certificate looked good again.
--
-- Now the replica holding the lease below builds and signs; it stores each CRL here, in the same
-- statement that checks it still holds the lease, and serves it only once stored. The others
-- serve the stored CRLs. A replica that takes the lease over first reads every revocation
-- committed so far, so its CRLs contain everything its predecessor's did.

-- One row at most: who publishes, until when (renewed on every publishing round), and the term,
-- counted up whenever the lease changes hands, so that a replica that lost it and took it back
-- knows another may have published in between.
CREATE TABLE crl_publisher_lease (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  holder     text NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
  term       bigint NOT NULL DEFAULT 1 CHECK (term > 0),
  expires_at timestamptz NOT NULL
);

-- The latest full and the latest delta CRL of each CA.
CREATE TABLE published_crls (
  ca_id       integer NOT NULL REFERENCES certificate_authorities (id),
  kind        text NOT NULL CHECK (kind IN ('full', 'delta')),
  crl_number  bigint NOT NULL CHECK (crl_number > 0),
  base_number bigint CHECK ((kind = 'delta') = (base_number IS NOT NULL)
                           AND (base_number IS NULL OR base_number < crl_number)),
  entries     bigint NOT NULL CHECK (entries >= 0),
  this_update timestamptz NOT NULL,
  next_update timestamptz NOT NULL CHECK (next_update > this_update),
  der         bytea NOT NULL,
  PRIMARY KEY (ca_id, kind)
);

REVOKE ALL ON crl_publisher_lease, published_crls FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON crl_publisher_lease TO keyline_service;
GRANT SELECT, INSERT, UPDATE ON published_crls TO keyline_service;
