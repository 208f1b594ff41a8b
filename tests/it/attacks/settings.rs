//! A setting is a promise: what Cognate does not honour yet is refused, never stored and
//! ignored. A pool whose `mfa` demands a second factor does not sign anyone in with a
//! password alone; `cognate pools update/create --mfa` set it (issue 13). (check-config's
//! and the core's rules are unit tests: `config::check::tests`, `core::admin::tests`.)

use super::*;

use cognate::core::model::MfaSetting;

#[tokio::test]
async fn a_pool_with_mfa_on_holds_a_password_sign_in_and_the_cli_sets_mfa() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    // A pool with `mfa = "ON"` (stored directly): a right password is not a sign-in, it
    // leads to enrolling a second factor (Cognito's MFA_SETUP), with no code issued.
    let mut pool = server.pool(POOL).await;
    pool.mfa = MfaSetting::On;
    server.node.store.put_pool(&pool).await.unwrap();

    let browser = browser_client();
    let pkce = Pkce::new("mfa-on");
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let held = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_eq!(held.status, 303, "{}", held.body);
    assert!(
        held.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login/mfa-setup")),
        "{:?}",
        held.location
    );
    // A wrong password is refused as ever.
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let wrong = attempt(&browser, &base, &flow, "alice", "Wrong-horse-1", None).await;
    assert!(wrong.location.is_none(), "{:?}", wrong.location);

    // Since issue 13 the CLI sets `mfa` (the pool's allowed factors stay: TOTP by
    // default)...
    for (mfa, shown) in [("on", "mfa ON"), ("optional", "mfa OPTIONAL")] {
        let out = cognate_cli(&server, &["pools", "update", POOL, "--mfa", mfa]);
        assert!(out.contains(shown), "{out}");
    }
    let (code, _, stderr) = cognate_cli_output(&server, &["pools", "update", POOL]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--mfa off"), "{stderr}");
    // ...and creates a pool with it.
    cognate_cli(
        &server,
        &["pools", "create", "--name", "second-factor", "--mfa", "on"],
    );
    let pools = server.node.store.list_pools().await.unwrap();
    let created = pools
        .iter()
        .find(|p| p.name == "second-factor")
        .expect("created");
    assert_eq!(created.mfa, MfaSetting::On);
    assert_eq!(created.factors, Default::default());

    // With `--mfa off` the same password signs in.
    let out = cognate_cli(&server, &["pools", "update", POOL, "--mfa", "off"]);
    assert!(out.contains("mfa OFF"), "{out}");
    assert_eq!(server.pool(POOL).await.mfa, MfaSetting::Off);
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let right = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_signed_in(&right, "the same password once mfa is off");
    server.stop().await;
}
