-- Brute-force and rate-limit counters, shared by all nodes. A counter counts within a
-- fixed window: the first increment after `expires_at` restarts it at 1 with a new expiry.
-- Keys are compared byte for byte (BINARY), so prefix ranges match the Rust side.
CREATE TABLE counters (
    key        TEXT PRIMARY KEY NOT NULL,
    value      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX counters_expiry ON counters (expires_at);
