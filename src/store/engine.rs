//! The seam between the one [`Store`](super::Store) implementation both engines share
//! (`shared`) and the engines themselves: what an engine supplies ([`Engine`]) and how the
//! shared code runs a statement on it ([`Run`]).
//!
//! Statements are written once, with `$N` placeholders. PostgreSQL numbers its parameters
//! that way, and SQLite reads `$N` as a named parameter that sqlx's SQLite driver binds to
//! the N-th value, so one text serves both engines and nothing is rewritten. Only what
//! really differs stays in an engine's file: how it connects and opens a write
//! transaction, how it names a broken unique rule, the row locks PostgreSQL needs under
//! READ COMMITTED, and the batch statements (PostgreSQL's `UNNEST`).

use std::future::Future;

use async_trait::async_trait;
use sqlx::error::DatabaseError;
use sqlx::query::Query;
use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Transaction, Type};

use super::sql::{self, Affected, RecordRow};
use super::{Conflict, ImportOutcome, StoreError, StoreResult};
use crate::core::model::User;

/// What one engine supplies to the shared [`Store`](super::Store) implementation.
pub(crate) trait Engine: Send + Sync + 'static {
    /// The sqlx driver; its rows and results are read through [`RecordRow`] and
    /// [`Affected`].
    type Db: Database<Row: RecordRow, QueryResult: Affected>;

    /// What [`Store::engine`](super::Store::engine) answers.
    const NAME: &'static str;
    /// `SELECT 1` for the group `($1 pool, $2 name)` that a membership is about to point
    /// at, holding the row until the transaction ends where the engine needs a lock for it.
    const GROUP_EXISTS: &'static str;
    /// `SELECT 1` for the user `($1 pool, $2 sub)` that a membership is about to point at,
    /// likewise.
    const USER_EXISTS: &'static str;
    /// `SELECT 1` for the pool `$1`, holding it until the transaction ends where the engine
    /// needs a lock for it (a per-pool quota counted and written in one transaction).
    const POOL_LOCK: &'static str;
    /// A statement that holds the store-wide pool-creation lock until the transaction
    /// ends (the pool quota counted and written in one transaction, whatever the node).
    const POOLS_LOCK: &'static str;

    /// The connections that serve reads.
    fn reader(&self) -> &Pool<Self::Db>;
    /// The connections that serve writes outside a transaction.
    fn writer(&self) -> &Pool<Self::Db>;
    /// A write transaction.
    fn begin(&self) -> impl Future<Output = StoreResult<Transaction<'static, Self::Db>>> + Send;
    /// The [`Conflict`] a broken unique rule stands for (each engine names the rule its
    /// own way).
    fn conflict(error: &dyn DatabaseError) -> Conflict;

    /// [`Store::add_members`](super::Store::add_members): one batch, duplicates ignored.
    fn add_members(
        &self,
        pool_id: &str,
        members: &[(String, String)],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// [`Store::import_users`](super::Store::import_users): one batch, every user that
    /// breaks a unique rule skipped.
    fn import_users(
        &self,
        users: &[User],
    ) -> impl Future<Output = StoreResult<ImportOutcome>> + Send;

    /// [`sql::map_err`] with this engine's reading of a broken unique rule.
    fn map_err(e: sqlx::Error) -> StoreError {
        sql::map_err(e, Self::conflict)
    }
}

/// Where a statement runs.
pub(crate) enum On<'a, DB: Database> {
    /// [`Engine::reader`].
    Read,
    /// [`Engine::writer`].
    Write,
    /// An open transaction (`&mut *tx`).
    Tx(&'a mut DB::Connection),
}

/// A value bound to a `$N` placeholder: the column types the schema uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Text(&'a str),
    MaybeText(Option<&'a str>),
    Int(i64),
    MaybeInt(Option<i64>),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::MaybeText(v)
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::MaybeInt(v)
    }
}

/// A row of engine `E`.
pub(crate) type RowOf<E> = <<E as Engine>::Db as Database>::Row;

/// Running one statement with its values on an [`Engine`], errors mapped to
/// [`StoreError`]. Every engine whose driver binds the [`Value`] types has it.
#[async_trait]
pub(crate) trait Run: Engine {
    /// Runs `sql`; returns how many rows it wrote.
    async fn execute(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<u64>;
    /// The first row `sql` returns, if any.
    async fn fetch_optional(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<RowOf<Self>>>;
    /// Every row `sql` returns.
    async fn fetch_all(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Vec<RowOf<Self>>>;

    /// The first row `sql` returns, which must exist.
    async fn fetch_one(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<RowOf<Self>> {
        self.fetch_optional(on, sql, values)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

/// `sql` with `values` bound to `$1`, `$2`, ... in order.
fn bind<'q, DB>(
    sql: &'q str,
    values: &[Value<'q>],
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    values
        .iter()
        .fold(sqlx::query(sql), |query, value| match *value {
            Value::Text(v) => query.bind(v),
            Value::MaybeText(v) => query.bind(v),
            Value::Int(v) => query.bind(v),
            Value::MaybeInt(v) => query.bind(v),
        })
}

#[async_trait]
impl<E: Engine> Run for E
where
    for<'c> &'c mut <E::Db as Database>::Connection: Executor<'c, Database = E::Db>,
    for<'q> <E::Db as Database>::Arguments<'q>: IntoArguments<'q, E::Db>,
    for<'q> &'q str: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<&'q str>: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> i64: Encode<'q, E::Db> + Type<E::Db>,
    for<'q> Option<i64>: Encode<'q, E::Db> + Type<E::Db>,
{
    async fn execute(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<u64> {
        let query = bind(sql, values);
        let done = match on {
            On::Read => query.execute(self.reader()).await,
            On::Write => query.execute(self.writer()).await,
            On::Tx(conn) => query.execute(conn).await,
        };
        done.map(|d| d.rows_affected()).map_err(Self::map_err)
    }

    async fn fetch_optional(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<RowOf<Self>>> {
        let query = bind(sql, values);
        match on {
            On::Read => query.fetch_optional(self.reader()).await,
            On::Write => query.fetch_optional(self.writer()).await,
            On::Tx(conn) => query.fetch_optional(conn).await,
        }
        .map_err(Self::map_err)
    }

    async fn fetch_all(
        &self,
        on: On<'_, Self::Db>,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Vec<RowOf<Self>>> {
        let query = bind(sql, values);
        match on {
            On::Read => query.fetch_all(self.reader()).await,
            On::Write => query.fetch_all(self.writer()).await,
            On::Tx(conn) => query.fetch_all(conn).await,
        }
        .map_err(Self::map_err)
    }
}
