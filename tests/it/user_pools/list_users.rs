//! ListUsers through the official SDK (issue 14): a filter on each kind of searchable
//! attribute, AttributesToGet, paging with Limit and PaginationToken, and the filters and
//! parameters Cognito refuses, each beside the honest request succeeding.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::UserType;
use aws_sdk_cognitoidentityprovider::Client;

use super::{operator_client, public_client, start, PASSWORD, POOL};
use crate::support::server::TestServer;

async fn make_user(server: &TestServer, username: &str, attributes: &[(&str, &str)]) {
    let attributes: BTreeMap<String, String> = attributes
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server
        .create_user(POOL, username, attributes, PASSWORD)
        .await;
}

/// The usernames a filter finds (one page of 60).
async fn find(client: &Client, filter: &str) -> Vec<String> {
    let out = client
        .list_users()
        .user_pool_id(POOL)
        .filter(filter)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{filter}: {e:?}"));
    assert!(out.pagination_token().is_none(), "{filter}: one page");
    out.users()
        .iter()
        .map(|u| u.username().unwrap_or_default().to_string())
        .collect()
}

fn attribute<'a>(user: &'a UserType, name: &str) -> Option<&'a str> {
    user.attributes()
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_filters_each_attribute_kind() {
    let server = start().await;
    let client = operator_client(&server).await;
    make_user(
        &server,
        "ann",
        &[
            ("email", "Ann.Lee@Example.com"),
            ("email_verified", "true"),
            ("given_name", "Ann"),
            ("family_name", "Lee"),
            ("name", "Ann Lee"),
            ("phone_number", "+15550100001"),
            ("preferred_username", "annie"),
        ],
    )
    .await;
    make_user(
        &server,
        "bob",
        &[
            ("email", "bob@example.com"),
            ("given_name", "Bob"),
            ("family_name", "Leeds"),
            ("name", "Bob Leeds"),
            ("phone_number", "+15550100002"),
        ],
    )
    .await;
    make_user(
        &server,
        "zoe",
        &[("email", "zoe@other.example"), ("given_name", "Zoë")],
    )
    .await;

    // Without a filter (or with an empty one, as in Cognito): every user.
    let all = client.list_users().user_pool_id(POOL).send().await.unwrap();
    assert_eq!(all.users().len(), 3);
    let everyone = find(&client, "").await;
    assert_eq!(everyone.len(), 3);
    let ann = all
        .users()
        .iter()
        .find(|u| u.username() == Some("ann"))
        .unwrap();
    assert_eq!(attribute(ann, "email"), Some("Ann.Lee@Example.com"));
    assert_eq!(attribute(ann, "family_name"), Some("Lee"));
    assert!(attribute(ann, "sub").is_some());
    assert!(ann.enabled());
    assert_eq!(ann.user_status().map(|s| s.as_str()), Some("CONFIRMED"));

    // Text attributes, exact and prefix, case-insensitive.
    assert_eq!(
        find(&client, r#"email = "ann.lee@example.com""#).await,
        ["ann"]
    );
    assert_eq!(find(&client, r#"email ^= "BOB@""#).await, ["bob"]);
    assert_eq!(find(&client, r#"username = "Bob""#).await, ["bob"]);
    assert_eq!(
        find(&client, r#"family_name ^= "Lee""#).await,
        ["ann", "bob"]
    );
    assert_eq!(find(&client, r#"family_name = "Lee""#).await, ["ann"]);
    assert_eq!(find(&client, r#"given_name = "ZOË""#).await, ["zoe"]);
    assert_eq!(find(&client, r#"name ^= "Bob L""#).await, ["bob"]);
    assert_eq!(
        find(&client, r#"phone_number = "+15550100001""#).await,
        ["ann"]
    );
    assert_eq!(
        find(&client, r#"phone_number ^= "+1555""#).await,
        ["ann", "bob"]
    );
    assert_eq!(
        find(&client, r#"preferred_username = "annie""#).await,
        ["ann"]
    );
    // Botocore's documented escape of a quote inside the value.
    assert!(find(&client, r#"family_name = "O\"Lee""#).await.is_empty());
    // sub.
    let sub = attribute(ann, "sub").unwrap();
    assert_eq!(find(&client, &format!(r#"sub = "{sub}""#)).await, ["ann"]);
    // status and cognito:user_status.
    let mut bob = server.find_user(POOL, "bob").await.unwrap();
    bob.enabled = false;
    server.node.store.update_user(&bob).await.unwrap();
    assert_eq!(find(&client, r#"status = "Disabled""#).await, ["bob"]);
    assert_eq!(find(&client, r#"status = "Enabled""#).await.len(), 2);
    assert_eq!(
        find(&client, r#"cognito:user_status = "CONFIRMED""#)
            .await
            .len(),
        3
    );
    assert!(find(&client, r#"cognito:user_status = "UNCONFIRMED""#)
        .await
        .is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_pages_and_attributes_to_get() {
    let server = start().await;
    let client = operator_client(&server).await;
    for i in 0..7 {
        make_user(
            &server,
            &format!("page{i}"),
            &[
                ("email", &format!("p{}@example.com", 6 - i)),
                ("given_name", "Pager"),
            ],
        )
        .await;
    }
    make_user(&server, "outsider", &[("email", "q@example.com")]).await;

    // Limit 3 over seven matches: 3, 3, 1, in the order of the email.
    let (mut seen, mut sizes, mut token) = (Vec::new(), Vec::new(), None);
    loop {
        let out = client
            .list_users()
            .user_pool_id(POOL)
            .filter(r#"email ^= "p""#)
            .limit(3)
            .attributes_to_get("email")
            .set_pagination_token(token.clone())
            .send()
            .await
            .unwrap();
        sizes.push(out.users().len());
        for u in out.users() {
            // Only the attributes asked for.
            let names: Vec<&str> = u.attributes().iter().map(|a| a.name()).collect();
            assert_eq!(names, ["email"]);
            seen.push(attribute(u, "email").unwrap().to_string());
        }
        token = out.pagination_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(sizes.len() < 10, "paging does not end");
    }
    assert_eq!(sizes, [3, 3, 1]);
    let want: Vec<String> = (0..7).map(|i| format!("p{i}@example.com")).collect();
    assert_eq!(seen, want);

    // The SDK's own paginator walks the same pages.
    let mut pages = client
        .list_users()
        .user_pool_id(POOL)
        .filter(r#"given_name = "pager""#)
        .limit(2)
        .into_paginator()
        .send();
    let mut total = 0;
    while let Some(page) = pages.next().await {
        total += page.unwrap().users().len();
    }
    assert_eq!(total, 7);

    // Unfiltered paging too (the store's listing by sub).
    let first = client
        .list_users()
        .user_pool_id(POOL)
        .limit(5)
        .send()
        .await
        .unwrap();
    assert_eq!(first.users().len(), 5);
    let rest = client
        .list_users()
        .user_pool_id(POOL)
        .limit(5)
        .pagination_token(first.pagination_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.users().len(), 3);
    assert!(rest.pagination_token().is_none());

    // AttributesToGet with a standard attribute the users lack, and with sub.
    let out = client
        .list_users()
        .user_pool_id(POOL)
        .filter(r#"email = "q@example.com""#)
        .attributes_to_get("sub")
        .attributes_to_get("family_name")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = out.users()[0]
        .attributes()
        .iter()
        .map(|a| a.name())
        .collect();
    assert_eq!(names, ["sub"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_refuses_bad_filters_and_parameters() {
    let server = start().await;
    let client = operator_client(&server).await;
    make_user(&server, "ann", &[("email", "ann@example.com")]).await;
    // The honest request first.
    assert_eq!(find(&client, r#"email = "ann@example.com""#).await, ["ann"]);

    for filter in [
        "email = unquoted",
        r#"custom:x = "1""#,
        r#"email ~ "a""#,
        r#"email = """#,
        r#"email = "open"#,
        r#"email = "a" and name = "b""#,
        r#"Email = "ann@example.com""#,
        r#"email_verified = "true""#,
    ] {
        let err = client
            .list_users()
            .user_pool_id(POOL)
            .filter(filter)
            .send()
            .await
            .expect_err(filter);
        assert_eq!(err.code(), Some("InvalidParameterException"), "{filter}");
        assert!(
            err.message().unwrap_or_default().contains("ilter"),
            "{filter}: the message names the Filter: {:?}",
            err.message()
        );
    }

    for limit in [0, 61, -1] {
        let err = client
            .list_users()
            .user_pool_id(POOL)
            .limit(limit)
            .send()
            .await
            .expect_err("limit");
        assert_eq!(err.code(), Some("InvalidParameterException"), "{limit}");
        assert!(err.message().unwrap_or_default().contains("limit"));
    }
    for limit in [1, 60] {
        let out = client
            .list_users()
            .user_pool_id(POOL)
            .limit(limit)
            .send()
            .await
            .unwrap();
        assert_eq!(out.users().len(), 1);
    }

    // AttributesToGet naming no attribute of the pool.
    let err = client
        .list_users()
        .user_pool_id(POOL)
        .attributes_to_get("custom:nope")
        .send()
        .await
        .expect_err("unknown attribute");
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(err.message().unwrap_or_default().contains("custom:nope"));

    // A pagination token the server never wrote.
    for token in ["garbage!", "WzEsMl0"] {
        let err = client
            .list_users()
            .user_pool_id(POOL)
            .filter(r#"email ^= "a""#)
            .pagination_token(token)
            .send()
            .await
            .expect_err("token");
        assert_eq!(err.code(), Some("InvalidParameterException"), "{token}");
    }

    // An unknown pool.
    let err = client
        .list_users()
        .user_pool_id("us-east-1_Nope00001")
        .send()
        .await
        .expect_err("unknown pool");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));

    // Not signed with an operator key: refused before any listing.
    let err = public_client(&server)
        .list_users()
        .user_pool_id(POOL)
        .send()
        .await
        .expect_err("unsigned");
    assert!(
        matches!(
            err.code(),
            Some(
                "UnrecognizedClientException"
                    | "NotAuthorizedException"
                    | "InvalidSignatureException"
                    | "AccessDeniedException"
            )
        ),
        "{err:?}"
    );
    server.stop().await;
}
