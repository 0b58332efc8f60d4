-- Keyline schema, version 5: enrollment challenges are ephemeral.

-- A challenge lives a minute and is used once; nothing durable depends on it. Unlogged, it costs
-- no WAL, and a BeginEnrollment that only stores one commits without waiting for a WAL flush (a
-- transaction that wrote no WAL commits asynchronously). After a crash PostgreSQL empties the
-- table: challenges handed out before it are unknown to CompleteEnrollment and the device asks
-- for a new one. Single use still holds, since a challenge survives either with its used_at or
-- not at all, and the certificate, enrollment and audit rows of a completion stay durable.
--
-- The foreign key goes first: checking it locks the device row, and a row lock on a logged table
-- is WAL. Challenges are made by INSERT ... SELECT from devices (an unknown device inserts
-- nothing), and devices are never deleted.
ALTER TABLE challenges DROP CONSTRAINT challenges_device_serial_fkey;
ALTER TABLE challenges SET UNLOGGED;
