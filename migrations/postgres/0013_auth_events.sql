-- The auth event log (issue 17, Cognito's AdminListUserAuthEvents): one row per sign-in
-- attempt, sign-up, confirmation, reset, MFA change or federated sign-in of a pool with
-- threat protection on, written in batches. `sub` is NULL for a login nobody has. No
-- foreign key: a batch is never refused for one event of a pool deleted meanwhile, and
-- the retention prune removes what is left.
CREATE TABLE auth_events (
    id         TEXT COLLATE "C" NOT NULL,
    pool_id    TEXT COLLATE "C" NOT NULL,
    sub        TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    -- 1 when the event is sign-in history the risk signals compare with (a sign-in that
    -- passed or went on to a challenge of the pool's own, without "not me" feedback).
    history    INTEGER NOT NULL DEFAULT 0,
    doc        TEXT NOT NULL,
    CONSTRAINT auth_events_pk PRIMARY KEY (id)
);
CREATE INDEX auth_events_user ON auth_events (pool_id, sub, created_at, id);
CREATE INDEX auth_events_pool ON auth_events (pool_id, created_at, id);
CREATE INDEX auth_events_history ON auth_events (pool_id, sub, history, created_at);
CREATE INDEX auth_events_time ON auth_events (created_at);
