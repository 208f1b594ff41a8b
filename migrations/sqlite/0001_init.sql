-- Cognate's SQLite schema. Records live whole in `doc` (JSON); the other columns exist
-- only to be indexed or constrained, so the database itself enforces Cognito's
-- uniqueness rules. Index names mirror the PostgreSQL schema.

CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE pools (
    id  TEXT PRIMARY KEY NOT NULL,
    doc TEXT NOT NULL
);

-- Client ids are unique across pools: the pool is found from the client id.
CREATE TABLE clients (
    id      TEXT PRIMARY KEY NOT NULL,
    pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    doc     TEXT NOT NULL
);
CREATE INDEX clients_pool ON clients (pool_id, id);

CREATE TABLE resource_servers (
    pool_id    TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);

-- The *_key columns are computed by the core (core::directory::lookup_for); the
-- database compares them byte for byte and never applies a collation.
CREATE TABLE users (
    pool_id                TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    sub                    TEXT NOT NULL,
    username_key           TEXT NOT NULL,
    email_key              TEXT,
    phone_key              TEXT,
    preferred_username_key TEXT,
    version                INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    doc                    TEXT NOT NULL,
    PRIMARY KEY (pool_id, sub)
);
CREATE UNIQUE INDEX users_username_uq ON users (pool_id, username_key);
CREATE UNIQUE INDEX users_email_uq ON users (pool_id, email_key)
    WHERE email_key IS NOT NULL;
CREATE UNIQUE INDEX users_phone_uq ON users (pool_id, phone_key)
    WHERE phone_key IS NOT NULL;
CREATE UNIQUE INDEX users_preferred_username_uq ON users (pool_id, preferred_username_key)
    WHERE preferred_username_key IS NOT NULL;

-- One row per entry of User.identities, written in the same transaction as the user.
CREATE TABLE federated_links (
    pool_id  TEXT NOT NULL,
    provider TEXT NOT NULL,
    subject  TEXT NOT NULL,
    sub      TEXT NOT NULL,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE UNIQUE INDEX federated_links_identity_uq ON federated_links (pool_id, provider, subject);
CREATE INDEX federated_links_user ON federated_links (pool_id, sub);

CREATE TABLE groups (
    pool_id    TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    precedence INTEGER,
    doc        TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

CREATE TABLE memberships (
    pool_id    TEXT NOT NULL,
    group_name TEXT NOT NULL,
    sub        TEXT NOT NULL,
    PRIMARY KEY (pool_id, group_name, sub),
    FOREIGN KEY (pool_id, group_name) REFERENCES groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX memberships_user ON memberships (pool_id, sub);

-- At most one active key per (pool, purpose): nodes starting at once race to insert and
-- the index lets exactly one win.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY NOT NULL,
    pool_id    TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    retired_at INTEGER,
    created_at INTEGER NOT NULL,
    doc        TEXT NOT NULL
);
CREATE UNIQUE INDEX signing_keys_active_uq ON signing_keys (pool_id, purpose)
    WHERE retired_at IS NULL;
CREATE INDEX signing_keys_pool ON signing_keys (pool_id, created_at);

-- Short-lived protocol state (login flows, authorization codes), shared by all nodes.
CREATE TABLE ephemeral (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX ephemeral_expiry ON ephemeral (expires_at);
