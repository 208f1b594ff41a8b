-- A user's verified `email` as a non-unique key, whether or not email is a sign-in alias:
-- automatic account linking (federation::linking) finds the users holding an address by
-- it. Like the other *_key columns the core computes it (core::directory::lookup_for:
-- NFKC, then lowercase).
ALTER TABLE users ADD COLUMN verified_email_key TEXT COLLATE "C";
-- Rows written before this migration: lower() is exact for ASCII addresses; any other
-- address gets its exact key at the user's next write (until then linking misses it and
-- creates a new user, as without linking).
--
-- No function is created and nothing is cast (this step first created one in pg_temp;
-- store::postgres accepts databases migrated by that text): a function needs the CREATE
-- or TEMPORARY privilege, which hardened and managed databases revoke from PUBLIC, and
-- `doc::jsonb` would fail the migration, and every node's start, on one document that is
-- not JSON. A regex reads the document as Cognate writes it, serde_json's compact form of
-- core::model::User: fields in declaration order (`pool_id`, `sub`, `username`, then the
-- `attributes` object of strings, its keys sorted, so `email` comes before
-- `email_verified`), every JSON string matched whole ("(?:[^"\\]|\\.)*": a quote ends it
-- only when not escaped), from the first character. So only the user's own attributes
-- are read, never text inside another string; the address is captured only when it
-- holds no escape (an email attribute never does: quotes, backslashes and control
-- characters are refused). A document that is not JSON, or not in this shape, gets no
-- key; regex matching never raises an error.
UPDATE users SET verified_email_key = lower(btrim(substring(doc from
    ('^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*","username":"(?:[^"\\]|\\.)*","attributes":\{'
     '(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"email":"([^"\\]*)",(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",)*"email_verified":"true"[,}]'))))
 WHERE doc LIKE '%"email_verified":"true"%';
-- With `sub` the index also yields the rows in the order the store returns them, so a
-- planner without statistics still prefers it to the primary key.
CREATE INDEX users_verified_email ON users (pool_id, verified_email_key, sub)
    WHERE verified_email_key IS NOT NULL;
