-- Cognate's PostgreSQL schema. Records live whole in `doc` (JSON text); the other columns
-- exist only to be indexed or constrained, so the database itself enforces Cognito's
-- uniqueness rules across every node. Key columns are COLLATE "C": compared and ordered
-- byte for byte, as SQLite does, whatever the database's default collation. Names are unqualified: the schema is the first
-- entry of the connection's search_path. Constraint and index names are matched by
-- store::postgres to tell which unique rule a write broke.

CREATE TABLE meta (
    name  TEXT COLLATE "C" NOT NULL CONSTRAINT meta_pk PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE pools (
    id  TEXT COLLATE "C" NOT NULL CONSTRAINT pools_pk PRIMARY KEY,
    doc TEXT NOT NULL
);

-- Client ids are unique across pools: the pool is found from the client id.
CREATE TABLE clients (
    id      TEXT COLLATE "C" NOT NULL CONSTRAINT clients_pk PRIMARY KEY,
    pool_id TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    doc     TEXT NOT NULL
);
CREATE INDEX clients_pool ON clients (pool_id, id);

CREATE TABLE resource_servers (
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    identifier TEXT COLLATE "C" NOT NULL,
    doc        TEXT NOT NULL,
    CONSTRAINT resource_servers_pk PRIMARY KEY (pool_id, identifier)
);

-- The *_key columns are computed by the core (core::directory::lookup_for); the database
-- never folds case itself.
CREATE TABLE users (
    pool_id                TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    sub                    TEXT COLLATE "C" NOT NULL,
    username_key           TEXT COLLATE "C" NOT NULL,
    email_key              TEXT COLLATE "C",
    phone_key              TEXT COLLATE "C",
    preferred_username_key TEXT COLLATE "C",
    version                BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    doc                    TEXT NOT NULL,
    CONSTRAINT users_pk PRIMARY KEY (pool_id, sub)
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
    pool_id  TEXT COLLATE "C" NOT NULL,
    provider TEXT COLLATE "C" NOT NULL,
    subject  TEXT COLLATE "C" NOT NULL,
    sub      TEXT COLLATE "C" NOT NULL,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE UNIQUE INDEX federated_links_identity_uq ON federated_links (pool_id, provider, subject);
CREATE INDEX federated_links_user ON federated_links (pool_id, sub);

CREATE TABLE groups (
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    precedence BIGINT,
    doc        TEXT NOT NULL,
    CONSTRAINT groups_pk PRIMARY KEY (pool_id, name)
);

CREATE TABLE memberships (
    pool_id    TEXT COLLATE "C" NOT NULL,
    group_name TEXT COLLATE "C" NOT NULL,
    sub        TEXT COLLATE "C" NOT NULL,
    CONSTRAINT memberships_pk PRIMARY KEY (pool_id, group_name, sub),
    FOREIGN KEY (pool_id, group_name) REFERENCES groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX memberships_user ON memberships (pool_id, sub);

-- At most one active key per (pool, purpose): nodes starting at once race to insert and
-- the index lets exactly one win.
CREATE TABLE signing_keys (
    kid        TEXT COLLATE "C" NOT NULL CONSTRAINT signing_keys_pk PRIMARY KEY,
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    purpose    TEXT COLLATE "C" NOT NULL,
    retired_at BIGINT,
    created_at BIGINT NOT NULL,
    doc        TEXT NOT NULL
);
CREATE UNIQUE INDEX signing_keys_active_uq ON signing_keys (pool_id, purpose)
    WHERE retired_at IS NULL;
CREATE INDEX signing_keys_pool ON signing_keys (pool_id, created_at);

-- Short-lived protocol state (login flows, authorization codes), shared by all nodes.
CREATE TABLE ephemeral (
    kind       TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    value      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT ephemeral_pk PRIMARY KEY (kind, id)
);
CREATE INDEX ephemeral_expiry ON ephemeral (expires_at);
