//! Resource servers: CreateResourceServer / UpdateResourceServer / DeleteResourceServer.
//! Their scopes are what clients request as `<identifier>/<scope>`.
//!
//! A scope that an update or a delete removes is no longer granted (Cognito: "users can no
//! longer generate access tokens with scopes that are associated with that resource
//! server"): the service takes it out of the allowed scopes of the pool's API-made clients
//! in the same call, whether the API or `cognate apply` removes it. A client declared in
//! the configuration file changes only there, so an API removal that would change one is
//! refused, naming the client.

use std::ops::Deref;

use super::roles::refuse_config_owned;
use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::model::{Origin, ResourceServer};
use crate::core::storage::{Conflict, Store, StoreError};

/// Cognito's limits: identifiers and names 1 to 256 characters, at most 100 scopes of
/// 1 to 256 characters.
const MAX_IDENTIFIER: usize = 256;
const MAX_NAME: usize = 256;
const MAX_SCOPES: usize = 100;
const MAX_SCOPE_DESCRIPTION: usize = 256;
/// Cognito's quota of resource servers per user pool.
pub const MAX_SERVERS_PER_POOL: usize = 25;

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
        } else if scope.description.chars().count() > MAX_SCOPE_DESCRIPTION {
            e.push(
                format!("scopes[{s}].description"),
                Rule::Invalid,
                "a scope description can have at most 256 characters",
                "shorten it",
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
    /// Scopes the replacement removes leave the pool's API-made clients (see the module's
    /// note), whoever writes it: the API or `cognate apply`.
    pub async fn put_resource_server(&self, server: &ResourceServer) -> AdminResult<()> {
        valid(RecordKind::ResourceServer, validate_resource_server(server))?;
        let removed = match self
            .resource_server(&server.pool_id, &server.identifier)
            .await?
        {
            Some(stored) => removed_scopes(&stored, server),
            None => Vec::new(),
        };
        match self.store().put_resource_server(server).await {
            Err(StoreError::MissingParent(_)) => {
                return Err(AdminError::NotFound {
                    kind: RecordKind::Pool,
                    id: server.pool_id.clone(),
                })
            }
            other => other?,
        }
        self.release_scopes(&server.pool_id, &removed).await
    }

    /// CreateResourceServer: a new server of the pool. An identifier the pool has is
    /// [`AdminError::Exists`] (the store's key decides, so of two creates one wins); a pool
    /// with [`MAX_SERVERS_PER_POOL`] servers refuses another on the `resource_servers`
    /// path; an unknown pool is [`AdminError::NotFound`].
    pub async fn create_resource_server(&self, server: &ResourceServer) -> AdminResult<()> {
        valid(RecordKind::ResourceServer, validate_resource_server(server))?;
        let stored = self.store().list_resource_servers(&server.pool_id).await?;
        if stored.iter().any(|s| s.identifier == server.identifier) {
            return Err(AdminError::Exists {
                kind: RecordKind::ResourceServer,
                id: server.identifier.clone(),
            });
        }
        let full = || AdminError::Invalid {
            kind: RecordKind::ResourceServer,
            errors: vec![FieldError::new(
                "resource_servers",
                Rule::Invalid,
                format!(
                    "user pool {} has {MAX_SERVERS_PER_POOL} resource servers, the most a \
                     pool can have",
                    server.pool_id
                ),
                "delete one first",
            )],
        };
        // Checked again by the store, atomically with the insert.
        if stored.len() >= MAX_SERVERS_PER_POOL {
            return Err(full());
        }
        match self
            .store()
            .insert_resource_server(server, MAX_SERVERS_PER_POOL as u32)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(full()),
            Err(StoreError::MissingParent(_)) => Err(AdminError::NotFound {
                kind: RecordKind::Pool,
                id: server.pool_id.clone(),
            }),
            Err(StoreError::Conflict(Conflict::Exists)) => Err(AdminError::Exists {
                kind: RecordKind::ResourceServer,
                id: server.identifier.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The pool's server with this identifier.
    pub async fn resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> AdminResult<Option<ResourceServer>> {
        Ok(self
            .store()
            .list_resource_servers(pool_id)
            .await?
            .into_iter()
            .find(|s| s.identifier == identifier))
    }

    /// The pool's servers, by identifier (ListResourceServers).
    pub async fn resource_servers(&self, pool_id: &str) -> AdminResult<Vec<ResourceServer>> {
        Ok(self.store().list_resource_servers(pool_id).await?)
    }

    /// UpdateResourceServer on behalf of `by`: replaces the name and the scopes (Cognito's
    /// whole-record update: no scopes given is none). Scopes it removes leave the pool's
    /// clients (see the module's note). An unknown server is [`AdminError::NotFound`]; one
    /// declared in the configuration file is [`AdminError::ConfigOwned`] to the API.
    pub async fn update_resource_server(
        &self,
        server: &ResourceServer,
        by: Origin,
    ) -> AdminResult<ResourceServer> {
        let Some(stored) = self
            .resource_server(&server.pool_id, &server.identifier)
            .await?
        else {
            return Err(AdminError::NotFound {
                kind: RecordKind::ResourceServer,
                id: server.identifier.clone(),
            });
        };
        refuse_config_owned(
            RecordKind::ResourceServer,
            &server.identifier,
            stored.origin,
            by,
        )?;
        let updated = ResourceServer {
            origin: stored.origin,
            ..server.clone()
        };
        valid(
            RecordKind::ResourceServer,
            validate_resource_server(&updated),
        )?;
        let removed = removed_scopes(&stored, &updated);
        self.check_scopes_releasable(&stored.pool_id, &removed, by)
            .await?;
        self.put_resource_server(&updated).await?;
        Ok(updated)
    }

    /// DeleteResourceServer on behalf of `by`: its scopes leave the pool's clients (see
    /// the module's note). Returns whether it existed.
    pub async fn delete_resource_server_by(
        &self,
        pool_id: &str,
        identifier: &str,
        by: Origin,
    ) -> AdminResult<bool> {
        let Some(stored) = self.resource_server(pool_id, identifier).await? else {
            return Ok(false);
        };
        refuse_config_owned(RecordKind::ResourceServer, identifier, stored.origin, by)?;
        let removed = full_scopes(&stored, &stored.scopes);
        self.check_scopes_releasable(pool_id, &removed, by).await?;
        self.delete_resource_server(pool_id, identifier).await
    }

    /// Refuses to remove a scope that a client declared in the configuration file allows
    /// when the API asks (that client changes only through the file).
    async fn check_scopes_releasable(
        &self,
        pool_id: &str,
        removed: &[String],
        by: Origin,
    ) -> AdminResult<()> {
        if removed.is_empty() || by == Origin::Config {
            return Ok(());
        }
        for client in self.store().list_clients(pool_id).await? {
            if client.origin != Origin::Config {
                continue;
            }
            if let Some(scope) = client
                .allowed_oauth_scopes
                .iter()
                .find(|s| removed.contains(s))
            {
                return Err(AdminError::Invalid {
                    kind: RecordKind::ResourceServer,
                    errors: vec![FieldError::new(
                        "scopes",
                        Rule::Invalid,
                        format!(
                            "scope {scope} is allowed by app client {}, which is declared in \
                             the configuration file",
                            client.id
                        ),
                        "remove the scope from that client in the file and run `cognate apply` first",
                    )],
                });
            }
        }
        Ok(())
    }

    /// Takes `removed` out of the allowed scopes of the pool's API-made clients.
    async fn release_scopes(&self, pool_id: &str, removed: &[String]) -> AdminResult<()> {
        if removed.is_empty() {
            return Ok(());
        }
        for mut client in self.store().list_clients(pool_id).await? {
            if client.origin == Origin::Config
                || !client
                    .allowed_oauth_scopes
                    .iter()
                    .any(|s| removed.contains(s))
            {
                continue;
            }
            client.allowed_oauth_scopes.retain(|s| !removed.contains(s));
            // Update-only: a client deleted meanwhile stays deleted.
            self.store().update_client(&client).await?;
        }
        Ok(())
    }

    /// DeleteResourceServer. Returns whether it existed.
    /// Its scopes leave the pool's API-made clients (see the module's note), whoever
    /// deletes it: the API or `cognate apply --prune`.
    pub async fn delete_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> AdminResult<bool> {
        let Some(stored) = self.resource_server(pool_id, identifier).await? else {
            return Ok(false);
        };
        let existed = self
            .store()
            .delete_resource_server(pool_id, identifier)
            .await?;
        self.release_scopes(pool_id, &full_scopes(&stored, &stored.scopes))
            .await?;
        Ok(existed)
    }
}

/// The full names (`<identifier>/<scope>`) of `scopes` of `server`.
fn full_scopes(
    server: &ResourceServer,
    scopes: &[crate::core::model::ResourceScope],
) -> Vec<String> {
    scopes
        .iter()
        .map(|s| format!("{}/{}", server.identifier, s.name))
        .collect()
}

/// The full names of the scopes `stored` has and `updated` does not.
fn removed_scopes(stored: &ResourceServer, updated: &ResourceServer) -> Vec<String> {
    let gone: Vec<_> = stored
        .scopes
        .iter()
        .filter(|s| !updated.scopes.iter().any(|u| u.name == s.name))
        .cloned()
        .collect();
    full_scopes(stored, &gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::admin::tests::{client, pool, service};
    use crate::core::model::ResourceScope;

    fn inventory(scopes: &[&str]) -> ResourceServer {
        ResourceServer {
            pool_id: pool().id,
            identifier: "inventory".into(),
            name: "Inventory".into(),
            origin: Origin::Api,
            scopes: scopes
                .iter()
                .map(|s| ResourceScope {
                    name: s.to_string(),
                    description: "d".into(),
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn removed_scopes_leave_api_clients_and_a_file_client_keeps_them() {
        let (_dir, admin) = service().await;
        admin.put_pool(&pool()).await.unwrap();
        admin
            .create_resource_server(&inventory(&["read", "write"]))
            .await
            .unwrap();
        let mut api = client();
        api.allowed_oauth_scopes = vec!["openid".into(), "inventory/write".into()];
        admin.put_client(&api).await.unwrap();
        let mut file = client();
        file.id = "fileclient1".into();
        file.origin = Origin::Config;
        file.allowed_oauth_scopes = vec!["openid".into(), "inventory/read".into()];
        admin.put_client(&file).await.unwrap();

        // Removing `read`, which the file's client allows: refused, nothing changed.
        let err = admin
            .update_resource_server(&inventory(&["write"]), Origin::Api)
            .await
            .unwrap_err();
        let errors = err.field_errors();
        assert_eq!(errors[0].path, "scopes");
        assert!(errors[0].message.contains("fileclient1"), "{err}");
        let err = admin
            .delete_resource_server_by(&pool().id, "inventory", Origin::Api)
            .await
            .unwrap_err();
        assert_eq!(err.field_errors()[0].path, "scopes");
        let stored = admin
            .resource_server(&pool().id, "inventory")
            .await
            .unwrap();
        assert_eq!(stored.unwrap().scopes.len(), 2);

        // Removing `write`: it leaves the API client; the file's client is untouched.
        admin
            .update_resource_server(&inventory(&["read"]), Origin::Api)
            .await
            .unwrap();
        let store = admin.store();
        let api_now = store.get_client(&api.id).await.unwrap().unwrap();
        assert_eq!(api_now.allowed_oauth_scopes, ["openid"]);
        let file_now = store.get_client(&file.id).await.unwrap().unwrap();
        assert_eq!(file_now.allowed_oauth_scopes, file.allowed_oauth_scopes);

        // The file itself (Origin::Config, `cognate apply --prune`) may remove what its
        // own clients allowed; the API clients lose the scopes then too.
        let mut api_read = api_now.clone();
        api_read.allowed_oauth_scopes.push("inventory/read".into());
        admin.put_client(&api_read).await.unwrap();
        assert!(admin
            .delete_resource_server_by(&pool().id, "inventory", Origin::Config)
            .await
            .unwrap());
        let api_after = store.get_client(&api.id).await.unwrap().unwrap();
        assert_eq!(api_after.allowed_oauth_scopes, ["openid"]);
    }

    #[tokio::test]
    async fn create_refuses_a_taken_identifier_and_the_26th_server() {
        let (_dir, admin) = service().await;
        admin.put_pool(&pool()).await.unwrap();
        admin.create_resource_server(&inventory(&[])).await.unwrap();
        assert!(matches!(
            admin.create_resource_server(&inventory(&[])).await,
            Err(AdminError::Exists {
                kind: RecordKind::ResourceServer,
                ..
            })
        ));
        for i in 1..MAX_SERVERS_PER_POOL {
            let mut rs = inventory(&[]);
            rs.identifier = format!("api-{i}");
            admin.create_resource_server(&rs).await.unwrap();
        }
        let mut extra = inventory(&[]);
        extra.identifier = "one-too-many".into();
        let err = admin.create_resource_server(&extra).await.unwrap_err();
        assert_eq!(err.field_errors()[0].path, "resource_servers");
    }
}
