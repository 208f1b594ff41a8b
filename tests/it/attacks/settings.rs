//! A setting is a promise: what Cognate does not honour yet is refused, never stored and
//! ignored. A pool whose `mfa` demands a second factor (Cognate has none yet) must not sign
//! anyone in with a password alone; one stored before Cognate refused it is repaired with
//! `cognate pools update --mfa off`. (check-config's and the core's refusals are unit
//! tests: `config::check::tests`, `core::admin::tests`.)

use super::*;

use cognate::core::model::MfaSetting;

#[tokio::test]
async fn a_pool_stored_with_mfa_refuses_password_sign_in_until_the_cli_turns_it_off() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    // A pool as an older release stored it, with `mfa = "ON"`: written to the store directly,
    // since the administration service refuses to write it now.
    let mut pool = server.pool(POOL).await;
    pool.mfa = MfaSetting::On;
    server.node.store.put_pool(&pool).await.unwrap();

    let browser = browser_client();
    let pkce = Pkce::new("mfa-on");
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let refused = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.location.is_none(), "{:?}", refused.location);
    assert!(
        refused.body.contains("requires a second factor (MFA)"),
        "{}",
        refused.body
    );
    // The refusal comes before the password is looked at: a wrong one gets the same page,
    // and nothing was counted against the account.
    let wrong = attempt(&browser, &base, &flow, "alice", "Wrong-horse-1", None).await;
    assert_eq!(wrong.status, 503);
    assert_eq!(
        masked(&wrong, &[&flow.0, &flow.1]),
        masked(&refused, &[&flow.0, &flow.1])
    );

    // The CLI will not turn a second factor on (nor keep it on)...
    for mfa in ["on", "optional"] {
        let (code, _, stderr) =
            cognate_cli_output(&server, &["pools", "update", POOL, "--mfa", mfa]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("--mfa") && stderr.contains("not supported yet"),
            "{stderr}"
        );
    }
    let (code, _, stderr) = cognate_cli_output(&server, &["pools", "update", POOL]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--mfa off"), "{stderr}");
    // ...nor create a pool with one.
    let (code, _, stderr) = cognate_cli_output(
        &server,
        &["pools", "create", "--name", "second-factor", "--mfa", "on"],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--mfa"), "{stderr}");
    let pools = server.node.store.list_pools().await.unwrap();
    assert!(
        pools.iter().all(|p| p.name != "second-factor"),
        "the refused create wrote nothing"
    );

    // The repair: `--mfa off`, and the same password now signs in.
    let out = cognate_cli(&server, &["pools", "update", POOL, "--mfa", "off"]);
    assert!(out.contains("mfa OFF"), "{out}");
    assert_eq!(server.pool(POOL).await.mfa, MfaSetting::Off);
    let right = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_signed_in(&right, "the same password once mfa is off");
    server.stop().await;
}
