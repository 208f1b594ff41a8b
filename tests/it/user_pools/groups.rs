//! The signed administration of groups (issue 14 item 6), through the official AWS SDK
//! signed with an operator key: CreateGroup / GetGroup / UpdateGroup / DeleteGroup,
//! ListGroups with Limit and NextToken, AdminAddUserToGroup / AdminRemoveUserFromGroup,
//! AdminListGroupsForUser and ListUsersInGroup with their paging, and the refusals (an
//! existing group, an unknown group, pool or user, a bad precedence naming its field, a
//! group declared in the configuration file, a non-operator key), each beside the honest
//! call.

use std::collections::BTreeSet;

use aws_sdk_cognitoidentityprovider::types::GroupType;

use super::admin::refusal;
use super::{confirmed_user, operator_client, public_client, POOL};
use crate::support::server::TestServer;

const ROLE: &str = "arn:aws:iam::123456789012:role/Editors";

fn names(groups: &[GroupType]) -> Vec<String> {
    groups
        .iter()
        .map(|g| g.group_name().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn groups_are_created_read_updated_listed_and_deleted() {
    let server = super::start().await;
    let admin = operator_client(&server).await;

    let out = admin
        .create_group()
        .user_pool_id(POOL)
        .group_name("editors")
        .description("They edit")
        .role_arn(ROLE)
        .precedence(3)
        .send()
        .await
        .expect("CreateGroup");
    let group = out.group().expect("Group");
    assert_eq!(group.group_name(), Some("editors"));
    assert_eq!(group.user_pool_id(), Some(POOL));
    assert_eq!(group.description(), Some("They edit"));
    assert_eq!(group.role_arn(), Some(ROLE));
    assert_eq!(group.precedence(), Some(3));
    assert!(group.creation_date().is_some() && group.last_modified_date().is_some());

    // An existing name.
    let err = admin
        .create_group()
        .user_pool_id(POOL)
        .group_name("editors")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "GroupExistsException");
    // A bad precedence and a bad role ARN name their fields.
    let err = admin
        .create_group()
        .user_pool_id(POOL)
        .group_name("neg")
        .precedence(-1)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("precedence"), "{message}");
    let err = admin
        .create_group()
        .user_pool_id(POOL)
        .group_name("badrole")
        .role_arn("not-an-arn-at-all-really")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("RoleArn"), "{message}");
    // An unknown pool.
    let err = admin
        .create_group()
        .user_pool_id("us-east-1_Nowhere00")
        .group_name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // GetGroup, and an unknown group.
    let got = admin
        .get_group()
        .user_pool_id(POOL)
        .group_name("editors")
        .send()
        .await
        .expect("GetGroup");
    assert_eq!(got.group().and_then(|g| g.precedence()), Some(3));
    let err = admin
        .get_group()
        .user_pool_id(POOL)
        .group_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(&err),
        (
            "ResourceNotFoundException".to_string(),
            "Group not found.".to_string()
        )
    );

    // UpdateGroup: what is given changes, the rest stays.
    let updated = admin
        .update_group()
        .user_pool_id(POOL)
        .group_name("editors")
        .precedence(1)
        .send()
        .await
        .expect("UpdateGroup");
    let g = updated.group().unwrap();
    assert_eq!(g.precedence(), Some(1));
    assert_eq!(g.description(), Some("They edit"));
    assert_eq!(g.role_arn(), Some(ROLE));
    let err = admin
        .update_group()
        .user_pool_id(POOL)
        .group_name("nope")
        .precedence(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // ListGroups pages through every group, by name.
    for name in ["a1", "b2", "c3", "d4"] {
        admin
            .create_group()
            .user_pool_id(POOL)
            .group_name(name)
            .send()
            .await
            .expect("CreateGroup");
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = admin
            .list_groups()
            .user_pool_id(POOL)
            .limit(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListGroups");
        assert!(page.groups().len() <= 2);
        seen.extend(names(page.groups()));
        pages += 1;
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["a1", "b2", "c3", "d4", "editors"]);
    assert_eq!(pages, 3);
    let err = admin
        .list_groups()
        .user_pool_id(POOL)
        .next_token("not-a-token!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    let err = admin
        .list_groups()
        .user_pool_id(POOL)
        .limit(61)
        .send()
        .await
        .unwrap_err();
    assert!(refusal(&err).1.contains("limit"), "{err:?}");

    // DeleteGroup, and a group that is gone.
    admin
        .delete_group()
        .user_pool_id(POOL)
        .group_name("a1")
        .send()
        .await
        .expect("DeleteGroup");
    let err = admin
        .delete_group()
        .user_pool_id(POOL)
        .group_name("a1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // A non-operator key.
    let err = public_client(&server)
        .create_group()
        .user_pool_id(POOL)
        .group_name("sneaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    assert!(server
        .node
        .store
        .get_group(POOL, "sneaky")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn members_are_added_listed_and_removed() {
    let server = super::start().await;
    let admin = operator_client(&server).await;
    for name in ["writers", "readers"] {
        admin
            .create_group()
            .user_pool_id(POOL)
            .group_name(name)
            .precedence(if name == "writers" { 1 } else { 5 })
            .send()
            .await
            .expect("CreateGroup");
    }
    let mut subs = BTreeSet::new();
    for who in ["wes", "xia", "yan"] {
        let user = confirmed_user(&server, POOL, who, &format!("{who}@example.com")).await;
        subs.insert(user.sub);
        admin
            .admin_add_user_to_group()
            .user_pool_id(POOL)
            .username(who)
            .group_name("readers")
            .send()
            .await
            .expect("AdminAddUserToGroup");
    }
    // By alias, and twice: idempotent.
    for _ in 0..2 {
        admin
            .admin_add_user_to_group()
            .user_pool_id(POOL)
            .username("wes@example.com")
            .group_name("writers")
            .send()
            .await
            .expect("AdminAddUserToGroup");
    }

    // AdminListGroupsForUser: by precedence, one per page.
    let first = admin
        .admin_list_groups_for_user()
        .user_pool_id(POOL)
        .username("wes")
        .limit(1)
        .send()
        .await
        .expect("AdminListGroupsForUser");
    assert_eq!(names(first.groups()), ["writers"]);
    let second = admin
        .admin_list_groups_for_user()
        .user_pool_id(POOL)
        .username("wes")
        .limit(1)
        .set_next_token(first.next_token().map(str::to_string))
        .send()
        .await
        .expect("AdminListGroupsForUser page 2");
    assert_eq!(names(second.groups()), ["readers"]);
    assert!(second.next_token().is_none());

    // ListUsersInGroup pages through the members.
    let mut seen = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let page = admin
            .list_users_in_group()
            .user_pool_id(POOL)
            .group_name("readers")
            .limit(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListUsersInGroup");
        assert!(page.users().len() <= 2);
        for user in page.users() {
            let sub = user
                .attributes()
                .iter()
                .find(|a| a.name() == "sub")
                .and_then(|a| a.value())
                .unwrap()
                .to_string();
            assert!(user.username().is_some() && user.user_status().is_some());
            seen.insert(sub);
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, subs);

    // Unknown user, unknown group, unknown pool.
    let err = admin
        .admin_add_user_to_group()
        .user_pool_id(POOL)
        .username("nobody")
        .group_name("readers")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UserNotFoundException");
    let err = admin
        .admin_add_user_to_group()
        .user_pool_id(POOL)
        .username("wes")
        .group_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(&err),
        (
            "ResourceNotFoundException".to_string(),
            "Group not found.".to_string()
        )
    );
    let err = admin
        .list_users_in_group()
        .user_pool_id(POOL)
        .group_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    let err = admin
        .admin_list_groups_for_user()
        .user_pool_id("us-east-1_Nowhere00")
        .username("wes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // Removed: no longer listed.
    admin
        .admin_remove_user_from_group()
        .user_pool_id(POOL)
        .username("wes")
        .group_name("writers")
        .send()
        .await
        .expect("AdminRemoveUserFromGroup");
    let groups = admin
        .admin_list_groups_for_user()
        .user_pool_id(POOL)
        .username("wes")
        .send()
        .await
        .unwrap();
    assert_eq!(names(groups.groups()), ["readers"]);
    // Deleting a group keeps its members in the pool.
    admin
        .delete_group()
        .user_pool_id(POOL)
        .group_name("readers")
        .send()
        .await
        .expect("DeleteGroup");
    assert!(server.find_user(POOL, "xia").await.is_some());
}

#[tokio::test]
async fn a_group_declared_in_the_configuration_file_is_refused_to_the_api() {
    let pools = format!(
        "{}\n[[pools.groups]]\nname = \"declared\"\nprecedence = 2\n",
        super::pools_toml()
    );
    let server = TestServer::start(&pools).await;
    let admin = operator_client(&server).await;
    let got = admin
        .get_group()
        .user_pool_id(super::MFA_ON_POOL)
        .group_name("declared")
        .send()
        .await
        .expect("GetGroup of a declared group");
    assert_eq!(got.group().and_then(|g| g.precedence()), Some(2));
    for err in [
        admin
            .update_group()
            .user_pool_id(super::MFA_ON_POOL)
            .group_name("declared")
            .precedence(9)
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .into_service_error()
            .to_string(),
        admin
            .delete_group()
            .user_pool_id(super::MFA_ON_POOL)
            .group_name("declared")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .into_service_error()
            .to_string(),
    ] {
        assert!(err.contains("configuration file"), "{err}");
    }
    let stored = server
        .node
        .store
        .get_group(super::MFA_ON_POOL, "declared")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.precedence, Some(2));
    // An API group of the same pool is the API's to change.
    admin
        .create_group()
        .user_pool_id(super::MFA_ON_POOL)
        .group_name("mine")
        .send()
        .await
        .expect("CreateGroup");
    admin
        .delete_group()
        .user_pool_id(super::MFA_ON_POOL)
        .group_name("mine")
        .send()
        .await
        .expect("DeleteGroup");
}
