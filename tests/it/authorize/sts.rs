//! STS with the official client: AssumeRoleWithWebIdentity with the identity service's
//! OpenID token (issued through the running server's state until GetOpenIdToken lands),
//! then GetCallerIdentity and the file server with the credentials it vended. A guest
//! token never gets an authenticated-only role, another pool's token never gets this
//! pool's role.

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;

use cognate::core::identity_pools::credentials::VendedCredentials;
use cognate::core::identity_pools::openid::IdentityTokenRequest;

use super::{file_url, identity, world, Signer, GUEST_ROLE, IPOOL, OTHER_IPOOL, ROLE};

fn sts(base: &str, creds: Option<(&str, &str, &str)>) -> aws_sdk_sts::Client {
    let mut config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(base)
        .retry_config(RetryConfig::disabled());
    if let Some((akid, secret, token)) = creds {
        config = config.credentials_provider(Credentials::new(
            akid,
            secret,
            Some(token.to_string()),
            None,
            "test",
        ));
    }
    aws_sdk_sts::Client::from_conf(config.build())
}

async fn token(w: &super::World, identity_id: &str, pool: &str, amr: &str) -> String {
    w.server
        .node
        .identity_tokens
        .issue(
            &IdentityTokenRequest {
                identity_id: identity_id.into(),
                identity_pool_id: pool.into(),
                amr: vec![amr.into()],
                ttl_secs: 600,
            },
            cognate::core::now(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn sdk_assume_role_with_web_identity_then_get_caller_identity() {
    let w = world().await;
    let jwt = token(&w, &w.alice_id, IPOOL, "authenticated").await;
    let anonymous = sts(&w.server.base, None);
    let out = anonymous
        .assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("app-session")
        .web_identity_token(&jwt)
        .duration_seconds(900)
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    assert!(c.access_key_id().starts_with("ASIA"));
    assert_eq!(
        out.subject_from_web_identity_token(),
        Some(w.alice_id.as_str())
    );
    assert_eq!(out.audience(), Some(IPOOL));
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::123456789012:assumed-role/FilesUsers/app-session"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":app-session"));
    let expires = c.expiration().secs();
    let now = cognate::core::now();
    assert!(
        (now + 890..=now + 910).contains(&expires),
        "{expires} vs {now}"
    );

    // GetCallerIdentity signed with the vended credentials.
    let signed = sts(
        &w.server.base,
        Some((c.access_key_id(), c.secret_access_key(), c.session_token())),
    );
    let me = signed
        .get_caller_identity()
        .send()
        .await
        .expect("caller identity");
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/FilesUsers/CognitoIdentityCredentials")
    );
    assert_eq!(me.account(), Some("123456789012"));
    // A tampered session token is refused as STS names it.
    let mut bad = c.session_token().to_string();
    bad.replace_range(20..21, if &bad[20..21] == "A" { "B" } else { "A" });
    let err = sts(
        &w.server.base,
        Some((c.access_key_id(), c.secret_access_key(), &bad)),
    )
    .get_caller_identity()
    .send()
    .await
    .expect_err("tampered");
    assert_eq!(err.code(), Some("InvalidClientTokenId"));

    // The same credentials at the file server.
    let vended = VendedCredentials {
        access_key_id: c.access_key_id().into(),
        secret_access_key: super::secret(c.secret_access_key()),
        session_token: c.session_token().into(),
        expiration: expires,
    };
    let url = file_url(&w, &format!("{}/from-sts", w.alice_id));
    assert_eq!(Signer::new(&vended).send("PUT", &url, b"x").await.0, 200);
    // Alice disabled: the STS credentials stop too, at STS and at the file server.
    let pool = w.server.pool(super::POOL).await;
    w.server
        .node
        .directory
        .set_enabled(&pool, &w.alice.sub, false, now)
        .await
        .unwrap();
    assert_eq!(Signer::new(&vended).send("GET", &url, b"").await.0, 403);
    let err = signed
        .get_caller_identity()
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
}

#[tokio::test]
async fn sdk_assume_role_refuses_what_the_trust_does_not_admit() {
    let w = world().await;
    let client = sts(&w.server.base, None);
    let assume = |role: &'static str, jwt: String, duration: i32| {
        let client = client.clone();
        async move {
            client
                .assume_role_with_web_identity()
                .role_arn(role)
                .role_session_name("s1")
                .web_identity_token(jwt)
                .duration_seconds(duration)
                .send()
                .await
        }
    };
    let code = |r: Result<_, aws_sdk_sts::error::SdkError<_, _>>| {
        let e: aws_sdk_sts::error::SdkError<
            aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError,
            _,
        > = r.map(|_: aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput| ()).expect_err("refused");
        e.code().unwrap_or_default().to_string()
    };
    // A guest token: the guest role yes, the authenticated-only role no.
    let guest = identity(&w.server, IPOOL, None, None).await;
    let guest_jwt = token(&w, &guest, IPOOL, "unauthenticated").await;
    assert!(assume(GUEST_ROLE, guest_jwt.clone(), 900).await.is_ok());
    assert_eq!(code(assume(ROLE, guest_jwt, 900).await), "AccessDenied");
    // Another pool's token never gets this pool's role.
    let stranger = identity(&w.server, OTHER_IPOOL, None, None).await;
    let other_jwt = token(&w, &stranger, OTHER_IPOOL, "authenticated").await;
    assert_eq!(code(assume(ROLE, other_jwt, 900).await), "AccessDenied");
    // A token that is not ours, a forged signature, an over-long session.
    let alice_jwt = token(&w, &w.alice_id, IPOOL, "authenticated").await;
    assert_eq!(
        code(assume(ROLE, "not.a.jwt".into(), 900).await),
        "InvalidIdentityToken"
    );
    let mut forged = alice_jwt.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(
        code(assume(ROLE, forged, 900).await),
        "InvalidIdentityToken"
    );
    assert_eq!(
        code(assume(ROLE, alice_jwt.clone(), 7200).await),
        "ValidationError"
    );
    assert_eq!(
        code(assume(ROLE, alice_jwt.clone(), 899).await),
        "ValidationError"
    );
    // An unknown role.
    assert_eq!(
        code(
            assume(
                "arn:aws:iam::123456789012:role/Nope",
                alice_jwt.clone(),
                900
            )
            .await
        ),
        "AccessDenied"
    );
    // The honest request.
    assert!(assume(ROLE, alice_jwt, 3600).await.is_ok());
}
