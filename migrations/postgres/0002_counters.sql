-- Brute-force and rate-limit counters, shared by all nodes. A counter counts within a
-- fixed window: the first increment after `expires_at` restarts it at 1 with a new expiry.
-- Keys are COLLATE "C" (byte order), so prefix ranges match the Rust side and SQLite.
CREATE TABLE counters (
    key        TEXT COLLATE "C" NOT NULL CONSTRAINT counters_pk PRIMARY KEY,
    value      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX counters_expiry ON counters (expires_at);
