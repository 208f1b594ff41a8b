//! ListUsers: Filter (`attr = "v"`, `attr ^= "v"`) over Cognito's filterable attributes, AttributesToGet, Limit and PaginationToken, served by an index on both engines.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// `ListUsers`.
pub async fn list_users(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ListUsers is not served yet (issue 14 H5).",
    ))
}
