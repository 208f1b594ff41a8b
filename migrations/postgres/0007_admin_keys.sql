-- Operator credentials (issue 12): access keys that sign management calls to the AWS
-- edge with SigV4. The secret is sealed under the master key (`v1:` base64 text, context
-- `admin-key:<access key id>`); SigV4 needs the secret itself to sign again, so it cannot
-- be a one-way hash. `purpose` is `operator` (every signed management call) or
-- `authorize` (only the resource servers' authorization check).
CREATE TABLE admin_keys (
    access_key_id TEXT COLLATE "C" NOT NULL CONSTRAINT admin_keys_pk PRIMARY KEY,
    secret        TEXT NOT NULL,
    description   TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
