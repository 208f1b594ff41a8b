-- One space of sign-in identifiers per pool. Sign-in looks a login up as a username, then
-- as each alias (email, phone number, preferred_username); the per-column unique indexes
-- keep each kind unique but let one user's username equal another user's alias, and then
-- the username captures the alias owner's sign-in and recovery (issue 8, hole 3). Every
-- key a user is found by (core::directory::lookup_for) has a row here, written in the
-- user's own transaction, so the primary key refuses a username that is another user's
-- alias and the reverse, atomically, across processes.
CREATE TABLE login_keys (
    pool_id   TEXT NOT NULL,
    login_key TEXT NOT NULL,
    sub       TEXT NOT NULL,
    PRIMARY KEY (pool_id, login_key),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX login_keys_user ON login_keys (pool_id, sub);
-- A federated user's email, phone number and preferred_username are attributes, not
-- sign-in identifiers (core::directory::lookup_for; issue 8, hole 5): rows written before
-- lose those keys now rather than at the user's next sign-in. A document that is not JSON
-- is left as it is rather than failing the migration.
UPDATE users SET email_key = NULL, phone_key = NULL, preferred_username_key = NULL
 WHERE json_valid(doc) AND json_extract(doc, '$.status') = 'EXTERNAL_PROVIDER';
-- Existing users, oldest first, usernames before aliases: where two users already share
-- an identifier the first keeps the row and the other keeps working (the store lets a
-- user keep a key it held before this migration; it may not take a new one).
INSERT OR IGNORE INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, username_key, sub FROM users ORDER BY created_at, sub;
INSERT OR IGNORE INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, email_key, sub FROM users WHERE email_key IS NOT NULL
    ORDER BY created_at, sub;
INSERT OR IGNORE INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, phone_key, sub FROM users WHERE phone_key IS NOT NULL
    ORDER BY created_at, sub;
INSERT OR IGNORE INTO login_keys (pool_id, login_key, sub)
    SELECT pool_id, preferred_username_key, sub FROM users
    WHERE preferred_username_key IS NOT NULL ORDER BY created_at, sub;
