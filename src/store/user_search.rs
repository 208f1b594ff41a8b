//! ListUsers with a `Filter` ([`Store::search_users`](super::Store::search_users)) over the
//! `user_filters` index (migration 0010), for both engines: one statement, a range scan of
//! the index's primary key, and the page token that resumes it.

use super::engine::{On, Run, Value};
use super::sql::{self, string_of, user_of};
use super::{doc, StoreError, StoreResult, UserFilter};
use crate::core::model::{Page, PageRequest, User};

/// One page of the users of `pool_id` matching `filter`, in (value, sub) order.
pub(crate) async fn search_users<E: Run>(
    store: &E,
    pool_id: &str,
    filter: &UserFilter,
    page: &PageRequest,
) -> StoreResult<Page<User>> {
    // The `user_filters` primary key (pool_id, attr, value, sub) serves every form:
    // equality on pool and attribute, then a range of (value, sub) that starts after
    // the page token's position and ends at the filter's (`value = v`, or `value <
    // prefix_end` for `^=`), read in index order. A page reads `limit + 1` index
    // entries and as many users by primary key, whatever the pool's size.
    let limit = doc::page_limit(page.limit);
    let after = match &page.after {
        Some(token) => Some(decode_search_token(token)?),
        None => None,
    };
    let attr = filter.attribute.as_str();
    // Where the page starts: after the token's (value, sub), but never before the
    // filter's own range (a token from another filter cannot widen the search).
    let (from_value, from_sub) = match &after {
        Some((value, sub)) if value.as_str() >= filter.value.as_str() => {
            (value.as_str(), sub.as_str())
        }
        _ => (filter.value.as_str(), ""),
    };
    let base = "SELECT u.version, u.doc, f.value AS filter_value FROM user_filters f \
                JOIN users u ON u.pool_id = f.pool_id AND u.sub = f.sub \
                WHERE f.pool_id = $1 AND f.attr = $2 AND (f.value, f.sub) > ($3, $4)";
    let mut values: Vec<Value<'_>> = vec![
        pool_id.into(),
        attr.into(),
        from_value.into(),
        from_sub.into(),
    ];
    let end;
    let sql = if !filter.prefix {
        values.push(filter.value.as_str().into());
        format!("{base} AND f.value = $5 ORDER BY f.value, f.sub LIMIT $6")
    } else if let Some(e) = sql::prefix_end(&filter.value) {
        end = e;
        values.push(end.as_str().into());
        format!("{base} AND f.value < $5 ORDER BY f.value, f.sub LIMIT $6")
    } else {
        // An empty prefix, or one of only U+10FFFF: every value from it on starts
        // with it. The `$5 IS NULL` keeps one placeholder numbering for all forms.
        values.push(Value::MaybeText(None));
        format!("{base} AND $5 IS NULL ORDER BY f.value, f.sub LIMIT $6")
    };
    values.push((limit + 1).into());
    let rows = store.fetch_all(On::Read, &sql, &values).await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        found.push((string_of(row, "filter_value")?, user_of(row)?));
    }
    let more = found.len() as i64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        found
            .last()
            .map(|(value, user)| encode_search_token(value, &user.sub))
            .transpose()?
    } else {
        None
    };
    Ok(Page {
        items: found.into_iter().map(|(_, user)| user).collect(),
        next,
    })
}

/// The page token of a filtered listing that ended at `(value, sub)`: both, as a JSON
/// pair (a value may hold any character), encoded like every page token
/// ([`PageRequest::token_after`]) so callers treat it as opaque.
fn encode_search_token(value: &str, sub: &str) -> StoreResult<String> {
    let pair = serde_json::to_string(&(value, sub))
        .map_err(|e| StoreError::Corrupt(format!("page token: {e}")))?;
    Ok(doc::encode_page_token(&pair))
}

/// The `(value, sub)` a filtered page starts after; a token that is not one is
/// `NotFound`, as for every listing.
fn decode_search_token(token: &str) -> StoreResult<(String, String)> {
    let pair = doc::decode_page_token(token)?;
    serde_json::from_str(&pair).map_err(|_| StoreError::NotFound)
}
