-- ListUsers' Filter (issue 14): one row per searchable attribute of each user
-- (username, email, phone_number, name, given_name, family_name, preferred_username,
-- cognito:user_status, status, sub), its value in the core's form (core::users::filter_key:
-- NFKC, then lowercase), written in the user's own transaction like login_keys. The
-- primary key is the index a search walks: equality on (pool_id, attr), then a range on
-- value (`value >= prefix AND value < prefix_end`), rows coming out in the order the
-- listing returns them (value, then sub). COLLATE "C" makes that range and that order
-- byte order, as in SQLite, whatever the database's default collation; with another
-- collation a range bound would not bound the prefixed strings. Never a LIKE, never a
-- scan of the JSON document.
CREATE TABLE user_filters (
    pool_id TEXT COLLATE "C" NOT NULL,
    attr    TEXT COLLATE "C" NOT NULL,
    value   TEXT COLLATE "C" NOT NULL,
    sub     TEXT COLLATE "C" NOT NULL,
    CONSTRAINT user_filters_pk PRIMARY KEY (pool_id, attr, value, sub),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
-- A user's rows, for the delete and rewrite of each update and the delete cascade.
CREATE INDEX user_filters_user ON user_filters (pool_id, sub);
-- Rows written before this migration. lower() of an ASCII value is its exact key (NFKC
-- leaves ASCII as it is), so only values of printable ASCII are backfilled here; a user
-- with a non-ASCII value (or one over core::users::FILTER_KEY_MAX_BYTES) gets that key at
-- its next write, and until then a filter on that value misses it.
--
-- As in 0004 and 0005, no function is created and nothing is cast to jsonb (a function
-- needs privileges hardened databases revoke; one document that is not JSON would fail
-- the cast, the migration and every node's start). Regexes read the document as Cognate
-- writes it, serde_json's compact form of core::model::User: fields in declaration order
-- (`pool_id`, `sub`, `username`, the `attributes` object of strings with its keys sorted,
-- `status`, `enabled`), every JSON string matched whole ("(?:[^"\\]|\\.)*": a quote ends
-- it only when not escaped), from the first character, so only the user's own fields are
-- read, never text inside another string. A value is captured only when it holds no
-- escape; a document not in this shape gets no key. Regex matching never raises an error.
INSERT INTO user_filters (pool_id, attr, value, sub)
    SELECT pool_id, 'sub', lower(sub), sub FROM users
     WHERE sub ~ '^[ -~]+$' AND length(sub) <= 1024
    ON CONFLICT DO NOTHING;
INSERT INTO user_filters (pool_id, attr, value, sub)
    SELECT pool_id, attr, lower(v), sub FROM (
        SELECT u.pool_id, u.sub, p.attr, substring(u.doc from p.re) AS v
          FROM users u CROSS JOIN (VALUES
        ('username', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"([^"\\]*)"'),
        ('email', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"email":"([^"\\]*)"[,}]'),
        ('phone_number', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"phone_number":"([^"\\]*)"[,}]'),
        ('name', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"name":"([^"\\]*)"[,}]'),
        ('given_name', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"given_name":"([^"\\]*)"[,}]'),
        ('family_name', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"family_name":"([^"\\]*)"[,}]'),
        ('preferred_username', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"preferred_username":"([^"\\]*)"[,}]'),
        ('cognito:user_status', '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*"(?:,"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*")*)?\},"status":"([A-Z_]+)"[,}]')) AS p (attr, re)) found
     WHERE v ~ '^[ -~]+$' AND length(v) <= 1024
    ON CONFLICT DO NOTHING;
-- `status` is the document's `enabled` flag, which follows `status`.
INSERT INTO user_filters (pool_id, attr, value, sub)
    SELECT pool_id, 'status', CASE v WHEN 'true' THEN 'enabled' ELSE 'disabled' END, sub
      FROM (SELECT pool_id, sub, substring(doc from
                '^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*"(?:,"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*")*)?\},"status":"[A-Z_]+","enabled":(true|false)[,}]') AS v
              FROM users) found
     WHERE v IS NOT NULL
    ON CONFLICT DO NOTHING;
