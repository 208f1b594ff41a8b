-- A user pool's optimistic-concurrency version. The pool (its settings, custom attributes,
-- identity providers) is one JSON document that the administration service changes by
-- read-modify-write; every write bumps the version, and a replace names the version it
-- read and changes nothing if another writer (on any node) got there first, so the
-- service re-reads and re-applies its change instead of overwriting the other one.
-- Rows written before this migration start at 0.
ALTER TABLE pools ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
