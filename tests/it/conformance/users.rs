//! Users: lookups, unique rules, versions, paging and import.

use std::sync::Arc;

use cognate::core::directory::lookup_for;
use cognate::core::ids::new_sub;
use cognate::core::model::User;
use cognate::store::{Conflict, Store, StoreError, UserRef};

use super::fixtures::*;

pub async fn user_lookups(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let mut u = user(
        &p,
        "Alice",
        &[
            ("email", "Alice@Example.COM"),
            ("email_verified", "true"),
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
            ("preferred_username", "Ally"),
            ("custom:team", "blue"),
        ],
    );
    u.identities = vec![identity("Google", "g-1"), identity("MyOkta", "00u1")];
    u.version = 7; // ignored: a new user is version 1
    let created = store.create_user(&u).await.unwrap();
    assert_eq!(created.version, 1);
    let mut expected = u.clone();
    expected.version = 1;
    assert_eq!(created, expected);

    let refs = [
        UserRef::Sub(u.sub.clone()),
        UserRef::Username("alice".into()),
        UserRef::Email("alice@example.com".into()),
        UserRef::PhoneNumber("+15550100".into()),
        UserRef::PreferredUsername("ally".into()),
        UserRef::Federated("Google".into(), "g-1".into()),
        UserRef::Federated("MyOkta".into(), "00u1".into()),
    ];
    for by in &refs {
        let found = store.get_user(&p.id, by).await.unwrap();
        assert_eq!(found.as_ref(), Some(&expected), "lookup by {by:?}");
        // Users are found only in their own pool.
        assert_eq!(store.get_user(&q.id, by).await.unwrap(), None, "{by:?}");
    }
    // Keys are matched exactly: the core normalizes, the store does not.
    for by in [
        UserRef::Username("Alice".into()),
        UserRef::Email("Alice@Example.COM".into()),
        UserRef::Federated("Google".into(), "g-2".into()),
        UserRef::Federated("google".into(), "g-1".into()),
        UserRef::Sub(new_sub()),
    ] {
        assert_eq!(store.get_user(&p.id, &by).await.unwrap(), None, "{by:?}");
    }
    // A user for a pool that does not exist.
    let orphan = user(&pool("us-east-1_Nope", false), "x", &[]);
    let missing = store.create_user(&orphan).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );

    assert!(store.delete_user(&p.id, &u.sub).await.unwrap());
    assert!(!store.delete_user(&p.id, &u.sub).await.unwrap());
    for by in &refs {
        assert_eq!(store.get_user(&p.id, by).await.unwrap(), None, "{by:?}");
    }
    // Everything the deleted user held is free again.
    store.create_user(&u).await.unwrap();
}

pub async fn username_case_folding(store: Arc<dyn Store>) {
    let folded = with_pool(&store, "us-east-1_Fold", false).await;
    let exact = with_pool(&store, "us-east-1_Exact", true).await;

    store
        .create_user(&user(&folded, "Ärger", &[]))
        .await
        .unwrap();
    let clash = store.create_user(&user(&folded, "äRGER", &[])).await;
    assert!(is_conflict(&clash, Conflict::Username), "{clash:?}");
    store
        .create_user(&user(&folded, "Ärger2", &[]))
        .await
        .unwrap();
    let found = store
        .get_user(&folded.id, &UserRef::Username("ärger".into()))
        .await
        .unwrap()
        .expect("found by folded key");
    assert_eq!(found.username, "Ärger");
    assert_eq!(store.count_users(&folded.id).await.unwrap(), 2);

    // In a case-sensitive pool the two are different users.
    store
        .create_user(&user(&exact, "Ärger", &[]))
        .await
        .unwrap();
    store
        .create_user(&user(&exact, "äRGER", &[]))
        .await
        .unwrap();
    let again = store.create_user(&user(&exact, "Ärger", &[])).await;
    assert!(is_conflict(&again, Conflict::Username), "{again:?}");
    assert_eq!(store.count_users(&exact.id).await.unwrap(), 2);
}

pub async fn alias_conflicts(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let verified =
        |name: &str, email: &str| user(&p, name, &[("email", email), ("email_verified", "true")]);
    let first = store
        .create_user(&verified("one", "a@example.com"))
        .await
        .unwrap();

    let dup = store.create_user(&verified("two", "A@EXAMPLE.com")).await;
    assert!(is_conflict(&dup, Conflict::Email), "{dup:?}");
    // An unverified address is not an alias and does not collide (Cognito).
    let unverified = user(&p, "two", &[("email", "a@example.com")]);
    assert_eq!(unverified.lookup.email, None);
    store.create_user(&unverified).await.unwrap();
    // Nor does the same address in another pool.
    let elsewhere = user(
        &q,
        "one",
        &[("email", "a@example.com"), ("email_verified", "true")],
    );
    store.create_user(&elsewhere).await.unwrap();

    let phone = |name: &str| {
        user(
            &p,
            name,
            &[
                ("phone_number", "+15550100"),
                ("phone_number_verified", "true"),
            ],
        )
    };
    store.create_user(&phone("three")).await.unwrap();
    let dup = store.create_user(&phone("four")).await;
    assert!(is_conflict(&dup, Conflict::PhoneNumber), "{dup:?}");

    store
        .create_user(&user(&p, "five", &[("preferred_username", "Boss")]))
        .await
        .unwrap();
    let dup = store
        .create_user(&user(&p, "six", &[("preferred_username", "BOSS")]))
        .await;
    assert!(is_conflict(&dup, Conflict::PreferredUsername), "{dup:?}");
    store
        .create_user(&user(&p, "six", &[("preferred_username", "Boss2")]))
        .await
        .unwrap();

    // The same sub twice.
    let mut same_sub = user(&p, "seven", &[]);
    same_sub.sub = first.sub.clone();
    let dup = store.create_user(&same_sub).await;
    assert!(is_conflict(&dup, Conflict::Exists), "{dup:?}");

    // An update that takes another user's verified email is refused too.
    let mut two = store
        .get_user(&p.id, &UserRef::Username("two".into()))
        .await
        .unwrap()
        .unwrap();
    two.attributes
        .insert("email_verified".into(), "true".into());
    two.lookup = lookup_for(&p, &two);
    let taken = store.update_user(&two).await;
    assert!(is_conflict(&taken, Conflict::Email), "{taken:?}");
    two.attributes
        .insert("email".into(), "b@example.com".into());
    two.lookup = lookup_for(&p, &two);
    let updated = store.update_user(&two).await.unwrap();
    assert_eq!(updated.version, 2);
    let by_email = UserRef::Email("b@example.com".into());
    assert_eq!(
        store.get_user(&p.id, &by_email).await.unwrap(),
        Some(updated)
    );
    assert_eq!(store.count_users(&p.id).await.unwrap(), 5);
}

pub async fn federated_link_conflicts(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let a = store
        .create_user(&linked(&p, "a", "Google", "g-1"))
        .await
        .unwrap();
    let dup = store.create_user(&linked(&p, "b", "Google", "g-1")).await;
    assert!(is_conflict(&dup, Conflict::FederatedIdentity), "{dup:?}");
    // The refused create left nothing behind, not even the username.
    assert_eq!(store.count_users(&p.id).await.unwrap(), 1);
    let mut b = store
        .create_user(&linked(&p, "b", "Google", "g-2"))
        .await
        .unwrap();

    // Linking b to a's identity by update is refused, and b is unchanged.
    b.identities.push(identity("Google", "g-1"));
    let taken = store.update_user(&b).await;
    assert!(
        is_conflict(&taken, Conflict::FederatedIdentity),
        "{taken:?}"
    );
    let stored_b = store
        .get_user(&p.id, &UserRef::Sub(b.sub.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_b.version, 1);
    assert_eq!(stored_b.identities.len(), 1);
    let by_g2 = UserRef::Federated("Google".into(), "g-2".into());
    assert_eq!(
        store.get_user(&p.id, &by_g2).await.unwrap().unwrap().sub,
        b.sub
    );

    // Once a unlinks, b may link; the links follow the record.
    let mut a2 = a.clone();
    a2.identities.clear();
    store.update_user(&a2).await.unwrap();
    let b2 = store.update_user(&b).await.unwrap();
    assert_eq!(b2.version, 2);
    let by_g1 = UserRef::Federated("Google".into(), "g-1".into());
    assert_eq!(
        store.get_user(&p.id, &by_g1).await.unwrap().unwrap().sub,
        b.sub
    );
    assert_eq!(
        store.get_user(&p.id, &by_g2).await.unwrap().unwrap().sub,
        b.sub
    );
    // Dropping a link from b frees it.
    let mut b3 = b2.clone();
    b3.identities.retain(|i| i.user_id == "g-1");
    store.update_user(&b3).await.unwrap();
    assert_eq!(store.get_user(&p.id, &by_g2).await.unwrap(), None);
    // The same upstream subject at another provider is another identity.
    store
        .create_user(&linked(&p, "c", "Facebook", "g-1"))
        .await
        .unwrap();
}

pub async fn stale_version_is_refused(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let v1 = store
        .create_user(&user(&p, "alice", &[("custom:n", "1")]))
        .await
        .unwrap();
    let mut first = v1.clone();
    first.attributes.insert("custom:n".into(), "2".into());
    let v2 = store.update_user(&first).await.unwrap();
    assert_eq!(v2.version, 2);

    // A writer still holding version 1 loses, and changes nothing.
    let mut stale = v1.clone();
    stale.attributes.insert("custom:n".into(), "stale".into());
    let lost = store.update_user(&stale).await;
    assert!(matches!(lost, Err(StoreError::VersionMismatch)), "{lost:?}");
    let by_sub = UserRef::Sub(v1.sub.clone());
    assert_eq!(
        store.get_user(&p.id, &by_sub).await.unwrap(),
        Some(v2.clone())
    );

    // Re-read, re-apply, succeed.
    let mut fresh = store.get_user(&p.id, &by_sub).await.unwrap().unwrap();
    fresh.attributes.insert("custom:n".into(), "3".into());
    let v3 = store.update_user(&fresh).await.unwrap();
    assert_eq!(v3.version, 3);
    assert_eq!(store.get_user(&p.id, &by_sub).await.unwrap(), Some(v3));

    let ghost = user(&p, "ghost", &[]);
    let missing = store.update_user(&ghost).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

pub async fn concurrent_updates_lose_nothing(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let u = store
        .create_user(&user(&p, "counter", &[("custom:n", "0")]))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, pool_id, sub) = (store.clone(), p.id.clone(), u.sub.clone());
            tokio::spawn(async move {
                for _ in 0..1000 {
                    let mut u = store
                        .get_user(&pool_id, &UserRef::Sub(sub.clone()))
                        .await
                        .unwrap()
                        .unwrap();
                    let n: u32 = u.attribute("custom:n").unwrap().parse().unwrap();
                    u.attributes.insert("custom:n".into(), (n + 1).to_string());
                    match store.update_user(&u).await {
                        Ok(_) => return,
                        Err(StoreError::VersionMismatch) => tokio::task::yield_now().await,
                        Err(e) => panic!("update failed: {e}"),
                    }
                }
                panic!("no progress after 1000 attempts");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let done = store
        .get_user(&p.id, &UserRef::Sub(u.sub))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.attribute("custom:n"), Some("20"));
    assert_eq!(done.version, 21);
}

pub async fn concurrent_creates_one_winner(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            // Different spellings of one folded username, each with its own sub.
            let u = user(&p, if i % 2 == 0 { "Racer" } else { "rAcEr" }, &[]);
            tokio::spawn(async move { store.create_user(&u).await })
        })
        .collect();
    let (mut won, mut lost) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(Conflict::Username)) => lost += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((won, lost), (1, 19));
    assert_eq!(store.count_users(&p.id).await.unwrap(), 1);
}

pub async fn pagination_and_count(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let mut subs = std::collections::BTreeSet::new();
    for i in 0..130 {
        let u = store
            .create_user(&user(&p, &format!("user{i:03}"), &[]))
            .await
            .unwrap();
        subs.insert(u.sub);
    }
    store
        .create_user(&user(&q, "elsewhere", &[]))
        .await
        .unwrap();
    assert_eq!(store.count_users(&p.id).await.unwrap(), 130);
    assert_eq!(store.count_users(&q.id).await.unwrap(), 1);
    assert_eq!(store.count_users("us-east-1_None").await.unwrap(), 0);

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut after = None;
    loop {
        let got = store.list_users(&p.id, &page(50, after)).await.unwrap();
        sizes.push(got.items.len());
        seen.extend(got.items.into_iter().map(|u| u.sub));
        match got.next {
            Some(token) => after = Some(token),
            None => break,
        }
        assert!(sizes.len() < 10, "paging does not end");
    }
    assert_eq!(sizes, [50, 50, 30]);
    let sorted: Vec<String> = subs.iter().cloned().collect();
    assert_eq!(seen, sorted, "every user once, in a stable order");

    // Exactly one full page: no dangling token.
    let all = store.list_users(&q.id, &page(1, None)).await.unwrap();
    assert_eq!((all.items.len(), all.next), (1, None));
    // Limit 0 means the default page size (60).
    let first = store.list_users(&p.id, &page(0, None)).await.unwrap();
    assert_eq!(first.items.len(), 60);
    assert!(first.next.is_some());
}

pub async fn import_skips_collisions(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let verified =
        |name: &str, email: &str| user(&p, name, &[("email", email), ("email_verified", "true")]);
    let existing = store
        .create_user(&verified("taken", "taken@example.com"))
        .await
        .unwrap();
    store
        .create_user(&linked(&p, "linked", "Google", "g-1"))
        .await
        .unwrap();

    let fresh: Vec<User> = (0..5)
        .map(|i| verified(&format!("new{i}"), &format!("new{i}@example.com")))
        .collect();
    let same_username = user(&p, "TAKEN", &[]);
    let same_email = verified("other", "taken@example.com");
    let mut same_sub = user(&p, "dupsub", &[]);
    same_sub.sub = existing.sub.clone();
    let same_identity = linked(&p, "thief", "Google", "g-1");
    let new_link = linked(&p, "newlink", "Google", "g-2");
    let in_batch_dup = verified("new0-again", "new0@example.com");

    let mut batch = fresh.clone();
    batch.extend([
        same_username.clone(),
        same_email.clone(),
        same_sub.clone(),
        same_identity.clone(),
        new_link.clone(),
        in_batch_dup.clone(),
    ]);
    let outcome = store.import_users(&batch).await.unwrap();
    assert_eq!(outcome.inserted, 6);
    let mut skipped = outcome.skipped.clone();
    skipped.sort();
    let mut want = vec![
        same_username.sub,
        same_email.sub,
        same_sub.sub,
        same_identity.sub.clone(),
        in_batch_dup.sub,
    ];
    want.sort();
    assert_eq!(skipped, want);
    assert_eq!(store.count_users(&p.id).await.unwrap(), 2 + 6);

    // Imported users are whole: version 1, found by every key.
    let by_email = UserRef::Email("new3@example.com".into());
    let got = store.get_user(&p.id, &by_email).await.unwrap().unwrap();
    assert_eq!(got.sub, fresh[3].sub);
    assert_eq!(got.version, 1);
    let by_link = UserRef::Federated("Google".into(), "g-2".into());
    assert_eq!(
        store.get_user(&p.id, &by_link).await.unwrap().unwrap().sub,
        new_link.sub
    );
    // The refused identity still belongs to its owner, and the thief left no row.
    let by_g1 = UserRef::Federated("Google".into(), "g-1".into());
    assert_eq!(
        store
            .get_user(&p.id, &by_g1)
            .await
            .unwrap()
            .unwrap()
            .username,
        "linked"
    );
    let thief = UserRef::Sub(same_identity.sub);
    assert_eq!(store.get_user(&p.id, &thief).await.unwrap(), None);

    // Importing the same batch again skips everything; an empty batch is fine.
    let again = store.import_users(&batch).await.unwrap();
    assert_eq!((again.inserted, again.skipped.len()), (0, batch.len()));
    let empty = store.import_users(&[]).await.unwrap();
    assert_eq!((empty.inserted, empty.skipped.len()), (0, 0));
}

/// Users by verified email (automatic account linking): found whether or not email is a
/// sign-in alias, only while verified, several per address, in sub order, within the limit
/// and the pool; the key follows updates, deletes and imports.
pub async fn users_by_verified_email(store: Arc<dyn Store>) {
    // Without the email alias several users may hold one address.
    let mut open = pool("us-east-1_NoAlias", false);
    open.alias_attributes.clear();
    store.put_pool(&open).await.unwrap();
    let other = with_pool(&store, "us-east-1_Other", false).await;
    let holder = |p: &cognate::core::model::UserPool, name: &str, email: &str, verified: bool| {
        let flag = if verified { "true" } else { "false" };
        user(p, name, &[("email", email), ("email_verified", flag)])
    };
    let key = "ana@example.com";
    let by = |pool_id: &'static str, limit: u32| {
        let store = store.clone();
        async move {
            store
                .users_by_verified_email(pool_id, key, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.username)
                .collect::<Vec<_>>()
        }
    };
    assert!(by("us-east-1_NoAlias", 10).await.is_empty());

    let a = store
        .create_user(&holder(&open, "a", "Ana@Example.COM", true))
        .await
        .unwrap();
    let b = store
        .create_user(&holder(&open, "b", "ana@example.com", true))
        .await
        .unwrap();
    let c = store
        .create_user(&holder(&open, "c", "ana@example.com", false))
        .await
        .unwrap();
    store
        .create_user(&holder(&open, "d", "dora@example.com", true))
        .await
        .unwrap();
    store
        .create_user(&holder(&other, "elsewhere", "ana@example.com", true))
        .await
        .unwrap();
    let mut expected = [(a.sub.clone(), "a"), (b.sub.clone(), "b")];
    expected.sort();
    let in_order: Vec<String> = expected.iter().map(|(_, n)| n.to_string()).collect();
    assert_eq!(by("us-east-1_NoAlias", 10).await, in_order, "sub order");
    assert_eq!(by("us-east-1_NoAlias", 1).await, in_order[..1]);
    assert!(by("us-east-1_NoAlias", 0).await.is_empty());
    assert_eq!(by("us-east-1_Other", 10).await, ["elsewhere"]);
    // The key is the core's: the store matches it exactly.
    assert!(store
        .users_by_verified_email("us-east-1_NoAlias", "Ana@Example.COM", 10)
        .await
        .unwrap()
        .is_empty());

    // Verifying c's copy adds it; changing a's address, or un-verifying it, removes a.
    let mut c2 = c.clone();
    c2.attributes.insert("email_verified".into(), "true".into());
    c2.lookup = lookup_for(&open, &c2);
    store.update_user(&c2).await.unwrap();
    assert_eq!(by("us-east-1_NoAlias", 10).await.len(), 3);
    let mut a2 = a.clone();
    a2.attributes
        .insert("email".into(), "ana@elsewhere.example".into());
    a2.lookup = lookup_for(&open, &a2);
    store.update_user(&a2).await.unwrap();
    let names = by("us-east-1_NoAlias", 10).await;
    assert!(!names.contains(&"a".to_string()), "{names:?}");
    assert!(store.delete_user(&open.id, &b.sub).await.unwrap());
    assert_eq!(by("us-east-1_NoAlias", 10).await, ["c"]);

    // Imported users are found too, and so are users whose email is a sign-in alias.
    let imported = holder(&open, "imported", "ana@example.com", true);
    assert_eq!(store.import_users(&[imported]).await.unwrap().inserted, 1);
    assert_eq!(by("us-east-1_NoAlias", 10).await.len(), 2);
    let aliased = with_pool(&store, "us-east-1_Aliased", false).await;
    let alias_user = store
        .create_user(&holder(&aliased, "al", "ana@example.com", true))
        .await
        .unwrap();
    assert_eq!(alias_user.lookup.email.as_deref(), Some(key));
    assert_eq!(by("us-east-1_Aliased", 10).await, ["al"]);
}

/// Usernames and aliases are one space of sign-in identifiers per pool: no user's username
/// is another user's alias, nor the reverse, whether the second user is created, updated or
/// imported, and under a concurrent race exactly one of the two claims wins (issue 8, hole
/// 3: a username equal to another user's email captured that user's sign-in).
pub async fn login_identifiers_share_one_space(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let verified =
        |name: &str, email: &str| user(&p, name, &[("email", email), ("email_verified", "true")]);
    let vic = store
        .create_user(&verified("vic", "vic@example.com"))
        .await
        .unwrap();
    store
        .create_user(&user(&p, "boss", &[("preferred_username", "Chief")]))
        .await
        .unwrap();

    // A username that is another user's email or preferred_username.
    let squat = store.create_user(&user(&p, "VIC@example.com", &[])).await;
    assert!(is_conflict(&squat, Conflict::Username), "{squat:?}");
    let squat = store.create_user(&user(&p, "chief", &[])).await;
    assert!(is_conflict(&squat, Conflict::Username), "{squat:?}");
    // An alias that is another user's username.
    let squat = store
        .create_user(&user(&p, "mallory", &[("preferred_username", "Vic")]))
        .await;
    assert!(
        is_conflict(&squat, Conflict::PreferredUsername),
        "{squat:?}"
    );
    // The corrected names go through, and one user may hold one key as two kinds.
    store
        .create_user(&user(&p, "vic2", &[("preferred_username", "vic2")]))
        .await
        .unwrap();
    store
        .create_user(&user(&p, "mallory", &[("preferred_username", "Mal")]))
        .await
        .unwrap();
    // Another pool is another space.
    store
        .create_user(&user(&q, "vic@example.com", &[]))
        .await
        .unwrap();

    // Verifying an email that is another user's username is refused; the record stays.
    let named = store
        .create_user(&user(&p, "dana@example.com", &[]))
        .await
        .unwrap();
    let mut eve = store
        .create_user(&user(&p, "eve", &[("email", "DANA@example.com")]))
        .await
        .unwrap();
    assert_eq!(eve.lookup.email, None, "unverified: no alias yet");
    eve.attributes
        .insert("email_verified".into(), "true".into());
    eve.lookup = lookup_for(&p, &eve);
    let taken = store.update_user(&eve).await;
    assert!(is_conflict(&taken, Conflict::Email), "{taken:?}");
    let by_name = UserRef::Username("dana@example.com".into());
    let found = store.get_user(&p.id, &by_name).await.unwrap().unwrap();
    assert_eq!(found.sub, named.sub);
    assert_eq!(
        store
            .get_user(&p.id, &UserRef::Email("dana@example.com".into()))
            .await
            .unwrap(),
        None
    );
    // The honest update of the same user goes through, and a freed key is free again.
    eve.attributes
        .insert("email".into(), "eve@example.com".into());
    eve.lookup = lookup_for(&p, &eve);
    let eve = store.update_user(&eve).await.unwrap();
    let mut boss = store
        .get_user(&p.id, &UserRef::Username("boss".into()))
        .await
        .unwrap()
        .unwrap();
    boss.attributes
        .insert("preferred_username".into(), "Head".into());
    boss.lookup = lookup_for(&p, &boss);
    store.update_user(&boss).await.unwrap();
    store.create_user(&user(&p, "chief", &[])).await.unwrap();
    // Deleting a user frees its identifiers.
    assert!(store.delete_user(&p.id, &eve.sub).await.unwrap());
    store
        .create_user(&user(&p, "eve@example.com", &[]))
        .await
        .unwrap();

    // Import skips a record whose username is another user's alias.
    let squat = user(&p, "vic@EXAMPLE.com", &[]);
    let honest = user(&p, "imported", &[]);
    let outcome = store
        .import_users(&[squat.clone(), honest.clone()])
        .await
        .unwrap();
    assert_eq!(
        (outcome.inserted, outcome.skipped),
        (1, vec![squat.sub.clone()])
    );
    let by_email = UserRef::Email("vic@example.com".into());
    assert_eq!(
        store.get_user(&p.id, &by_email).await.unwrap().unwrap().sub,
        vic.sub
    );

    // A race between a username and another user's alias of one key: one winner.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let u = if i % 2 == 0 {
                user(&p, "Racer", &[])
            } else {
                user(&p, &format!("alias{i}"), &[("preferred_username", "rAcEr")])
            };
            tokio::spawn(async move { store.create_user(&u).await })
        })
        .collect();
    let (mut won, mut lost) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(Conflict::Username | Conflict::PreferredUsername)) => {
                lost += 1
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((won, lost), (1, 19));

    // Two users claiming each other's names at once: one wins, the other is a conflict,
    // never a deadlock reported as an unavailable database.
    for round in 0..10 {
        let (x, y) = (format!("x{round}"), format!("y{round}"));
        let a = user(&p, &x, &[("preferred_username", y.as_str())]);
        let b = user(&p, &y, &[("preferred_username", x.as_str())]);
        let (sa, sb) = (store.clone(), store.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { sa.create_user(&a).await }),
            tokio::spawn(async move { sb.create_user(&b).await })
        );
        let results = [ra.unwrap(), rb.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_)))),
            "{results:?}"
        );
    }
}

/// Each link records the issuer it was made with (issue 9, hole 6), stored with the user
/// and read back the same by every lookup; a link from before (no binding) reads as
/// unbound, and rebinding keeps the link where it was.
pub async fn federated_link_bindings(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let mut legacy = linked(&p, "legacy", "Corp", "1");
    assert_eq!(
        legacy.identities[0].bound_to, None,
        "fixture without binding"
    );
    legacy = store.create_user(&legacy).await.unwrap();
    let mut bound = linked(&p, "bound", "Corp", "2");
    bound.identities[0].bound_to = Some("https://a.example".into());
    let bound = store.create_user(&bound).await.unwrap();

    let by_link = UserRef::Federated("Corp".into(), "2".into());
    let read = store.get_user(&p.id, &by_link).await.unwrap().unwrap();
    assert_eq!(read.sub, bound.sub);
    assert_eq!(
        read.identities[0].bound_to.as_deref(),
        Some("https://a.example")
    );
    let by_legacy = UserRef::Federated("Corp".into(), "1".into());
    let read = store.get_user(&p.id, &by_legacy).await.unwrap().unwrap();
    assert_eq!(read.identities[0].bound_to, None);
    let listed = store.list_users(&p.id, &page(10, None)).await.unwrap();
    let bindings: Vec<Option<String>> = listed
        .items
        .iter()
        .map(|u| u.identities[0].bound_to.clone())
        .collect();
    assert!(
        bindings.contains(&Some("https://a.example".into())),
        "{bindings:?}"
    );
    assert!(bindings.contains(&None), "{bindings:?}");

    // Rebinding (the first sign-in after the upgrade, or `users relink`) is an update of
    // the record: the link stays with its user.
    legacy.identities[0].bound_to = Some("https://b.example".into());
    store.update_user(&legacy).await.unwrap();
    let read = store.get_user(&p.id, &by_legacy).await.unwrap().unwrap();
    assert_eq!(read.sub, legacy.sub);
    assert_eq!(
        read.identities[0].bound_to.as_deref(),
        Some("https://b.example")
    );
}
