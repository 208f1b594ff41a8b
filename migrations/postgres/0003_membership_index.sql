-- A covering index for "groups of a user" (same shape as the SQLite engine's).
DROP INDEX IF EXISTS memberships_user;
CREATE INDEX memberships_user_groups ON memberships (pool_id, sub, group_name);
