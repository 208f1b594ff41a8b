-- A user pool's domains (issue 15, Cognito's CreateUserPoolDomain). The domain name is the
-- primary key: a name belongs to one pool across the deployment, and of two nodes creating
-- one name at once the database lets exactly one win. (pool_id, kind) is unique: a pool
-- has at most one prefix and one custom domain. Deleting a pool deletes its domains.
CREATE TABLE domains (
    domain  TEXT NOT NULL PRIMARY KEY,
    pool_id TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (pool_id, kind)
);
