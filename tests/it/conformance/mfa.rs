//! Second factors (issue 13): a user's factors live in the user record, so every engine
//! must keep them whole (a sealed TOTP key, a passkey credential, recovery code hashes,
//! the preferred factor) and consume them under the user's optimistic version.

use std::sync::Arc;

use cognate::core::model::{Factor, FactorData, MfaFactor, RecoveryCode, User, UserMfa};
use cognate::core::secrets::{totp_secret_context, MasterKey};
use cognate::store::{Store, StoreError, UserRef};
use serde_json::json;

use super::fixtures::*;

/// A user with a TOTP factor, a passkey factor and ten recovery codes (one used).
fn enrolled(pool: &cognate::core::model::UserPool, username: &str) -> User {
    let mut u = user(pool, username, &[("email", "a@example.com")]);
    let (master, _) = MasterKey::generate();
    let context = totp_secret_context(&pool.id, &u.sub, "totp-1");
    u.mfa = UserMfa {
        factors: vec![
            Factor {
                id: "totp-1".into(),
                kind: MfaFactor::Totp,
                name: "Phone".into(),
                created_at: 1_700_000_000,
                last_used_at: Some(1_700_000_100),
                data: FactorData::Totp {
                    secret: master.seal(&context, &[7u8; 20]),
                    last_step: Some(56_666_670),
                },
            },
            Factor {
                id: "passkey-1".into(),
                kind: MfaFactor::Passkey,
                name: "Laptop ünïcode".into(),
                created_at: 1_700_000_200,
                last_used_at: None,
                data: FactorData::Passkey {
                    credential_id: "Y3JlZC1pZA".into(),
                    credential: json!({"cred": {"cred_id": "Y3JlZC1pZA", "counter": 3}}),
                    counter: 3,
                    backup_eligible: true,
                    backup_state: false,
                },
            },
        ],
        preferred: Some(MfaFactor::Passkey),
        recovery_codes: (0..10)
            .map(|i| RecoveryCode {
                hash: format!("{i:064x}"),
                used_at: (i == 0).then_some(1_700_000_300),
            })
            .collect(),
    };
    u
}

pub async fn mfa_factors_round_trip(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Mfa", false).await;
    let u = enrolled(&p, "alice");
    let created = store.create_user(&u).await.unwrap();
    assert_eq!(created.mfa, u.mfa);
    let found = store
        .get_user(&p.id, &UserRef::Sub(u.sub.clone()))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(found.mfa, u.mfa);
    // A step consumed and a factor removed are stored as written.
    let mut changed = found.clone();
    if let FactorData::Totp { last_step, .. } = &mut changed.mfa.factors[0].data {
        *last_step = Some(56_666_671);
    }
    changed.mfa.factors.pop();
    changed.mfa.preferred = None;
    let updated = store.update_user(&changed).await.unwrap();
    assert_eq!(updated.version, found.version + 1);
    let again = store
        .get_user(&p.id, &UserRef::Username("alice".into()))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(again.mfa, changed.mfa);
    // Removing every factor leaves nothing behind.
    let mut cleared = again.clone();
    cleared.mfa = UserMfa::default();
    store.update_user(&cleared).await.unwrap();
    let again = store
        .get_user(&p.id, &UserRef::Sub(u.sub.clone()))
        .await
        .unwrap()
        .expect("stored");
    assert!(again.mfa.is_empty());
    // A batch import keeps the factors too, and listing returns them.
    let imported = enrolled(&p, "bob");
    assert_eq!(
        store
            .import_users(std::slice::from_ref(&imported))
            .await
            .unwrap()
            .inserted,
        1
    );
    let listed = store.list_users(&p.id, &page(10, None)).await.unwrap();
    let bob = listed
        .items
        .iter()
        .find(|x| x.sub == imported.sub)
        .expect("listed");
    assert_eq!(bob.mfa, imported.mfa);
}

pub async fn mfa_two_writers_of_one_version(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_MfaRace", false).await;
    let u = store.create_user(&enrolled(&p, "carol")).await.unwrap();
    // Two nodes read the same version and each consume a proof.
    let mut first = u.clone();
    first.mfa.recovery_codes[1].used_at = Some(1_700_001_000);
    let mut second = u.clone();
    second.mfa.recovery_codes[1].used_at = Some(1_700_001_001);
    store.update_user(&first).await.unwrap();
    assert!(matches!(
        store.update_user(&second).await,
        Err(StoreError::VersionMismatch)
    ));
    // In parallel, with one version read: exactly one writer wins.
    let current = store
        .get_user(&p.id, &UserRef::Sub(u.sub.clone()))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(current.mfa.recovery_codes[1].used_at, Some(1_700_001_000));
    let writers: Vec<_> = (0..6u64)
        .map(|n| {
            let (store, mut mine) = (store.clone(), current.clone());
            tokio::spawn(async move {
                if let FactorData::Totp { last_step, .. } = &mut mine.mfa.factors[0].data {
                    *last_step = Some(60_000_000 + n);
                }
                store.update_user(&mine).await
            })
        })
        .collect();
    let mut wins = Vec::new();
    for (n, w) in writers.into_iter().enumerate() {
        match w.await.unwrap() {
            Ok(stored) => wins.push((n, stored)),
            Err(StoreError::VersionMismatch) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one writer wins");
    let stored = store
        .get_user(&p.id, &UserRef::Sub(u.sub.clone()))
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.mfa, wins[0].1.mfa);
    assert_eq!(stored.version, current.version + 1);
}
