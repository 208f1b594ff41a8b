use std::sync::Arc;

use super::*;
use crate::config::check::check_str;
use crate::core::secrets::SecretString;
use crate::store::sqlite::SqliteStore;

const FILE: &str = r#"
[[pools]]
id = "us-east-1_Shop12345"
name = "shop"
username_attributes = ["email"]

[[pools.resource_servers]]
identifier = "https://api.example.com"
name = "API"
scopes = [{ name = "orders.read" }]

[[pools.groups]]
name = "admins"
precedence = 1

[[pools.clients]]
id = "webclient1"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]

[[pools.clients]]
name = "machine"
generate_secret = true
allowed_oauth_flows = ["client_credentials"]
allowed_oauth_scopes = ["https://api.example.com/orders.read"]

[[pools]]
name = "staff"
"#;

pub(crate) async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cognate.db"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

pub(crate) fn config(text: &str) -> Config {
    check_str(text, "cognate.toml").unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

pub(crate) fn master() -> MasterKey {
    MasterKey::generate().0
}

async fn secret_of(store: &dyn Store, master: &MasterKey, client_id: &str) -> String {
    let client = store.get_client(client_id).await.unwrap().unwrap();
    master
        .open_string(
            &client_secret_context(client_id),
            client.secret.as_ref().unwrap(),
        )
        .unwrap()
        .expose()
        .to_string()
}

#[tokio::test]
async fn applying_twice_changes_nothing_the_second_time() {
    let (_dir, store) = store().await;
    let master = master();
    let file = config(FILE);

    let first = apply(&file, store.as_ref(), &master, false, 1000)
        .await
        .unwrap();
    assert_eq!(first.count(Action::Created), 6, "{first}");
    assert_eq!(first.pool_ids.len(), 2);
    assert_eq!(first.pool_ids[0], "us-east-1_Shop12345");
    // The machine client and the staff pool had no ids: both were generated and reported.
    let places: Vec<&str> = first
        .generated_ids
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(
        places,
        [
            "pools[0].clients[1] name \"machine\"",
            "pools[1] name \"staff\""
        ]
    );
    let staff_id = first.generated_ids[1].1.clone();
    assert!(ids::is_valid_pool_id(&staff_id) && staff_id.starts_with("us-east-1_"));
    assert!(
        first.to_string().contains(&format!("id = \"{staff_id}\"")),
        "{first}"
    );

    let machine_id = first.generated_ids[0].1.clone();
    let secret = secret_of(store.as_ref(), &master, &machine_id).await;
    assert_eq!(secret.len(), 51);
    let web = store.get_client("webclient1").await.unwrap().unwrap();
    assert!(web.secret.is_none() && web.require_pkce);
    assert_eq!(web.origin, Origin::Config);
    let pool_before = store
        .get_pool("us-east-1_Shop12345")
        .await
        .unwrap()
        .unwrap();

    let second = apply(&file, store.as_ref(), &master, false, 2000)
        .await
        .unwrap();
    assert!(!second.changed(), "{second}");
    assert_eq!(second.count(Action::Unchanged), 6);
    assert!(
        second.generated_ids.is_empty(),
        "ids are adopted by name: {second}"
    );
    assert_eq!(second.pool_ids, first.pool_ids);
    assert_eq!(
        secret_of(store.as_ref(), &master, &machine_id).await,
        secret,
        "the secret is kept"
    );
    let pool_after = store
        .get_pool("us-east-1_Shop12345")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pool_after, pool_before, "updated_at is not bumped");
    assert_eq!(store.list_pools().await.unwrap().len(), 2);

    // A change updates only what changed, and bumps only its updated_at.
    let changed = config(&FILE.replace("precedence = 1", "precedence = 2"));
    let third = apply(&changed, store.as_ref(), &master, false, 3000)
        .await
        .unwrap();
    assert_eq!(
        third
            .with(Action::Updated)
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        ["admins"]
    );
    let group = store
        .get_group("us-east-1_Shop12345", "admins")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (group.created_at, group.updated_at, group.precedence),
        (1000, 3000, Some(2))
    );
}

#[tokio::test]
async fn undeclared_records_are_kept_unless_pruned() {
    let (_dir, store) = store().await;
    let master = master();
    apply(&config(FILE), store.as_ref(), &master, false, 1000)
        .await
        .unwrap();

    // Drop the staff pool, the machine client, the resource server and the group. The
    // machine client's scopes named the resource server, so drop it as a whole.
    let smaller = FILE
        .split("\n[[pools.resource_servers]]")
        .next()
        .unwrap()
        .to_string()
        + "\n[[pools.clients]]\nid = \"webclient1\"\nname = \"web\"\ncallback_urls = [\"https://app.example.com/cb\"]\nallowed_oauth_flows = [\"code\"]\nallowed_oauth_scopes = [\"openid\", \"email\"]\n";
    let smaller = config(&smaller);

    let kept = apply(&smaller, store.as_ref(), &master, false, 2000)
        .await
        .unwrap();
    let mut kept_names: Vec<(Kind, String)> = kept
        .with(Action::Kept)
        .map(|i| (i.kind, i.name.clone()))
        .collect();
    kept_names.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        kept_names,
        [
            (Kind::ResourceServer, "API".to_string()),
            (Kind::Group, "admins".to_string()),
            (Kind::Client, "machine".to_string()),
            (Kind::Pool, "staff".to_string()),
        ]
    );
    assert!(
        kept.to_string().contains("run with --prune to delete"),
        "{kept}"
    );
    assert_eq!(store.list_pools().await.unwrap().len(), 2);
    assert_eq!(
        store
            .list_clients("us-east-1_Shop12345")
            .await
            .unwrap()
            .len(),
        2
    );

    // Records made by the CLI/API are never pruned.
    let api_pool = UserPool {
        origin: Origin::Api,
        ..PoolDecl {
            name: "from the api".into(),
            ..PoolDecl::default()
        }
        .to_record("us-east-1_Api000001", 2000, None)
    };
    store.put_pool(&api_pool).await.unwrap();
    let api_client = AppClient {
        origin: Origin::Api,
        ..ClientDecl {
            name: "cli client".into(),
            ..ClientDecl::default()
        }
        .to_record("apiclient1", "us-east-1_Shop12345", None, 2000, None)
    };
    store.put_client(&api_client).await.unwrap();

    let pruned = apply(&smaller, store.as_ref(), &master, true, 3000)
        .await
        .unwrap();
    assert_eq!(pruned.count(Action::Deleted), 4, "{pruned}");
    assert_eq!(pruned.count(Action::Kept), 0);
    let pools: Vec<String> = store
        .list_pools()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(pools.len(), 2);
    assert!(pools.contains(&"from the api".to_string()) && pools.contains(&"shop".to_string()));
    let clients: Vec<String> = store
        .list_clients("us-east-1_Shop12345")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(clients.len(), 2);
    assert!(clients.contains(&"apiclient1".to_string()));
    assert!(store
        .list_resource_servers("us-east-1_Shop12345")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_groups("us-east-1_Shop12345")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn records_made_by_the_api_are_never_taken_over() {
    let (_dir, store) = store().await;
    let master = master();
    let api_pool = UserPool {
        origin: Origin::Api,
        ..PoolDecl {
            name: "shop".into(),
            ..PoolDecl::default()
        }
        .to_record("us-east-1_Shop12345", 1000, None)
    };
    store.put_pool(&api_pool).await.unwrap();

    let err = apply(&config(FILE), store.as_ref(), &master, true, 2000)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApplyError::ApiOwned { kind: Kind::Pool, id } if id == "us-east-1_Shop12345")
    );
    assert!(
        err.to_string()
            .starts_with("pool us-east-1_Shop12345 was created by the CLI/API; the config file cannot take it over"),
        "{err}"
    );
    // Nothing was written: the refusal comes before any write (the version is still the
    // one put_pool wrote).
    let stored = UserPool {
        version: 1,
        ..api_pool.clone()
    };
    assert_eq!(store.list_pools().await.unwrap(), vec![stored.clone()]);
    assert!(store
        .list_clients("us-east-1_Shop12345")
        .await
        .unwrap()
        .is_empty());

    // Without a pinned id, a same-named API pool is not adopted either: a new one is made.
    let unpinned = config(&FILE.replace("id = \"us-east-1_Shop12345\"\n", ""));
    let report = apply(&unpinned, store.as_ref(), &master, false, 2000)
        .await
        .unwrap();
    assert_ne!(report.pool_ids[0], "us-east-1_Shop12345");
    assert_eq!(
        store.get_pool("us-east-1_Shop12345").await.unwrap(),
        Some(stored)
    );

    // An API client with a declared id is refused the same way.
    let (_dir2, store2) = store_with_api_client().await;
    let err = apply(&config(FILE), store2.as_ref(), &master, false, 2000)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ApplyError::ApiOwned {
                kind: Kind::Client,
                ..
            }
        ),
        "{err}"
    );
}

async fn store_with_api_client() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let (dir, store) = store().await;
    let pool = PoolDecl {
        name: "shop".into(),
        ..PoolDecl::default()
    }
    .to_record("us-east-1_Shop12345", 1000, None);
    store.put_pool(&pool).await.unwrap();
    let client = AppClient {
        origin: Origin::Api,
        ..ClientDecl {
            name: "web".into(),
            ..ClientDecl::default()
        }
        .to_record("webclient1", &pool.id, None, 1000, None)
    };
    store.put_client(&client).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_client_secret_from_the_environment_is_stored_and_follows_changes() {
    let (_dir, store) = store().await;
    let master = master();
    let text = FILE.replace(
        "name = \"machine\"",
        "id = \"machineclient\"\nname = \"machine\"",
    );
    let with_secret = |secret: &str| {
        let mut c = config(&text);
        c.pools[0].clients[1].secret = Some(SecretString::new(secret));
        c
    };
    apply(
        &with_secret("first-secret"),
        store.as_ref(),
        &master,
        false,
        1000,
    )
    .await
    .unwrap();
    assert_eq!(
        secret_of(store.as_ref(), &master, "machineclient").await,
        "first-secret"
    );

    let same = apply(
        &with_secret("first-secret"),
        store.as_ref(),
        &master,
        false,
        2000,
    )
    .await
    .unwrap();
    assert!(!same.changed(), "the same secret is not re-sealed: {same}");

    let changed = apply(
        &with_secret("second-secret"),
        store.as_ref(),
        &master,
        false,
        3000,
    )
    .await
    .unwrap();
    assert_eq!(
        changed
            .with(Action::Updated)
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>(),
        ["machineclient"]
    );
    assert_eq!(
        secret_of(store.as_ref(), &master, "machineclient").await,
        "second-secret"
    );

    // Without the variable, the stored secret is kept.
    apply(&config(&text), store.as_ref(), &master, false, 4000)
        .await
        .unwrap();
    assert_eq!(
        secret_of(store.as_ref(), &master, "machineclient").await,
        "second-secret"
    );

    // A secret for a public client is refused.
    let mut public = config(&text);
    public.pools[0].clients[0].secret = Some(SecretString::new("x"));
    let err = apply(&public, store.as_ref(), &master, false, 5000)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyError::SecretForPublicClient(ref id) if id == "webclient1"),
        "{err}"
    );
}

#[tokio::test]
async fn a_client_pinned_to_another_pool_is_refused() {
    let (_dir, store) = store().await;
    let master = master();
    apply(&config(FILE), store.as_ref(), &master, false, 1000)
        .await
        .unwrap();
    // Move the web client (same id) into the staff pool.
    let moved = FILE.replace(
        "[[pools]]\nname = \"staff\"\n",
        "[[pools]]\nname = \"staff\"\n\n[[pools.clients]]\nid = \"webclient1\"\nname = \"web2\"\n",
    )
    .replace("id = \"webclient1\"\nname = \"web\"", "id = \"webclient0\"\nname = \"web\"");
    let err = apply(&config(&moved), store.as_ref(), &master, false, 2000)
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::ClientInOtherPool { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pool_is_created_once_even_by_concurrent_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.db");
    // Two handles on one file stand for two nodes starting at once.
    let a = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b = Arc::new(SqliteStore::open(&path).await.unwrap());
    let url = "http://127.0.0.1:8750";
    let start = |store: Arc<SqliteStore>| {
        tokio::spawn(async move { ensure_demo_pool(store.as_ref(), url, "us-east-1", 1000).await })
    };
    let (ta, tb) = (start(a.clone()), start(b.clone()));
    let (ra, rb) = (ta.await.unwrap(), tb.await.unwrap());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((&ra.pool_id, &ra.client_id), (&rb.pool_id, &rb.client_id));
    assert!(
        ra.created ^ rb.created,
        "exactly one start created it: {ra:?} {rb:?}"
    );
    assert_eq!(a.list_pools().await.unwrap().len(), 1);

    let pool = a.get_pool(&ra.pool_id).await.unwrap().unwrap();
    assert_eq!(pool.name, DEMO_POOL_NAME);
    assert_eq!(pool.username_attributes, [AliasAttribute::Email]);
    assert_eq!(pool.auto_verified_attributes, [AliasAttribute::Email]);
    assert_eq!(pool.required_attributes, ["email"]);
    let client = a.get_client(&ra.client_id).await.unwrap().unwrap();
    assert_eq!(client.name, DEMO_CLIENT_NAME);
    assert_eq!(
        client.callback_urls,
        ["http://127.0.0.1:8750/demo/callback"]
    );
    assert_eq!(client.logout_urls, ["http://127.0.0.1:8750/demo"]);
    assert_eq!(client.allowed_oauth_flows, [OAuthFlow::Code]);
    assert_eq!(client.supported_identity_providers, ["COGNITO"]);
    assert!(client.require_pkce && client.secret.is_none());
    assert_eq!(a.list_clients(&ra.pool_id).await.unwrap().len(), 1);

    // A later start finds it; a new public URL moves the client's URLs along.
    let again = ensure_demo_pool(a.as_ref(), "https://auth.example.com/", "us-east-1", 2000)
        .await
        .unwrap();
    assert_eq!(
        (again.pool_id.as_str(), again.created),
        (ra.pool_id.as_str(), false)
    );
    let client = a.get_client(&ra.client_id).await.unwrap().unwrap();
    assert_eq!(
        client.callback_urls,
        ["https://auth.example.com/demo/callback"]
    );
    assert_eq!(
        a.get_pool(&ra.pool_id).await.unwrap().unwrap(),
        pool,
        "the pool is unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_applying_at_once_converge_on_one_id_per_unpinned_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.db");
    let master = Arc::new(master());
    let file = Arc::new(config(FILE));
    let mut nodes = Vec::new();
    for _ in 0..2 {
        // Two handles on one file stand for two nodes starting at once.
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let (master, file) = (master.clone(), file.clone());
        let task = tokio::spawn({
            let store = store.clone();
            async move { apply(&file, store.as_ref(), &master, false, 1000).await }
        });
        nodes.push((store, task));
    }
    let mut reports = Vec::new();
    for (_, task) in &mut nodes {
        reports.push(task.await.unwrap().unwrap());
    }
    // Whichever node came second either claimed the same ids or adopted the records.
    assert_eq!(reports[0].pool_ids, reports[1].pool_ids);
    let a = nodes[0].0.as_ref();
    let pools = a.list_pools().await.unwrap();
    assert_eq!(pools.len(), 2, "{pools:?}");
    assert_eq!(
        a.list_clients("us-east-1_Shop12345").await.unwrap().len(),
        2
    );
    // Both nodes see the same secret afterwards (whichever write came last).
    let machine = &a
        .list_clients("us-east-1_Shop12345")
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "machine")
        .unwrap()
        .id;
    assert_eq!(
        secret_of(a, &master, machine).await,
        secret_of(nodes[1].0.as_ref(), &master, machine).await
    );
}

/// Issue 14: a declared client's `explicit_auth_flows` and `prevent_user_existence_errors`
/// are stored as declared (Cognito's defaults when omitted), and a change in the file
/// updates the stored client.
#[tokio::test]
async fn a_clients_api_settings_are_applied_and_follow_changes() {
    use crate::core::model::{default_auth_flows, AuthFlow, UserExistenceErrors};
    let (_dir, store) = store().await;
    let master = master();
    apply(&config(FILE), store.as_ref(), &master, false, 1000)
        .await
        .unwrap();
    let web = store.get_client("webclient1").await.unwrap().unwrap();
    assert_eq!(web.explicit_auth_flows, default_auth_flows());
    assert_eq!(
        web.prevent_user_existence_errors,
        UserExistenceErrors::Enabled
    );
    assert!(web.allows_flow(AuthFlow::AllowUserSrpAuth));
    assert!(!web.allows_flow(AuthFlow::AllowUserPasswordAuth));

    let changed = FILE.replace(
        "allowed_oauth_scopes = [\"openid\", \"email\"]",
        "allowed_oauth_scopes = [\"openid\", \"email\"]\nexplicit_auth_flows = \
         [\"ALLOW_USER_PASSWORD_AUTH\", \"ALLOW_REFRESH_TOKEN_AUTH\"]\n\
         prevent_user_existence_errors = \"LEGACY\"",
    );
    let report = apply(&config(&changed), store.as_ref(), &master, false, 2000)
        .await
        .unwrap();
    assert_eq!(
        report
            .with(Action::Updated)
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        ["web"]
    );
    let web = store.get_client("webclient1").await.unwrap().unwrap();
    assert_eq!(
        web.explicit_auth_flows,
        [
            AuthFlow::AllowUserPasswordAuth,
            AuthFlow::AllowRefreshTokenAuth
        ]
    );
    assert_eq!(
        web.prevent_user_existence_errors,
        UserExistenceErrors::Legacy
    );
    assert!(!web.allows_flow(AuthFlow::AllowUserSrpAuth));

    // No API sign-in at all: an empty list is stored empty, not replaced by defaults.
    let none = FILE.replace(
        "allowed_oauth_scopes = [\"openid\", \"email\"]",
        "allowed_oauth_scopes = [\"openid\", \"email\"]\nexplicit_auth_flows = []",
    );
    apply(&config(&none), store.as_ref(), &master, false, 3000)
        .await
        .unwrap();
    let web = store.get_client("webclient1").await.unwrap().unwrap();
    assert!(web.explicit_auth_flows.is_empty());
    assert_eq!(
        web.prevent_user_existence_errors,
        UserExistenceErrors::Enabled
    );
}

/// `domain` and `custom_domain` (issue 15): file-owned records, renamed in place, kept or
/// pruned when dropped, and a name the API holds never taken over.
#[tokio::test]
async fn declared_domains_follow_the_file() {
    let (_dir, store) = store().await;
    let master = master();
    const POOL: &str = "us-east-1_Shop12345";
    let file = |prefix: &str, custom: bool| {
        let mut pool =
            format!("[[pools]]\nid = \"{POOL}\"\nname = \"shop\"\ndomain = \"{prefix}\"\n");
        if custom {
            pool += "custom_domain = { domain = \"auth.shop.example\", certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/x\" }\n";
        }
        config(&pool)
    };
    let first = apply(&file("shop", true), store.as_ref(), &master, false, 1000)
        .await
        .unwrap();
    assert_eq!(
        first
            .with(Action::Created)
            .filter(|i| i.kind == Kind::Domain)
            .count(),
        2
    );
    let stored = store.list_domains(POOL).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|d| d.origin == Origin::Config));
    let again = apply(&file("shop", true), store.as_ref(), &master, false, 2000)
        .await
        .unwrap();
    assert_eq!(
        again
            .with(Action::Unchanged)
            .filter(|i| i.kind == Kind::Domain)
            .count(),
        2
    );

    // A new prefix replaces the old one; a dropped custom domain is kept unless pruned.
    apply(
        &file("shop-new", false),
        store.as_ref(),
        &master,
        false,
        3000,
    )
    .await
    .unwrap();
    let names: Vec<String> = store
        .list_domains(POOL)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.domain)
        .collect();
    assert_eq!(names, ["auth.shop.example", "shop-new"]);
    apply(
        &file("shop-new", false),
        store.as_ref(),
        &master,
        true,
        4000,
    )
    .await
    .unwrap();
    assert_eq!(store.list_domains(POOL).await.unwrap().len(), 1);

    // A name the API made (for any pool) is never taken over; nothing is written.
    let admin = AdminService::new(store.as_ref() as &dyn Store);
    let mut api = file("x", false).pools[0].domain_records(POOL, 1).remove(0);
    api.domain = "api-made".into();
    api.origin = Origin::Api;
    admin
        .delete_domain_by(POOL, "shop-new", Origin::Config)
        .await
        .unwrap();
    admin.create_domain(&api).await.unwrap();
    let err = apply(
        &file("api-made", false),
        store.as_ref(),
        &master,
        true,
        5000,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &err,
            ApplyError::ApiOwned {
                kind: Kind::Domain,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        store.get_domain("api-made").await.unwrap(),
        Some(api.clone())
    );

    // The API's prefix domain holds the pool's one prefix place: a file declaring another
    // prefix is refused before anything is written (the pool's settings included), so a
    // node's boot-time apply fails cleanly instead of half way.
    let before = store.get_pool(POOL).await.unwrap();
    let err = apply(
        &file("shop-file", false),
        store.as_ref(),
        &master,
        false,
        6000,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ApplyError::ApiOwned { kind: Kind::Domain, id } if id.contains("api-made")),
        "{err}"
    );
    assert!(store.get_domain("shop-file").await.unwrap().is_none());
    assert_eq!(store.get_pool(POOL).await.unwrap(), before);
    // Once the API's domain is gone, the file's is applied.
    admin
        .delete_domain_by(POOL, "api-made", Origin::Api)
        .await
        .unwrap();
    apply(
        &file("shop-file", false),
        store.as_ref(),
        &master,
        false,
        7000,
    )
    .await
    .unwrap();
    assert!(store.get_domain("shop-file").await.unwrap().is_some());
}

#[test]
fn check_config_refuses_a_domain_declared_by_two_pools() {
    let text = "[[pools]]\nname = \"shop\"\ndomain = \"shared\"\n\
                [[pools]]\nname = \"blog\"\ndomain = \"shared\"\n";
    let diagnostics = check_str(text, "cognate.toml").unwrap_err();
    let joined: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    let joined = joined.join("\n");
    assert!(joined.contains("pools[1].domain"), "{joined}");
    assert!(
        joined.contains("also declared at pools[0].domain"),
        "{joined}"
    );
    config("[[pools]]\nname = \"shop\"\ndomain = \"shop\"\n[[pools]]\nname = \"blog\"\ndomain = \"blog\"\n");
}

#[test]
fn check_config_refuses_bad_domains_at_their_keys() {
    let text = "[[pools]]\nname = \"shop\"\ndomain = \"my-aws-app\"\n\
                custom_domain = { domain = \"Not A Host\", certificate_arn = \"nope\" }\n";
    let diagnostics = check_str(text, "cognate.toml").unwrap_err();
    let all: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    let joined = all.join("\n");
    assert!(joined.contains("pools[0].domain"), "{joined}");
    assert!(joined.contains("reserved word"), "{joined}");
    assert!(joined.contains("pools[0].custom_domain.domain"), "{joined}");
    assert!(
        joined.contains("pools[0].custom_domain.certificate_arn"),
        "{joined}"
    );
    // The honest file passes.
    config("[[pools]]\nname = \"shop\"\ndomain = \"my-app\"\n");
}

#[test]
fn check_config_refuses_a_26th_resource_server() {
    let servers = |n: usize| {
        (0..n)
            .map(|i| {
                format!("[[pools.resource_servers]]\nidentifier = \"api-{i}\"\nname = \"API\"\n")
            })
            .collect::<String>()
    };
    let base = "[[pools]]\nname = \"shop\"\n";
    config(&format!("{base}{}", servers(25)));
    let diagnostics = check_str(&format!("{base}{}", servers(26)), "cognate.toml").unwrap_err();
    let joined: String = diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(joined.contains("pools[0].resource_servers"), "{joined}");
    assert!(joined.contains("at most 25"), "{joined}");
}
