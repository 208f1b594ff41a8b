-- A user's verified `email` as a non-unique key, whether or not email is a sign-in alias:
-- automatic account linking (federation::linking) finds the users holding an address by
-- it. Like the other *_key columns the core computes it (core::directory::lookup_for:
-- NFKC, then lowercase).
ALTER TABLE users ADD COLUMN verified_email_key TEXT COLLATE "C";
-- Rows written before this migration: lower() is exact for ASCII addresses; any other
-- address gets its exact key at the user's next write (until then linking misses it and
-- creates a new user, as without linking). A document that is not JSON is left without a
-- key rather than failing the migration, and every node's start with it.
CREATE FUNCTION pg_temp.cognate_verified_email_key(doc TEXT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    attrs JSONB;
BEGIN
    attrs := doc::jsonb -> 'attributes';
    IF attrs ->> 'email_verified' = 'true' THEN
        RETURN lower(btrim(attrs ->> 'email'));
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
UPDATE users SET verified_email_key = pg_temp.cognate_verified_email_key(doc)
 WHERE doc LIKE '%"email_verified"%';
DROP FUNCTION pg_temp.cognate_verified_email_key(TEXT);
-- With `sub` the index also yields the rows in the order the store returns them, so a
-- planner without statistics still prefers it to the primary key.
CREATE INDEX users_verified_email ON users (pool_id, verified_email_key, sub)
    WHERE verified_email_key IS NOT NULL;
