-- One space of sign-in identifiers per pool. Sign-in looks a login up as a username, then
-- as each alias (email, phone number, preferred_username); the per-column unique indexes
-- keep each kind unique but let one user's username equal another user's alias, and then
-- the username captures the alias owner's sign-in and recovery (issue 8, hole 3). Every
-- key a user is found by (core::directory::lookup_for) has a row here, written in the
-- user's own transaction, so the primary key refuses a username that is another user's
-- alias and the reverse, atomically, across nodes.
CREATE TABLE login_keys (
    pool_id   TEXT COLLATE "C" NOT NULL,
    login_key TEXT COLLATE "C" NOT NULL,
    sub       TEXT COLLATE "C" NOT NULL,
    CONSTRAINT login_keys_pk PRIMARY KEY (pool_id, login_key),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX login_keys_user ON login_keys (pool_id, sub);
-- A federated user's email, phone number and preferred_username are attributes, not
-- sign-in identifiers (core::directory::lookup_for; issue 8, hole 5): rows written before
-- lose those keys now rather than at the user's next sign-in.
--
-- No function is created and nothing is cast: a function (even in pg_temp) needs the
-- CREATE or TEMPORARY privilege, which hardened and managed databases revoke from PUBLIC,
-- and `doc::jsonb` fails the whole migration (and every node's start) on one document
-- that is not JSON, which no CASE guard short of a JSON parser can rule out before
-- PostgreSQL 16's IS JSON. Instead a regex reads the top-level `status` exactly as
-- Cognate writes it: serde_json's compact form of core::model::User, whose fields come in
-- declaration order, so `status` follows `pool_id`, `sub`, `username` and the
-- `attributes` object of strings. Every JSON string is matched whole
-- ("(?:[^"\]|\.)*": a quote ends it only when not escaped), from the document's first
-- character, so the match is exact: an attribute named `status`, or a value (a name, an
-- identity) holding the text "status":"EXTERNAL_PROVIDER", sits inside the attributes
-- object or a string and cannot be read as the user's status; a document that is not
-- JSON, or not in this shape, does not match and is left as it is, as before this
-- migration. Regex matching cannot raise an error, whatever the text. A plain
-- substring test on '"status":"EXTERNAL_PROVIDER"' would not be exact: it also matches
-- an attribute named `status`. The LIKE is only a cheap filter before the regex.
UPDATE users SET email_key = NULL, phone_key = NULL, preferred_username_key = NULL
 WHERE doc LIKE '%"status":"EXTERNAL_PROVIDER"%'
   AND doc ~ ('^\{"pool_id":"(?:[^"\\]|\\.)*","sub":"(?:[^"\\]|\\.)*",'
              '"username":"(?:[^"\\]|\\.)*","attributes":\{'
              '(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*"'
              '(?:,"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*")*)?'
              '\},"status":"EXTERNAL_PROVIDER"[,}]');
-- Existing users, oldest first, usernames before aliases: where two users already share
-- an identifier the first keeps the row and the other keeps working (the store lets a
-- user keep a key it held before this migration; it may not take a new one).
INSERT INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, username_key, sub FROM users ORDER BY created_at, sub
    ON CONFLICT DO NOTHING;
INSERT INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, email_key, sub FROM users WHERE email_key IS NOT NULL
    ORDER BY created_at, sub ON CONFLICT DO NOTHING;
INSERT INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, phone_key, sub FROM users WHERE phone_key IS NOT NULL
    ORDER BY created_at, sub ON CONFLICT DO NOTHING;
INSERT INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, preferred_username_key, sub FROM users
    WHERE preferred_username_key IS NOT NULL ORDER BY created_at, sub
    ON CONFLICT DO NOTHING;
