//! What the ceremonies do without a browser: options, state kept once, expiry, pool and
//! user binding, the credential index. Registration and sign-in with a real authenticator
//! are tested in Chromium (tests/it).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::core::directory::{Directory, InitialState, NewUser};
use crate::core::mail::{DevMailer, MailRouter};
use crate::core::model::{
    AliasAttribute, FactorSettings, MfaSetting, Origin, PasskeySettings, PasswordPolicy,
};
use crate::core::password::Passwords;
use crate::core::secrets::MasterKey;
use crate::core::storage::Store;
use crate::store::sqlite::SqliteStore;

const POOL: &str = "us-east-1_Passkeys1";
const NOW: UnixTime = 1_800_000_000;
const ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

fn pool() -> UserPool {
    UserPool {
        id: POOL.into(),
        name: "customers".into(),
        origin: Origin::Api,
        username_case_sensitive: false,
        username_attributes: vec![AliasAttribute::Email],
        alias_attributes: Vec::new(),
        auto_verified_attributes: vec![AliasAttribute::Email],
        required_attributes: Vec::new(),
        custom_attributes: Vec::new(),
        password_policy: PasswordPolicy::default(),
        admin_create_user_only: false,
        mfa: MfaSetting::Optional,
        userinfo_string_values: false,
        link_federated_users_by_email: false,
        deletion_protection: false,
        tags: Default::default(),
        code_limits: Default::default(),
        threat_protection: Default::default(),
        triggers: Default::default(),
        identity_providers: Vec::new(),
        saml_sp_entity_id: None,
        created_at: 1,
        updated_at: 1,
        version: 0,
        factors: FactorSettings {
            mfa: vec![MfaFactor::Totp, MfaFactor::Passkey],
            first: vec![FirstFactor::Password, FirstFactor::Passkey],
            passkeys: PasskeySettings::default(),
        },
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    mfa: Mfa,
    store: Arc<dyn Store>,
    pool: UserPool,
    user: User,
}

async fn fixture_at(public_url: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("p.db")).await.unwrap());
    let directory = Directory::new(store.clone(), Passwords::standard().unwrap());
    let pool = pool();
    store.put_pool(&pool).await.unwrap();
    let user = directory
        .create_user(
            &pool,
            NewUser {
                username: "ada@example.com".into(),
                attributes: BTreeMap::from([
                    ("email".into(), "ada@example.com".into()),
                    ("email_verified".into(), "true".into()),
                ]),
                password: None,
                state: InitialState::Confirmed,
            },
            NOW,
        )
        .await
        .unwrap();
    let mfa = Mfa::new(
        directory,
        MailRouter::new(Arc::new(DevMailer::default())),
        Arc::new(MasterKey::from_bytes(&[7; 32]).unwrap()),
        url::Url::parse(public_url).unwrap(),
    );
    Fixture {
        _dir: dir,
        mfa,
        store,
        pool,
        user,
    }
}

async fn fixture() -> Fixture {
    fixture_at("https://login.example.com").await
}

/// A stored passkey factor for `credential_id` (the credential JSON is not a real key).
fn fake_passkey(credential_id: &str) -> Factor {
    Factor {
        id: random_token::<12>(),
        kind: MfaFactor::Passkey,
        name: "Laptop".into(),
        created_at: NOW,
        last_used_at: None,
        data: FactorData::Passkey {
            credential_id: credential_id.into(),
            credential: json!({}),
            counter: 0,
            backup_eligible: false,
            backup_state: false,
        },
    }
}

async fn give_factor(f: &Fixture, sub: &str, factor: Factor) -> User {
    f.mfa
        .directory
        .modify_user(&f.pool, sub, |u| {
            u.mfa.factors.push(factor.clone());
            Ok(())
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn registration_options_ask_for_a_verified_discoverable_passkey() {
    let f = fixture().await;
    let c = f
        .mfa
        .start_passkey_registration(&f.pool, &f.user, NOW)
        .await
        .unwrap();
    let o = &c.options;
    assert_eq!(o["rp"]["id"], "login.example.com");
    assert_eq!(o["rp"]["name"], "customers");
    let handle = Uuid::parse_str(&f.user.sub).unwrap();
    assert_eq!(o["user"]["id"], URL_SAFE_NO_PAD.encode(handle.as_bytes()));
    assert_eq!(o["user"]["name"], "ada@example.com");
    let selection = &o["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    assert!(
        o["challenge"].as_str().is_some_and(|c| c.len() >= 43),
        "{o}"
    );
    assert_eq!(o["timeout"], 300_000);
    assert!(o
        .get("excludeCredentials")
        .is_none_or(|e| e.as_array().is_some_and(|a| a.is_empty())));

    // The state is in the store, bound to the pool and the user, for CEREMONY_SECS.
    let text = f
        .store
        .get_ephemeral(REGISTRATION_KIND, &c.id, NOW + CEREMONY_SECS - 1)
        .await
        .unwrap()
        .expect("stored");
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(stored["pool_id"], POOL);
    assert_eq!(stored["sub"], f.user.sub.as_str());
    assert!(f
        .store
        .get_ephemeral(REGISTRATION_KIND, &c.id, NOW + CEREMONY_SECS)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn registration_excludes_the_users_passkeys() {
    let f = fixture().await;
    let id = URL_SAFE_NO_PAD.encode([9u8; 16]);
    let user = give_factor(&f, &f.user.sub, fake_passkey(&id)).await;
    let c = f
        .mfa
        .start_passkey_registration(&f.pool, &user, NOW)
        .await
        .unwrap();
    let excluded = c.options["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1);
    assert_eq!(excluded[0]["id"], id.as_str());
    assert_eq!(excluded[0]["type"], "public-key");
}

#[tokio::test]
async fn a_user_has_at_most_twenty_passkeys() {
    let f = fixture().await;
    let mut user = f.user.clone();
    for i in 0..MAX_PASSKEYS - 1 {
        user = give_factor(&f, &f.user.sub, fake_passkey(&format!("cred{i}"))).await;
    }
    // The twentieth may still be registered ...
    f.mfa
        .start_passkey_registration(&f.pool, &user, NOW)
        .await
        .expect("the twentieth passkey");
    let enrolled = f
        .mfa
        .enrol(&f.pool, &f.user.sub, fake_passkey("cred19"), NOW)
        .await
        .expect("the twentieth passkey is stored");
    assert_eq!(passkey_factors(&enrolled.user).count(), MAX_PASSKEYS);
    // ... a twenty-first is refused when it starts and when it would be stored (a
    // ceremony started before the twentieth landed).
    let err = f
        .mfa
        .start_passkey_registration(&f.pool, &enrolled.user, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::NotPossible(m) if m == TOO_MANY_PASSKEYS));
    let err = f
        .mfa
        .enrol(&f.pool, &f.user.sub, fake_passkey("cred20"), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::NotPossible(m) if m == TOO_MANY_PASSKEYS));
    let stored = f
        .store
        .get_user(
            POOL,
            &crate::core::storage::UserRef::Sub(f.user.sub.clone()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(passkey_factors(&stored).count(), MAX_PASSKEYS);
}

#[tokio::test]
async fn a_registration_ceremony_is_single_use_and_bound() {
    let f = fixture().await;
    let bogus = json!({"id": "x", "rawId": "eA", "type": "public-key",
        "response": {"attestationObject": "AA", "clientDataJSON": "AA"}});
    let start = || f.mfa.start_passkey_registration(&f.pool, &f.user, NOW);

    // A response that does not verify consumes the ceremony: the retry finds nothing.
    let c = start().await.unwrap();
    let err = f
        .mfa
        .finish_passkey_registration(
            &f.pool,
            &f.user.sub,
            &c.id,
            &bogus,
            "Key",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Passkey(_)), "{err:?}");
    let err = f
        .mfa
        .finish_passkey_registration(
            &f.pool,
            &f.user.sub,
            &c.id,
            &bogus,
            "Key",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Expired), "{err:?}");

    // Malformed JSON is a precise refusal, not a panic.
    let c = start().await.unwrap();
    let err = f
        .mfa
        .finish_passkey_registration(
            &f.pool,
            &f.user.sub,
            &c.id,
            &json!({"id": 1}),
            "",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MfaError::Passkey(m) if m.contains("malformed")),
        "{err:?}"
    );

    // Expired.
    let c = start().await.unwrap();
    let err = f
        .mfa
        .finish_passkey_registration(
            &f.pool,
            &f.user.sub,
            &c.id,
            &bogus,
            "",
            &Default::default(),
            NOW + CEREMONY_SECS,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Expired), "{err:?}");

    // Another pool, another user, or an authentication id: refused.
    let c = start().await.unwrap();
    let mut other = f.pool.clone();
    other.id = "us-east-1_Other".into();
    let err = f
        .mfa
        .finish_passkey_registration(
            &other,
            &f.user.sub,
            &c.id,
            &bogus,
            "",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Expired), "{err:?}");
    let c = start().await.unwrap();
    let err = f
        .mfa
        .finish_passkey_registration(
            &f.pool,
            &crate::core::ids::new_sub(),
            &c.id,
            &bogus,
            "",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Expired), "{err:?}");
    let c = start().await.unwrap();
    let err = f
        .mfa
        .finish_passkey_authentication(&f.pool, &c.id, &bogus, ADDRESS, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Expired), "{err:?}");
    // A name with control characters is refused before anything is verified.
    let c = start().await.unwrap();
    let err = f
        .mfa
        .finish_passkey_registration(
            &f.pool,
            &f.user.sub,
            &c.id,
            &bogus,
            "a\u{7}b",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MfaError::Passkey(m) if m.contains("name")),
        "{err:?}"
    );
    // Garbage ids are simply unknown.
    for id in ["", &"x".repeat(500)] {
        let err = f
            .mfa
            .finish_passkey_registration(
                &f.pool,
                &f.user.sub,
                id,
                &bogus,
                "",
                &Default::default(),
                NOW,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, MfaError::Expired), "{err:?}");
    }
}

#[tokio::test]
async fn authentication_options_require_user_verification() {
    let f = fixture().await;
    // Sign-in without a username: any discoverable passkey of the pool.
    let c = f
        .mfa
        .start_passkey_authentication(&f.pool, None, NOW)
        .await
        .unwrap();
    assert_eq!(c.options["rpId"], "login.example.com");
    assert_eq!(c.options["userVerification"], "required");
    assert!(c.options["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    let stored: serde_json::Value = serde_json::from_str(
        &f.store
            .get_ephemeral(AUTHENTICATION_KIND, &c.id, NOW)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored["pool_id"], POOL);
    assert!(stored["sub"].is_null());

    // A user without passkeys has nothing to offer; with a (real-looking) passkey the
    // options name it.
    let err = f
        .mfa
        .start_passkey_authentication(&f.pool, Some(&f.user), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::NotPossible(_)), "{err:?}");
}

#[tokio::test]
async fn pools_without_passkeys_refuse_every_ceremony() {
    let mut f = fixture().await;
    f.pool.factors = FactorSettings::default();
    let err = f
        .mfa
        .start_passkey_registration(&f.pool, &f.user, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::FactorNotAllowed), "{err:?}");
    let err = f
        .mfa
        .start_passkey_authentication(&f.pool, None, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::FactorNotAllowed), "{err:?}");
    // Passkeys as a second factor only: no username-less sign-in.
    f.pool.factors.mfa.push(MfaFactor::Passkey);
    let err = f
        .mfa
        .start_passkey_authentication(&f.pool, None, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::FactorNotAllowed), "{err:?}");
    assert!(f
        .mfa
        .start_passkey_registration(&f.pool, &f.user, NOW)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_discoverable_assertion_naming_nobody_is_refused_once() {
    let f = fixture().await;
    let c = f
        .mfa
        .start_passkey_authentication(&f.pool, None, NOW)
        .await
        .unwrap();
    let nobody = Uuid::new_v4();
    let assertion = json!({"id": "eA", "rawId": "eA", "type": "public-key", "response": {
        "authenticatorData": "AA", "clientDataJSON": "AA", "signature": "AA",
        "userHandle": URL_SAFE_NO_PAD.encode(nobody.as_bytes())}});
    let err = f
        .mfa
        .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::CodeMismatch), "{err:?}");
    let err = f
        .mfa
        .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::Expired), "{err:?}");

    // The user's handle with a credential they do not hold: refused, and not counted
    // against the user (anyone could otherwise lock the user's passkeys and password).
    let c = f
        .mfa
        .start_passkey_authentication(&f.pool, None, NOW)
        .await
        .unwrap();
    let handle = Uuid::parse_str(&f.user.sub).unwrap();
    let mut assertion = assertion;
    assertion["response"]["userHandle"] = URL_SAFE_NO_PAD.encode(handle.as_bytes()).into();
    let err = f
        .mfa
        .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, MfaError::CodeMismatch), "{err:?}");
    let counted = f.store.list_counters("bf:acct:", NOW, 10).await.unwrap();
    assert!(counted.is_empty(), "{counted:?}");
}

#[tokio::test]
async fn the_relying_party_follows_the_pool_and_the_public_url() {
    let f = fixture_at("https://login.example.com:8443/base").await;
    let mut pool = f.pool.clone();
    let rp = f.mfa.passkeys.relying_party(&pool).unwrap();
    let origins: Vec<String> = rp
        .get_allowed_origins()
        .iter()
        .map(|u| u.as_str().to_string())
        .collect();
    assert_eq!(origins, ["https://login.example.com:8443/"]);
    pool.factors.passkeys = PasskeySettings {
        relying_party_id: Some("example.com".into()),
        origins: vec!["https://app.example.com".into()],
        register_at_sign_up: false,
    };
    let rp = f.mfa.passkeys.relying_party(&pool).unwrap();
    assert_eq!(rp.get_allowed_origins().len(), 2);
    let c = f
        .mfa
        .start_passkey_authentication(&pool, None, NOW)
        .await
        .unwrap();
    assert_eq!(c.options["rpId"], "example.com");
    // A relying party that is not the host or a parent of it cannot be built.
    pool.factors.passkeys.relying_party_id = Some("other.org".into());
    assert!(matches!(
        f.mfa.passkeys.relying_party(&pool),
        Err(MfaError::Internal(_))
    ));

    // Browsers refuse WebAuthn on IP addresses: so does the server, saying why.
    let f = fixture_at("http://127.0.0.1:9000").await;
    let err = f
        .mfa
        .start_passkey_registration(&f.pool, &f.user, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MfaError::NotPossible(m) if m.contains("IP address")),
        "{err:?}"
    );
    // localhost works (a secure context over plain http).
    let f = fixture_at("http://localhost:9000").await;
    let c = f
        .mfa
        .start_passkey_registration(&f.pool, &f.user, NOW)
        .await
        .unwrap();
    assert_eq!(c.options["rp"]["id"], "localhost");
}

#[tokio::test]
async fn a_credential_id_belongs_to_one_user_of_the_pool() {
    let f = fixture().await;
    let other = f
        .mfa
        .directory
        .create_user(
            &f.pool,
            NewUser {
                username: "bob@example.com".into(),
                attributes: BTreeMap::from([("email".into(), "bob@example.com".into())]),
                password: None,
                state: InitialState::Confirmed,
            },
            NOW,
        )
        .await
        .unwrap();
    let id = URL_SAFE_NO_PAD.encode([3u8; 32]);
    f.mfa
        .claim_credential(&f.pool, &id, &f.user.sub, NOW)
        .await
        .unwrap();
    give_factor(&f, &f.user.sub, fake_passkey(&id)).await;
    // Once held, it is refused to its holder (a second copy) and to anyone else.
    let err = f
        .mfa
        .claim_credential(&f.pool, &id, &f.user.sub, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MfaError::Passkey(m) if m.contains("already")),
        "{err:?}"
    );
    let err = f
        .mfa
        .claim_credential(&f.pool, &id, &other.sub, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MfaError::Passkey(m) if m.contains("already")),
        "{err:?}"
    );
    // Another pool has its own index.
    let mut pool2 = f.pool.clone();
    pool2.id = "us-east-1_Other".into();
    f.mfa
        .claim_credential(&pool2, &id, &other.sub, NOW)
        .await
        .unwrap();
    // Once the holder no longer has the passkey, the stale row is taken over.
    f.mfa
        .directory
        .modify_user(&f.pool, &f.user.sub, |u| {
            u.mfa.factors.clear();
            Ok(())
        })
        .await
        .unwrap();
    f.mfa
        .claim_credential(&f.pool, &id, &other.sub, NOW)
        .await
        .unwrap();
    let holder = f
        .store
        .get_ephemeral(CREDENTIAL_KIND, &format!("{POOL}:{id}"), NOW)
        .await
        .unwrap();
    assert_eq!(holder.as_deref(), Some(other.sub.as_str()));
}

#[test]
fn passkey_names() {
    assert_eq!(passkey_name("  ").unwrap(), "Passkey");
    assert_eq!(passkey_name(" Work laptop ").unwrap(), "Work laptop");
    assert!(passkey_name(&"é".repeat(MAX_NAME_CHARS)).is_ok());
    assert!(passkey_name(&"é".repeat(MAX_NAME_CHARS + 1)).is_err());
    assert!(passkey_name("a\nb").is_err());
}

/// End to end with webauthn-authenticator-rs's software authenticator: real attestation
/// and assertions, checked by the relying party. (It cannot store resident keys nor
/// return a user handle, so the tests drop `residentKey` from what it is given, and, for
/// the username-less sign-in, name its credential and put the handle back as a browser's
/// authenticator would: the handle is not signed, which the last case below relies on.)
mod soft {
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

    use super::*;

    const ORIGIN: &str = "https://login.example.com";

    fn origin() -> Url {
        Url::parse(ORIGIN).unwrap()
    }

    fn register_with(
        authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
        ceremony: &Ceremony,
    ) -> serde_json::Value {
        let mut options = ceremony.options.clone();
        options["authenticatorSelection"]["requireResidentKey"] = false.into();
        options["authenticatorSelection"]
            .as_object_mut()
            .unwrap()
            .remove("residentKey");
        let challenge: CreationChallengeResponse =
            serde_json::from_value(json!({ "publicKey": options })).unwrap();
        let response = authenticator.do_registration(origin(), challenge).unwrap();
        serde_json::to_value(response).unwrap()
    }

    /// Signs `ceremony` with the authenticator's credential `credential_id`, returning the
    /// user handle `handle` as a resident credential would.
    fn assert_with(
        authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
        ceremony: &Ceremony,
        credential_id: &str,
        handle: Option<&str>,
    ) -> serde_json::Value {
        let mut options = ceremony.options.clone();
        options["allowCredentials"] = json!([{ "type": "public-key", "id": credential_id }]);
        let challenge: RequestChallengeResponse =
            serde_json::from_value(json!({ "publicKey": options })).unwrap();
        let response = authenticator
            .do_authentication(origin(), challenge)
            .unwrap();
        let mut response = serde_json::to_value(response).unwrap();
        if let Some(sub) = handle {
            let uuid = Uuid::parse_str(sub).unwrap();
            response["response"]["userHandle"] = URL_SAFE_NO_PAD.encode(uuid.as_bytes()).into();
        }
        response
    }

    async fn registered(
        f: &Fixture,
        authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
        user: &User,
        name: &str,
    ) -> Enrolled {
        let c = f
            .mfa
            .start_passkey_registration(&f.pool, user, NOW)
            .await
            .unwrap();
        let response = register_with(authenticator, &c);
        f.mfa
            .finish_passkey_registration(
                &f.pool,
                &user.sub,
                &c.id,
                &response,
                name,
                &Default::default(),
                NOW + 1,
            )
            .await
            .unwrap()
    }

    fn credential_id(user: &User, factor_id: &str) -> String {
        let factor = user.mfa.factors.iter().find(|f| f.id == factor_id).unwrap();
        match &factor.data {
            FactorData::Passkey { credential_id, .. } => credential_id.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn register_then_sign_in_with_and_without_a_username() {
        let f = fixture().await;
        let mut key = WebauthnAuthenticator::new(SoftPasskey::new(true));
        let enrolled = registered(&f, &mut key, &f.user, " Work laptop ").await;
        // The first factor comes with ten recovery codes, shown once; a second does not.
        assert_eq!(enrolled.recovery_codes.as_ref().map(Vec::len), Some(10));
        assert_eq!(enrolled.user.mfa.unused_recovery_codes(), 10);
        let mut phone = WebauthnAuthenticator::new(SoftPasskey::new(true));
        let second = registered(&f, &mut phone, &enrolled.user, "Phone").await;
        assert_eq!(second.recovery_codes, None);
        assert_eq!(second.user.mfa.factors.len(), 2);
        assert_eq!(
            second.user.mfa.recovery_codes,
            enrolled.user.mfa.recovery_codes
        );
        f.mfa
            .directory
            .modify_user(&f.pool, &f.user.sub, |u| {
                u.mfa.factors.retain(|x| x.name != "Phone");
                Ok(())
            })
            .await
            .unwrap();
        let user = enrolled.user;
        assert_eq!(user.mfa.factors.len(), 1);
        let factor = &user.mfa.factors[0];
        assert_eq!(factor.id, enrolled.factor_id);
        assert_eq!(factor.kind, MfaFactor::Passkey);
        assert_eq!(factor.name, "Work laptop");
        assert_eq!(factor.created_at, NOW + 1);
        let id = credential_id(&user, &factor.id);
        // The stored credential is webauthn-rs's Passkey.
        let FactorData::Passkey { credential, .. } = &factor.data else {
            unreachable!()
        };
        let passkey: Passkey = serde_json::from_value(credential.clone()).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice()), id);

        // Second factor / username first: the user's passkeys are offered.
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, Some(&user), NOW + 2)
            .await
            .unwrap();
        let allowed = c.options["allowCredentials"].as_array().unwrap();
        assert_eq!(allowed.len(), 1);
        assert_eq!(allowed[0]["id"], id.as_str());
        let assertion = assert_with(&mut key, &c, &id, None);
        let verified = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 3)
            .await
            .unwrap();
        assert_eq!(verified.amr, "hwk");
        assert_eq!(verified.user.sub, f.user.sub);
        assert_eq!(verified.user.mfa.factors[0].last_used_at, Some(NOW + 3));
        let counter = |u: &User| match &u.mfa.factors[0].data {
            FactorData::Passkey { counter, .. } => *counter,
            _ => unreachable!(),
        };
        let after_first = counter(&verified.user);
        assert!(after_first > 0, "the soft authenticator counts");
        // The same assertion again: the ceremony is gone.
        let err = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 3)
            .await
            .unwrap_err();
        assert!(matches!(err, MfaError::Expired), "{err:?}");
        // ...and replayed into a new ceremony, its challenge does not match.
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, Some(&verified.user), NOW + 4)
            .await
            .unwrap();
        let err = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 4)
            .await
            .unwrap_err();
        assert!(matches!(err, MfaError::CodeMismatch), "{err:?}");

        // Without a username: the handle names the user.
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, None, NOW + 5)
            .await
            .unwrap();
        let assertion = assert_with(&mut key, &c, &id, Some(&f.user.sub));
        let verified = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 5)
            .await
            .unwrap();
        assert_eq!(verified.user.sub, f.user.sub);
        assert!(counter(&verified.user) > after_first);
        // A success clears the failure counted by the replay above.
        assert!(f
            .store
            .list_counters("bf:", NOW + 5, 10)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn what_the_passkey_proves_is_refused_when_it_should_be() {
        let f = fixture().await;
        let mut key = WebauthnAuthenticator::new(SoftPasskey::new(true));
        let enrolled = registered(&f, &mut key, &f.user, "").await;
        let id = credential_id(&enrolled.user, &enrolled.factor_id);
        assert_eq!(enrolled.user.mfa.factors[0].name, "Passkey");

        // Another user who claims this passkey by sending their handle: the credential is
        // not theirs.
        let mallory = f
            .mfa
            .directory
            .create_user(
                &f.pool,
                NewUser {
                    username: "mallory@example.com".into(),
                    attributes: BTreeMap::from([("email".into(), "mallory@example.com".into())]),
                    password: None,
                    state: InitialState::Confirmed,
                },
                NOW,
            )
            .await
            .unwrap();
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, None, NOW + 2)
            .await
            .unwrap();
        let assertion = assert_with(&mut key, &c, &id, Some(&mallory.sub));
        let err = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 2)
            .await
            .unwrap_err();
        assert!(matches!(err, MfaError::CodeMismatch), "{err:?}");
        // A ceremony bound to Ada refuses an assertion naming Mallory.
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, Some(&enrolled.user), NOW + 2)
            .await
            .unwrap();
        let assertion = assert_with(&mut key, &c, &id, Some(&mallory.sub));
        let err = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 2)
            .await
            .unwrap_err();
        assert!(matches!(err, MfaError::CodeMismatch), "{err:?}");

        // A counter at or below the stored one (a cloned authenticator) is refused.
        f.mfa
            .directory
            .modify_user(&f.pool, &f.user.sub, |u| {
                if let FactorData::Passkey { counter, .. } = &mut u.mfa.factors[0].data {
                    *counter = 1_000_000;
                }
                Ok(())
            })
            .await
            .unwrap();
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, None, NOW + 3)
            .await
            .unwrap();
        let assertion = assert_with(&mut key, &c, &id, Some(&f.user.sub));
        let err = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 3)
            .await
            .unwrap_err();
        assert!(matches!(err, MfaError::CodeMismatch), "{err:?}");
        f.mfa
            .directory
            .modify_user(&f.pool, &f.user.sub, |u| {
                if let FactorData::Passkey { counter, .. } = &mut u.mfa.factors[0].data {
                    *counter = 0;
                }
                Ok(())
            })
            .await
            .unwrap();

        // A disabled user proves the passkey and is still refused.
        f.mfa
            .directory
            .set_enabled(&f.pool, &f.user.sub, false, NOW)
            .await
            .unwrap();
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, None, NOW + 4)
            .await
            .unwrap();
        let assertion = assert_with(&mut key, &c, &id, Some(&f.user.sub));
        let err = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 4)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, MfaError::NotPossible(m) if m.contains("disabled")),
            "{err:?}"
        );
        f.mfa
            .directory
            .set_enabled(&f.pool, &f.user.sub, true, NOW)
            .await
            .unwrap();

        // The same authenticator registers a new credential for Mallory (a registration
        // for Ada's credential id cannot be forged: the attestation signs it, and the
        // index refusing a second holder is a_credential_id_belongs_to_one_user_of_the_pool).
        let c = f
            .mfa
            .start_passkey_registration(&f.pool, &mallory, NOW + 5)
            .await
            .unwrap();
        let response = register_with(&mut key, &c);
        assert_ne!(response["rawId"], json!(id));
        f.mfa
            .finish_passkey_registration(
                &f.pool,
                &mallory.sub,
                &c.id,
                &response,
                "",
                &Default::default(),
                NOW + 5,
            )
            .await
            .unwrap();

        // Wrong passwords that lock the account's password sign-in do not lock its
        // passkey out (an assertion cannot be guessed; a shared count would let anyone lock
        // it), and the passkey's success clears the count.
        for _ in 0..crate::core::throttle::PAIR_LOCK_FAILURES {
            f.mfa
                .throttle
                .reserve(&f.pool.id, &f.user.lookup.username, ADDRESS, NOW + 6)
                .await
                .unwrap();
        }
        let c = f
            .mfa
            .start_passkey_authentication(&f.pool, None, NOW + 6)
            .await
            .unwrap();
        let assertion = assert_with(&mut key, &c, &id, Some(&f.user.sub));
        let verified = f
            .mfa
            .finish_passkey_authentication(&f.pool, &c.id, &assertion, ADDRESS, NOW + 6)
            .await
            .unwrap();
        assert_eq!(verified.user.sub, f.user.sub);
        assert!(matches!(
            f.mfa
                .throttle
                .reserve(&f.pool.id, &f.user.lookup.username, ADDRESS, NOW + 7)
                .await
                .unwrap(),
            crate::core::throttle::Verdict::Allow { .. }
        ));
    }
}
