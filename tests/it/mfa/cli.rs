//! `cognate users mfa reset`: an administrator removes a user's factors (a lost phone), and
//! the user of an `ON` pool enrols again at the next sign-in.

use std::process::Command;

use super::{enrol_totp_at_sign_in, start, tokens_for, Browser, ON, ON_SPA};

/// Runs the `cognate` binary on the server's data directory; (success, stdout, stderr).
fn cognate(server: &crate::support::server::TestServer, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
    cmd.arg("--data-dir")
        .arg(server.data_dir())
        .args(args)
        .current_dir(server.data_dir());
    for (k, _) in std::env::vars() {
        if k.starts_with("COGNATE_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().expect("run cognate");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "cognate panicked: {stderr}");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reset_lets_an_on_user_enrol_again() {
    let server = start().await;
    server.user(ON, "lex", super::PASSWORD).await;
    let enrolled = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "lex", 0).await;
    enrolled.completion.expect_code("enrolled");
    let (_, page) = Browser::new(&server).password(ON_SPA, "lex").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");

    // An unknown user is refused by name; lex is reset.
    let (ok, out, err) = cognate(&server, &["users", "mfa", "reset", "--pool", ON, "nobody"]);
    assert!(!ok, "resetting an unknown user: {out} {err}");
    let (ok, out, err) = cognate(&server, &["users", "mfa", "reset", "--pool", ON, "lex"]);
    assert!(ok, "cognate users mfa reset: {out} {err}");
    let user = server.find_user(ON, "lex").await.unwrap();
    assert!(user.mfa.factors.is_empty(), "{:?}", user.mfa.kinds());
    assert_eq!(user.mfa.unused_recovery_codes(), 0);

    // The next sign-in enrols again (the old key is gone), then signs in.
    let (_, page) = Browser::new(&server).password(ON_SPA, "lex").await;
    assert!(page.location().starts_with("/login/mfa-setup?"), "{page:?}");
    page.assert_no_code("after the reset, before enrolling");
    let again = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "lex", 0).await;
    assert_ne!(again.secret, enrolled.secret, "a new key");
    let code = again.completion.expect_code("enrolled again");
    tokens_for(&server.base, &again.flow, &code, "lex").await;
    server.stop().await;
}
