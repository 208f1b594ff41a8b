-- ListUsers' Filter (issue 14): one row per searchable attribute of each user
-- (username, email, phone_number, name, given_name, family_name, preferred_username,
-- cognito:user_status, status, sub), its value in the core's form (core::users::filter_key:
-- NFKC, then lowercase), written in the user's own transaction like login_keys. The
-- primary key is the index a search walks: equality on (pool_id, attr), then a range on
-- value (`value >= prefix AND value < prefix_end`, byte order under SQLite's BINARY
-- collation), rows coming out in the order the listing returns them (value, then sub).
-- Never a LIKE, never a scan of the JSON document. WITHOUT ROWID: the key is the row, so
-- a search reads one B-tree, then each user by its primary key.
CREATE TABLE user_filters (
    pool_id TEXT NOT NULL,
    attr    TEXT NOT NULL,
    value   TEXT NOT NULL,
    sub     TEXT NOT NULL,
    PRIMARY KEY (pool_id, attr, value, sub),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
) WITHOUT ROWID;
-- A user's rows, for the delete and rewrite of each update and the delete cascade.
CREATE INDEX user_filters_user ON user_filters (pool_id, sub);
-- Rows written before this migration. SQLite's lower() folds ASCII only, and NFKC leaves
-- ASCII as it is, so the key is exact for ASCII values: only those are backfilled here
-- (GLOB '*[^ -~]*' finds a character outside printable ASCII). A user with a non-ASCII
-- value gets that key at its next write; until then a filter on that value misses it.
-- Keys longer than core::users::FILTER_KEY_MAX_BYTES are left to the next write too. A
-- document that is not JSON gets only the keys of its columns (sub and the rest at its
-- next write) rather than failing the migration.
INSERT OR IGNORE INTO user_filters (pool_id, attr, value, sub)
    SELECT pool_id, 'sub', lower(sub), sub FROM users
     WHERE sub NOT GLOB '*[^ -~]*' AND length(sub) <= 1024;
INSERT OR IGNORE INTO user_filters (pool_id, attr, value, sub)
    SELECT pool_id, attr, lower(v), sub FROM (
        SELECT u.pool_id, u.sub, p.column1 AS attr, json_extract(u.doc, p.column2) AS v
          FROM users u CROSS JOIN (VALUES
               ('username', '$.username'),
               ('email', '$.attributes.email'),
               ('phone_number', '$.attributes.phone_number'),
               ('name', '$.attributes.name'),
               ('given_name', '$.attributes.given_name'),
               ('family_name', '$.attributes.family_name'),
               ('preferred_username', '$.attributes.preferred_username'),
               ('cognito:user_status', '$.status')) p
         WHERE json_valid(u.doc))
     WHERE typeof(v) = 'text' AND v <> '' AND v NOT GLOB '*[^ -~]*' AND length(v) <= 1024;
-- `status` is the document's `enabled` flag (true and false read as 1 and 0).
INSERT OR IGNORE INTO user_filters (pool_id, attr, value, sub)
    SELECT pool_id, 'status',
           CASE json_extract(doc, '$.enabled') WHEN 1 THEN 'enabled' ELSE 'disabled' END, sub
      FROM users
     WHERE json_valid(doc) AND json_type(doc, '$.enabled') IN ('true', 'false');
