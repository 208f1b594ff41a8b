//! Resource servers: CreateResourceServer / UpdateResourceServer / DeleteResourceServer.
//! Their scopes are what clients request as `<identifier>/<scope>`.

use std::ops::Deref;

use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::model::ResourceServer;
use crate::core::storage::{Store, StoreError};

/// Cognito's limits: identifiers and names 1 to 256 characters, at most 100 scopes of
/// 1 to 256 characters.
const MAX_IDENTIFIER: usize = 256;
const MAX_NAME: usize = 256;
const MAX_SCOPES: usize = 100;

/// CreateResourceServer's rules on a resource server record.
pub fn validate_resource_server(rs: &ResourceServer) -> Vec<FieldError> {
    let mut e = Errors::default();
    let identifier_ok = (1..=MAX_IDENTIFIER).contains(&rs.identifier.len())
        && rs
            .identifier
            .chars()
            .all(|ch| ch.is_ascii_graphic() && ch != '"' && ch != '\\');
    if !identifier_ok {
        e.push(
            "identifier",
            Rule::Invalid,
            format!(
                "{:?} is not a resource server identifier: use 1 to 256 printable characters \
                 without spaces, quotes or backslashes",
                rs.identifier
            ),
            "write e.g. identifier = \"https://api.example.com\"",
        );
    }
    if rs.name.trim().is_empty() || rs.name.chars().count() > MAX_NAME {
        e.push(
            "name",
            Rule::Invalid,
            "a resource server name must have 1 to 256 characters",
            "write e.g. name = \"Orders API\"",
        );
    }
    if rs.scopes.len() > MAX_SCOPES {
        e.push(
            "scopes",
            Rule::Invalid,
            "a resource server can have at most 100 scopes",
            "remove scopes",
        );
    }
    for (s, scope) in rs.scopes.iter().enumerate() {
        let valid = (1..=256).contains(&scope.name.len())
            && scope
                .name
                .chars()
                .all(|ch| ch.is_ascii_graphic() && !matches!(ch, '"' | '\\' | '/'));
        if !valid {
            e.push(
                format!("scopes[{s}].name"),
                Rule::Invalid,
                format!(
                    "{:?} is not a scope name: use 1 to 256 printable characters without \
                     spaces, quotes, / or \\",
                    scope.name
                ),
                "write e.g. name = \"orders.read\"",
            );
        } else if rs.scopes[..s].iter().any(|o| o.name == scope.name) {
            e.push(
                format!("scopes[{s}].name"),
                Rule::Duplicate,
                format!("scope {:?} is declared twice", scope.name),
                "remove the duplicate",
            );
        }
    }
    e.into_vec()
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateResourceServer / UpdateResourceServer: creates or replaces the pool's server
    /// with this identifier.
    pub async fn put_resource_server(&self, server: &ResourceServer) -> AdminResult<()> {
        valid(RecordKind::ResourceServer, validate_resource_server(server))?;
        match self.store().put_resource_server(server).await {
            Err(StoreError::MissingParent(_)) => Err(AdminError::NotFound {
                kind: RecordKind::Pool,
                id: server.pool_id.clone(),
            }),
            other => Ok(other?),
        }
    }

    /// DeleteResourceServer. Returns whether it existed.
    pub async fn delete_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> AdminResult<bool> {
        Ok(self
            .store()
            .delete_resource_server(pool_id, identifier)
            .await?)
    }
}
