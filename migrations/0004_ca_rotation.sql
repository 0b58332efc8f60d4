-- Keyline schema, version 4: deployment CA rotation.

-- A deployment has one active CA (the one issuing its device certificates); rotated-out CAs stay
-- as 'retired' and keep signing CRLs and OCSP for their certificates. The index also makes two
-- concurrent rotations of one deployment conflict instead of leaving two active CAs.
CREATE UNIQUE INDEX certificate_authorities_one_active_per_deployment
  ON certificate_authorities (deployment) WHERE status = 'active' AND kind = 'deployment';
