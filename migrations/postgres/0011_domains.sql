-- A user pool's domains (issue 15, Cognito's CreateUserPoolDomain). The domain name is the
-- primary key: a name belongs to one pool across the deployment, and of two nodes creating
-- one name at once the database lets exactly one win. (pool_id, kind) is unique: a pool
-- has at most one prefix and one custom domain. Deleting a pool deletes its domains.
CREATE TABLE domains (
    domain  TEXT COLLATE "C" NOT NULL,
    pool_id TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    kind    TEXT COLLATE "C" NOT NULL,
    doc     TEXT NOT NULL,
    CONSTRAINT domains_pk PRIMARY KEY (domain),
    CONSTRAINT domains_pool_kind_uq UNIQUE (pool_id, kind)
);
