-- Identity pools (issue 12): the pools, the roles they hand out, and the identities they
-- give out ids for. Records are JSON documents beside the columns that are keyed or
-- constrained. An identity's logins are rows of their own, so the database itself keeps
-- one identity per (identity pool, provider, subject): nodes resolving one user's first
-- sign-in at once race to insert and exactly one wins. The identity's columns are the
-- record (no document): its logins are read from identity_logins.
CREATE TABLE identity_pools (
    id     TEXT COLLATE "C" NOT NULL CONSTRAINT identity_pools_pk PRIMARY KEY,
    name   TEXT NOT NULL,
    origin TEXT NOT NULL,
    doc    TEXT NOT NULL
);
CREATE INDEX identity_pools_name ON identity_pools (name);

CREATE TABLE roles (
    arn TEXT COLLATE "C" NOT NULL CONSTRAINT roles_pk PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE identities (
    id               TEXT COLLATE "C" NOT NULL CONSTRAINT identities_pk PRIMARY KEY,
    identity_pool_id TEXT COLLATE "C" NOT NULL
                     REFERENCES identity_pools (id) ON DELETE CASCADE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX identities_pool ON identities (identity_pool_id, id);

CREATE TABLE identity_logins (
    identity_pool_id TEXT COLLATE "C" NOT NULL,
    provider         TEXT COLLATE "C" NOT NULL,
    subject          TEXT COLLATE "C" NOT NULL,
    identity_id      TEXT COLLATE "C" NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    CONSTRAINT identity_logins_uq UNIQUE (identity_pool_id, provider, subject)
);
CREATE INDEX identity_logins_identity ON identity_logins (identity_id);
