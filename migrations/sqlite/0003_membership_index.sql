-- A covering index for "groups of a user": without statistics SQLite's planner preferred
-- the primary key (pool_id, group_name, sub) and scanned every membership of the pool.
DROP INDEX IF EXISTS memberships_user;
CREATE INDEX memberships_user_groups ON memberships (pool_id, sub, group_name);
