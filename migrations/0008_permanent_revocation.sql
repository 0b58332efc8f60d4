-- Keyline schema, version 8: revocation, decommissioning and retirement are one-way in the
-- database too.

-- The service role may UPDATE the status columns (grants of versions 1-3), which it needs to
-- revoke, decommission and rotate; nothing kept it from undoing those. A bug or a compromised
-- replica could set a revoked certificate back to 'good', trust a revoked manufacturer again or
-- re-activate a retired CA, and relying parties would follow, with no audit event to show it.
-- These triggers refuse such an UPDATE for every role, the superuser too (an owner who must
-- repair data by hand can disable them, as for the audit log). An UPDATE that sets the same
-- values is allowed. Each fires only for rows already in their final state (the WHEN clause,
-- evaluated without calling the function), so enrollment's device update pays nothing.

CREATE FUNCTION certificate_revocation_is_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.status, NEW.revoked_at, NEW.revocation_reason, NEW.invalidity_date) IS DISTINCT FROM
     (OLD.status, OLD.revoked_at, OLD.revocation_reason, OLD.invalidity_date) THEN
    RAISE EXCEPTION 'certificate % is revoked: its revocation cannot change',
      encode(OLD.serial, 'hex') USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER certificates_revocation_permanent BEFORE UPDATE ON certificates
  FOR EACH ROW WHEN (OLD.status = 'revoked')
  EXECUTE FUNCTION certificate_revocation_is_permanent();

CREATE FUNCTION manufacturer_revocation_is_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.status, NEW.revoked_at) IS DISTINCT FROM (OLD.status, OLD.revoked_at) THEN
    RAISE EXCEPTION 'manufacturer % is revoked: its revocation cannot change', OLD.name
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER manufacturers_revocation_permanent BEFORE UPDATE ON manufacturers
  FOR EACH ROW WHEN (OLD.status = 'revoked')
  EXECUTE FUNCTION manufacturer_revocation_is_permanent();

CREATE FUNCTION device_decommissioning_is_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.state, NEW.deployment, NEW.decommissioned_at) IS DISTINCT FROM
     (OLD.state, OLD.deployment, OLD.decommissioned_at) THEN
    RAISE EXCEPTION 'device % is decommissioned: it cannot change', OLD.serial
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER devices_decommissioning_permanent BEFORE UPDATE ON devices
  FOR EACH ROW WHEN (OLD.state = 'decommissioned')
  EXECUTE FUNCTION device_decommissioning_is_permanent();

-- A CA goes active -> retired (rotation) and may be revoked from either; it never comes back.
CREATE FUNCTION ca_status_only_moves_on() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status
     AND NOT (OLD.status = 'retired' AND NEW.status = 'revoked') THEN
    RAISE EXCEPTION 'CA % is %: it cannot become %', OLD.name, OLD.status, NEW.status
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER certificate_authorities_status_only_moves_on BEFORE UPDATE ON certificate_authorities
  FOR EACH ROW WHEN (OLD.status <> 'active')
  EXECUTE FUNCTION ca_status_only_moves_on();
