//! The storage interface the core works against: one trait over whole records.
//!
//! The core defines what it needs from storage; the engines in [`crate::store`]
//! (SQLite, PostgreSQL) implement it. Both pass one conformance suite
//! (`tests/it/conformance/`). Nothing a node needs lives only in its memory:
//! short-lived protocol state (login flows, authorization codes) goes through the
//! `ephemeral` methods and brute-force counters through the `counter` methods, so any
//! node can serve any request.

use async_trait::async_trait;

use super::model::{
    AppClient, AuthEvent, Domain, Group, Identity, IdentityLogin, IdentityPool, Page, PageRequest,
    ResourceServer, Role, SigningKey, SpKeyRecord, User, UserPool,
};
use super::UnixTime;
use crate::core::identity_pools::openid::IdentityKeyRecord;

/// Which unique rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The record's primary key exists already (pool id, client id, sub, group name).
    Exists,
    Username,
    Email,
    PhoneNumber,
    PreferredUsername,
    /// The (provider, upstream subject) pair is linked to another user.
    FederatedIdentity,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conflict::Exists => "a record with this id already exists",
            Conflict::Username => "the username is taken",
            Conflict::Email => "the email address belongs to another user",
            Conflict::PhoneNumber => "the phone number belongs to another user",
            Conflict::PreferredUsername => "the preferred_username is taken",
            Conflict::FederatedIdentity => "this federated identity is linked to another user",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(Conflict),
    #[error("not found")]
    NotFound,
    /// An update named a version that is no longer current: someone else wrote first.
    #[error("the record was changed by another writer; read it again and retry")]
    VersionMismatch,
    /// A parent record is missing (a client for an unknown pool, a member of an unknown group).
    #[error("the {0} this record belongs to does not exist")]
    MissingParent(&'static str),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How to find a user in a pool. Keys are already normalized by the core
/// (see [`crate::core::directory::normalize_username`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Sub(String),
    Username(String),
    Email(String),
    PhoneNumber(String),
    PreferredUsername(String),
    /// (provider name, upstream subject)
    Federated(String, String),
}

/// An attribute Cognito's ListUsers can filter on (its documented list). Custom
/// attributes are not searchable, as in Cognito.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterAttribute {
    Username,
    Email,
    PhoneNumber,
    Name,
    GivenName,
    FamilyName,
    PreferredUsername,
    /// `cognito:user_status` (UNCONFIRMED, CONFIRMED, FORCE_CHANGE_PASSWORD,
    /// RESET_REQUIRED, EXTERNAL_PROVIDER).
    UserStatus,
    /// `status`: `Enabled` or `Disabled`.
    Status,
    Sub,
}

/// One ListUsers `Filter` (`attr = "v"` or `attr ^= "v"`). `value` is already in the
/// form the store keeps (the core's `core::users::filter_key`), so the store compares
/// bytes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub attribute: FilterAttribute,
    pub value: String,
    /// `^=`: the attribute starts with `value`; otherwise equals it.
    pub prefix: bool,
}

/// What a batch import did with each record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub inserted: u64,
    /// Subs of records skipped because they collided with an existing user.
    pub skipped: Vec<String>,
}

/// The storage engine. Every method is one atomic operation: a crash (kill -9) at any
/// moment leaves either the old or the new record, never half of one.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which engine this is ("sqlite" or "postgres"), for logs and readiness.
    fn engine(&self) -> &'static str;

    /// A round trip to the database (readiness check).
    async fn ping(&self) -> StoreResult<()>;

    // --- node-wide metadata -------------------------------------------------------------

    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>>;
    /// Writes `value` unless the key exists; returns the value that is stored afterwards
    /// (ours, or the one another node wrote first).
    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Writes `value` whether or not the key exists (a rotated pool webhook secret).
    async fn put_meta(&self, key: &str, value: &str) -> StoreResult<()>;

    // --- pools, clients, resource servers ------------------------------------------------

    /// Creates or replaces a pool whatever its stored version (CreateUserPool, the
    /// configuration file's create), bumping the version. A read-modify-write of a stored
    /// pool uses [`Store::replace_pool`] instead.
    async fn put_pool(&self, pool: &UserPool) -> StoreResult<()>;
    /// Inserts a new pool (CreateUserPool) unless `max_pools` pools exist already (then
    /// `Ok(false)`, nothing written): the count and the insert are one transaction under
    /// a store-wide lock, so concurrent creates on any nodes never exceed the quota.
    /// `Conflict::Exists` when a pool has this id (the stored one is left as it was).
    async fn insert_pool(&self, pool: &UserPool, max_pools: u32) -> StoreResult<bool>;
    /// Replaces a pool if `pool.version` is still the stored version; returns the stored
    /// record with its new version. [`StoreError::VersionMismatch`] when another writer
    /// changed the pool since it was read (the caller re-reads and re-applies its change),
    /// [`StoreError::NotFound`] when the pool is gone. The check and the write are one
    /// statement, so of two nodes replacing one version exactly one wins.
    async fn replace_pool(&self, pool: &UserPool) -> StoreResult<UserPool>;
    async fn get_pool(&self, id: &str) -> StoreResult<Option<UserPool>>;
    async fn list_pools(&self) -> StoreResult<Vec<UserPool>>;
    /// Deletes a pool and everything in it. Returns whether it existed.
    async fn delete_pool(&self, id: &str) -> StoreResult<bool>;

    /// Creates or replaces a client. The pool must exist; client ids are unique across
    /// pools, so replacing a client id that belongs to another pool is a conflict.
    async fn put_client(&self, client: &AppClient) -> StoreResult<()>;
    /// Replaces the settings of an existing client of the same pool, never creating one:
    /// false when no such client is stored (deleted meanwhile, or of another pool), so an
    /// update racing a delete cannot bring the client back.
    async fn update_client(&self, client: &AppClient) -> StoreResult<bool>;
    async fn get_client(&self, id: &str) -> StoreResult<Option<AppClient>>;
    async fn list_clients(&self, pool_id: &str) -> StoreResult<Vec<AppClient>>;
    async fn delete_client(&self, id: &str) -> StoreResult<bool>;

    async fn put_resource_server(&self, server: &ResourceServer) -> StoreResult<()>;
    async fn list_resource_servers(&self, pool_id: &str) -> StoreResult<Vec<ResourceServer>>;
    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool>;
    /// Inserts a new resource server (CreateResourceServer) unless its pool has
    /// `max_per_pool` servers already (then `Ok(false)`, nothing written): the count and
    /// the insert are one transaction holding the pool, so concurrent creates on any nodes
    /// never exceed the quota. `Conflict::Exists` when the pool has a server with this
    /// identifier (the stored one is left as it was), so of two creates at once exactly
    /// one wins. A missing pool is `MissingParent`.
    async fn insert_resource_server(
        &self,
        server: &ResourceServer,
        max_per_pool: u32,
    ) -> StoreResult<bool>;

    // --- domains (issue 15, migration 0011) ------------------------------------------------

    /// Inserts a pool's domain. `Conflict::Exists` when the name belongs to any pool, or
    /// when the pool has a domain of this kind already (one prefix and one custom domain
    /// per pool): the database's unique keys decide, so of several nodes creating one
    /// name at once exactly one wins. A missing pool is `MissingParent`.
    async fn insert_domain(&self, domain: &Domain) -> StoreResult<()>;
    /// Replaces the stored domain of this name if it belongs to `domain.pool_id` (its
    /// kind stays); returns whether it did.
    async fn update_domain(&self, domain: &Domain) -> StoreResult<bool>;
    /// The domain of this name, whichever pool holds it.
    async fn get_domain(&self, domain: &str) -> StoreResult<Option<Domain>>;
    /// A pool's domains (at most two), by name.
    async fn list_domains(&self, pool_id: &str) -> StoreResult<Vec<Domain>>;
    /// Deletes the domain of this name if it belongs to the pool; returns whether it did.
    /// Deleting a pool deletes its domains too.
    async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool>;

    // --- users ---------------------------------------------------------------------------

    /// Inserts a new user (version 1). Fails with a [`Conflict`] naming the unique rule
    /// (sub, username, alias, federated identity) that another user holds. Usernames and
    /// aliases (the keys of [`UserLookup`](super::model::UserLookup) but the non-unique
    /// `verified_email`) are one space per pool: a key another user holds as any kind is
    /// refused, named by the kind this user would hold it as (a username equal to another
    /// user's email is `Conflict::Username`), so a login finds one user whichever kind it
    /// is looked up as.
    async fn create_user(&self, user: &User) -> StoreResult<User>;
    /// Replaces a user if `user.version` is still the stored version; returns the stored
    /// record with its new version. [`StoreError::VersionMismatch`] otherwise. The unique
    /// rules are [`Store::create_user`]'s, except that a key the stored record already has
    /// stays allowed (two users may share one from before the shared space existed).
    async fn update_user(&self, user: &User) -> StoreResult<User>;
    async fn get_user(&self, pool_id: &str, by: &UserRef) -> StoreResult<Option<User>>;
    /// Users of a pool whose verified `email` has the normalized key `email_key`
    /// ([`crate::core::model::UserLookup::verified_email`], kept whether or not email is a
    /// sign-in alias), ordered by sub, at most `limit` of them (0 returns none). Several
    /// users may share an address; automatic account linking asks for two to learn
    /// whether exactly one has it.
    async fn users_by_verified_email(
        &self,
        pool_id: &str,
        email_key: &str,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    /// Deletes a user with its memberships and federated links.
    async fn delete_user(&self, pool_id: &str, sub: &str) -> StoreResult<bool>;
    /// Users of a pool in a stable order, one page at a time.
    async fn list_users(&self, pool_id: &str, page: &PageRequest) -> StoreResult<Page<User>>;
    async fn count_users(&self, pool_id: &str) -> StoreResult<u64>;
    /// ListUsers with a `Filter`: the users of a pool matching `filter`, one page at a
    /// time, in the order of the filtered value, then sub. Served by an index on both
    /// engines, so a page costs the same in a pool of ten users or of ten million (issue
    /// 14); never a scan of the JSON documents.
    async fn search_users(
        &self,
        pool_id: &str,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<User>>;
    /// Inserts many users in one transaction (bulk import). A user that collides with an
    /// existing one is skipped and reported, not an error.
    async fn import_users(&self, users: &[User]) -> StoreResult<ImportOutcome>;

    // --- groups and memberships ------------------------------------------------------------

    async fn put_group(&self, group: &Group) -> StoreResult<()>;
    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>>;
    async fn list_groups(&self, pool_id: &str) -> StoreResult<Vec<Group>>;
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool>;
    /// Adds a user to a group (idempotent). Both must exist.
    async fn add_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()>;
    /// Adds many `(group, sub)` memberships in one transaction (bulk import), each
    /// idempotent. All or nothing: a missing group or user adds none of them
    /// (`MissingParent("group or user")`).
    async fn add_members(&self, pool_id: &str, members: &[(String, String)]) -> StoreResult<()>;
    async fn remove_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<bool>;
    /// The groups a user belongs to, by precedence (lowest first), then name.
    async fn groups_of_user(&self, pool_id: &str, sub: &str) -> StoreResult<Vec<Group>>;
    /// Subs of a group's members, one page at a time.
    async fn members_of_group(
        &self,
        pool_id: &str,
        group: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<String>>;

    // --- signing keys ------------------------------------------------------------------------

    /// Inserts `key` as the active key for its (pool, purpose) unless one is active
    /// already; returns the active key either way. Nodes starting at once converge on one
    /// key set because the database allows one active key per (pool, purpose).
    async fn insert_key_if_none_active(&self, key: &SigningKey) -> StoreResult<SigningKey>;
    /// Retires the active key of (pool, purpose) at `now` and makes `key` active, atomically.
    async fn rotate_key(&self, key: &SigningKey, now: UnixTime) -> StoreResult<()>;
    /// All keys of a pool (active and retired), newest first.
    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKey>>;
    /// Removes retired keys of a pool that retired before `retired_before`.
    async fn prune_keys(&self, pool_id: &str, retired_before: UnixTime) -> StoreResult<u64>;

    // --- SAML service-provider keys --------------------------------------------------------

    /// Inserts `key` as the pool's active SAML SP key unless one is active already;
    /// returns the active key either way (one active key per pool, enforced by the
    /// database, so nodes creating a pool's first key at once converge on one).
    async fn insert_sp_key_if_none_active(&self, key: &SpKeyRecord) -> StoreResult<SpKeyRecord>;
    /// Retires the pool's active SP key at `now`, keeping its certificate published until
    /// `published_until`, and makes `key` active, atomically.
    async fn rotate_sp_key(
        &self,
        key: &SpKeyRecord,
        now: UnixTime,
        published_until: UnixTime,
    ) -> StoreResult<()>;
    /// All SP keys of a pool: the active one first, then the retired ones, the last
    /// retired first (times are whole seconds: keys retired in the same second come in
    /// no particular order).
    async fn list_sp_keys(&self, pool_id: &str) -> StoreResult<Vec<SpKeyRecord>>;

    // --- identity pools, roles, identities ---------------------------------------------------

    /// Creates or replaces an identity pool (its identities are kept).
    async fn put_identity_pool(&self, pool: &IdentityPool) -> StoreResult<()>;
    async fn get_identity_pool(&self, id: &str) -> StoreResult<Option<IdentityPool>>;
    /// Identity pools by id, one page at a time (`page.limit` 0 means 60, Cognito's
    /// ListIdentityPools maximum; the service bounds it to 1..=60).
    async fn list_identity_pools(&self, page: &PageRequest) -> StoreResult<Page<IdentityPool>>;
    /// Deletes an identity pool with its identities and their logins. Returns whether it
    /// existed.
    async fn delete_identity_pool(&self, id: &str) -> StoreResult<bool>;

    /// Creates or replaces a role (keyed by its ARN).
    async fn put_role(&self, role: &Role) -> StoreResult<()>;
    /// One primary-key read: credential checks read the role at every request.
    async fn get_role(&self, arn: &str) -> StoreResult<Option<Role>>;
    /// Every role, by ARN.
    async fn list_roles(&self) -> StoreResult<Vec<Role>>;
    async fn delete_role(&self, arn: &str) -> StoreResult<bool>;

    /// The identity of `pool_id` that holds `login`, or else `candidate` inserted (with
    /// `pool_id` and `login` as its only login; the candidate's own `identity_pool_id` and
    /// `logins` are not read). Nodes resolving one login at once converge on ONE identity:
    /// the database keeps one identity per (pool, provider, subject) and the losers of the
    /// race return the winner's. `None` (a guest) always inserts the candidate. A missing
    /// pool is `MissingParent("identity pool")`; a candidate id that is taken,
    /// `Conflict::Exists`.
    async fn get_or_create_identity(
        &self,
        pool_id: &str,
        login: Option<&IdentityLogin>,
        candidate: &Identity,
    ) -> StoreResult<Identity>;
    async fn get_identity(&self, id: &str) -> StoreResult<Option<Identity>>;
    /// The identities of a pool by id, one page at a time.
    async fn list_identities(
        &self,
        pool_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Identity>>;
    /// Deletes identities (with their logins); returns the ids that existed and are gone.
    async fn delete_identities(&self, ids: &[String]) -> StoreResult<Vec<String>>;
    /// Removes one login from an identity, stamping `updated_at = now`; returns whether
    /// the identity held it. An identity left with no logins stays (by id only: the
    /// unlinked login makes a new identity next time it is seen).
    async fn unlink_identity(
        &self,
        id: &str,
        login: &IdentityLogin,
        now: UnixTime,
    ) -> StoreResult<bool>;
    async fn count_identities(&self, pool_id: &str) -> StoreResult<u64>;

    // --- operator credentials (admin keys for SigV4-signed management calls) -------------

    /// Inserts an operator credential; `Conflict::Exists` when its access key id is taken
    /// (the stored key is left as it was).
    async fn insert_admin_key(&self, key: &crate::core::admin_keys::AdminKey) -> StoreResult<()>;
    /// The credential with this access key id (compared byte for byte).
    async fn get_admin_key(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<crate::core::admin_keys::AdminKey>>;
    /// Every credential, ordered by access key id.
    async fn list_admin_keys(&self) -> StoreResult<Vec<crate::core::admin_keys::AdminKey>>;
    /// Deletes a credential; whether one was there.
    async fn delete_admin_key(&self, access_key_id: &str) -> StoreResult<bool>;

    // --- identity service token keys (issue 12, migration 0009) ----------------------------

    /// Inserts `key` as the identity service's active key unless one is active already;
    /// returns the active key either way (one active key per deployment, enforced by the
    /// database, so nodes creating the first key at once converge on one).
    async fn insert_identity_key_if_none_active(
        &self,
        key: &IdentityKeyRecord,
    ) -> StoreResult<IdentityKeyRecord>;
    /// Retires the active identity key at `now`, keeping it published until
    /// `published_until`, and makes `key` active, atomically.
    async fn rotate_identity_key(
        &self,
        key: &IdentityKeyRecord,
        now: UnixTime,
        published_until: UnixTime,
    ) -> StoreResult<()>;
    /// Every identity key: the active one first, then the retired ones, the last retired
    /// first.
    async fn list_identity_keys(&self) -> StoreResult<Vec<IdentityKeyRecord>>;
    /// Removes retired identity keys no longer published at `now`; returns how many.
    async fn prune_identity_keys(&self, now: UnixTime) -> StoreResult<u64>;

    // --- the auth event log (threat protection) ---------------------------------------------

    /// Writes a batch of events at once (one statement per 200); an id already stored is
    /// left as it is.
    async fn insert_auth_events(&self, events: &[AuthEvent]) -> StoreResult<()>;
    /// A pool's events (one user's when `sub` is given) created at or after `since`,
    /// newest first.
    async fn list_auth_events(
        &self,
        pool_id: &str,
        sub: Option<&str>,
        since: UnixTime,
        page: &PageRequest,
    ) -> StoreResult<Page<AuthEvent>>;
    /// A user's latest sign-in history (events that
    /// [count as history](AuthEvent::counts_as_history)) created at or after `since`,
    /// newest first, at most `limit`.
    async fn list_sign_in_history(
        &self,
        pool_id: &str,
        sub: &str,
        since: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<AuthEvent>>;
    async fn get_auth_event(&self, pool_id: &str, id: &str) -> StoreResult<Option<AuthEvent>>;
    /// Replaces an event's document (its feedback); returns whether it was there.
    async fn update_auth_event(&self, event: &AuthEvent) -> StoreResult<bool>;
    /// Deletes every event created before `before` (the retention); returns how many.
    async fn prune_auth_events(&self, before: UnixTime) -> StoreResult<u64>;

    // --- short-lived protocol state (flows, codes), shared by every node ----------------------

    /// Stores a value under (kind, id) until `expires_at`. Fails with `Conflict::Exists`
    /// if the id is taken; a row that expired at or before `now` and is not yet purged
    /// does not hold its id.
    async fn put_ephemeral(
        &self,
        kind: &str,
        id: &str,
        value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<()>;
    /// Reads a live value without consuming it.
    async fn get_ephemeral(
        &self,
        kind: &str,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<String>>;
    /// Removes and returns a live value. Exactly one of several concurrent callers gets it
    /// (single use across nodes).
    async fn take_ephemeral(
        &self,
        kind: &str,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<String>>;
    /// Replaces the value and expiry of a live (kind, id) row, but only if its current
    /// value is `expected` (compare-and-swap); returns whether it did. Of several
    /// concurrent callers passing the same `expected`, exactly one succeeds (rotation of
    /// single-use state such as refresh tokens, across nodes).
    async fn replace_ephemeral(
        &self,
        kind: &str,
        id: &str,
        expected: &str,
        new_value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Live rows of `kind` whose id starts with `id_prefix` (byte for byte; `%` and `_`
    /// are ordinary characters), as (id, value, expires_at), ordered by id, at most
    /// `limit` of them (0 returns none).
    async fn list_ephemeral(
        &self,
        kind: &str,
        id_prefix: &str,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<(String, String, UnixTime)>>;
    /// Deletes (kind, id) whatever its expiry; returns whether a row was there (an
    /// expired row not yet purged counts).
    async fn delete_ephemeral(&self, kind: &str, id: &str) -> StoreResult<bool>;
    /// Deletes expired values and expired counters (see [`Store::increment_counter`]);
    /// returns how many rows of both.
    async fn purge_ephemeral(&self, now: UnixTime) -> StoreResult<u64>;

    // --- counters (brute-force and rate limits), shared by every node ------------------------

    /// Atomically adds 1 to the counter `key` and returns its new value. A missing or
    /// expired counter (expires_at <= now) restarts at 1 with expiry `window_expires_at`;
    /// a live counter keeps its expiry (a fixed window). Concurrent increments are never
    /// lost: N of them return 1..=N, each once.
    async fn increment_counter(
        &self,
        key: &str,
        window_expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<i64>;
    /// A live counter as (value, expires_at); `None` if missing or expired.
    async fn get_counter(&self, key: &str, now: UnixTime) -> StoreResult<Option<(i64, UnixTime)>>;
    /// Deletes every counter (live or expired) whose key starts with `prefix` (byte for
    /// byte; `%` and `_` are ordinary characters); returns how many. An empty prefix
    /// deletes all counters.
    async fn delete_counters(&self, prefix: &str) -> StoreResult<u64>;
    /// Live counters whose key starts with `prefix`, as (key, value, expires_at), ordered
    /// by key, at most `limit` of them (0 returns none).
    async fn list_counters(
        &self,
        prefix: &str,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<(String, i64, UnixTime)>>;
}
