-- Keyline schema, version 7: device rows leave room on their page for their next state.

-- A device row changes after it is written: its claim (deployment, an indexed column, so the new
-- version goes wherever there is room) and then its enrollment (state only). With pages packed
-- full, as registration and claim batches leave them, the enrollment's new version does not fit
-- beside the old one: PostgreSQL writes it to another page, adds it to every index of the table
-- (devices_pkey, devices_by_deployment) with their WAL, and logs the whole row rather than the
-- changed part. A row is about 1 KiB with its attestation certificate and chain; under
-- bench/enroll 41% of enrollments updated their device in place (HOT).
--
-- Pages filled to 70% keep room for two updated rows beside the old ones, and PostgreSQL prunes
-- dead versions when it next reads the page, so the room comes back. bench/enroll, same hour: at
-- 80%, 68% of enrollments were HOT. Existing pages are not rewritten: devices move to such pages
-- as they are claimed.
ALTER TABLE devices SET (fillfactor = 70);
