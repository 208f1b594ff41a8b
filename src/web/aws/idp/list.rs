//! ListUsers: Filter (`attr = "v"`, `attr ^= "v"`) over Cognito's filterable attributes,
//! AttributesToGet, Limit and PaginationToken, served by an index on both engines.
//!
//! The filter language, its normalization and the listing are the core's
//! ([`crate::core::users`]); this edge reads Cognito's input and renders `Users` and
//! `PaginationToken`.

use serde_json::{json, Value};

use super::{invalid, optional, optional_int, pool, required, string_list, user_type};
use crate::core::model::PageRequest;
use crate::core::users;
use crate::store::StoreError;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// Cognito's page size: `Limit` is 1 to 60, 60 when absent.
const MAX_LIMIT: i64 = 60;

/// `ListUsers` (signed, operator credentials).
pub async fn list_users(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let filter = match optional(&input, "Filter")? {
        Some(text) => {
            users::parse_filter(text).map_err(|e| invalid(format!("Invalid filter: {e}")))?
        }
        None => None,
    };
    let attributes_to_get = match input.get("AttributesToGet") {
        None | Some(Value::Null) => None,
        Some(_) => Some(string_list(&input, "AttributesToGet")?),
    };
    // Cognito's QueryLimitType; 0 would promise a page it cannot give (an empty page
    // that pages nowhere), so it is refused with the rest of the out-of-range values.
    let limit = optional_int(&input, "Limit", 1..=MAX_LIMIT)?.unwrap_or(MAX_LIMIT);
    let after = optional(&input, "PaginationToken")?.map(str::to_string);
    let pool = pool(state, call, pool_id).await?;
    if let Some(names) = &attributes_to_get {
        users::check_attributes_to_get(&pool, names).map_err(|name| {
            invalid(format!(
                "AttributesToGet: {name} is not an attribute of this user pool."
            ))
        })?;
    }
    let page = PageRequest {
        limit: u32::try_from(limit).unwrap_or(60),
        after,
    };
    let found = users::list_users(state.node.store.as_ref(), &pool.id, filter.as_ref(), &page)
        .await
        .map_err(|e| match e {
            // A token the store cannot read (not one it wrote).
            StoreError::NotFound => invalid("PaginationToken is not valid."),
            e => AwsError::internal(call.protocol, e),
        })?;
    let rendered: Vec<Value> = found
        .items
        .iter()
        .map(|user| {
            let mut out = user_type(user);
            if let (Some(names), Some(Value::Array(attrs))) =
                (&attributes_to_get, out.get_mut("Attributes"))
            {
                attrs.retain(|a| {
                    a.get("Name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| names.iter().any(|w| w == n))
                });
            }
            out
        })
        .collect();
    let mut out = json!({ "Users": rendered });
    if let Some(next) = found.next {
        out["PaginationToken"] = Value::String(next);
    }
    Ok(out)
}
