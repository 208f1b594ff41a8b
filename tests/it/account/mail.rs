//! Mail delivery: the SMTP sender against a tiny in-process SMTP server, and the mail
//! settings read from the file and the environment.

use std::net::SocketAddr;
use std::time::Duration;

use cognate::config::Config;
use cognate::core::mail::{Mail, MailError, Mailer, SmtpMailer};
use cognate::core::secrets::SecretString;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A one-connection SMTP server that speaks just enough of RFC 5321 and hands over the
/// message data.
async fn smtp_sink() -> (SocketAddr, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink ESMTP ready\r\n").await.unwrap();
        let mut tx = Some(tx);
        let mut data: Option<String> = None;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            if let Some(body) = data.as_mut() {
                if line == ".\r\n" {
                    let body = data.take().unwrap_or_default();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(body);
                    }
                    write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                } else {
                    body.push_str(&line);
                }
                continue;
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.1.0 ok\r\n",
                "DATA" => {
                    data = Some(String::new());
                    b"354 end data with <CR><LF>.<CR><LF>\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 2.0.0 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"502 5.5.2 not implemented\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn smtp_mailer_delivers_through_a_real_conversation() {
    let (addr, received) = smtp_sink().await;
    let mailer = SmtpMailer::from_url(
        &SecretString::new(format!("smtp://{addr}")),
        "Cognate <no-reply@example.com>",
    )
    .unwrap();
    let mail = Mail {
        to: "alice@example.com".into(),
        subject: "Your verification code".into(),
        text: "Your verification code is 424242.\n".into(),
    };
    mailer.send(&mail).await.unwrap();
    let data = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(data.contains("Subject: Your verification code"), "{data}");
    assert!(data.contains("To: alice@example.com"), "{data}");
    assert!(
        data.contains("From: Cognate <no-reply@example.com>"),
        "{data}"
    );
    assert!(data.contains("424242"), "{data}");

    // A failure names the server, never the password.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mailer = SmtpMailer::from_url(
        &SecretString::new(format!("smtp://user:s3cr%21t@127.0.0.1:{port}")),
        "no-reply@example.com",
    )
    .unwrap();
    let err = mailer.send(&mail).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("s3cr"), "{text}");
}

/// Issue 8, hole 4: the sender delivers to exactly the stored string as a bare address. A
/// recipient with a display name (one stored before sign-up refused them) is refused, not
/// read as its bracketed address; the sink then gets the plain address's mail only.
#[tokio::test]
async fn smtp_mailer_sends_only_to_a_bare_address() {
    let (addr, received) = smtp_sink().await;
    let mailer = SmtpMailer::from_url(
        &SecretString::new(format!("smtp://{addr}")),
        "no-reply@example.com",
    )
    .unwrap();
    let mail = |to: &str| Mail {
        to: to.into(),
        subject: "Your verification code".into(),
        text: "Your verification code is 424242.\n".into(),
    };
    for to in [
        "\"ceo@corp.test\"<mallory@evil.test>",
        "CEO <mallory@evil.test>",
        "<mallory@evil.test>",
        " mallory@evil.test",
    ] {
        let err = mailer.send(&mail(to)).await.unwrap_err();
        assert!(matches!(err, MailError::BadRecipient), "{to}: {err}");
    }
    mailer.send(&mail("ceo@corp.test")).await.unwrap();
    let data = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(data.contains("To: ceo@corp.test\r\n"), "{data}");
    assert!(!data.contains("evil.test"), "{data}");
}

#[test]
fn mail_settings_in_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.toml");
    let write = |text: &str| std::fs::write(&path, text).unwrap();
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };

    // No SMTP anywhere: the development sender, for every pool.
    write("[[pools]]\nname = \"shop\"\n");
    let config = Config::load_with_env(Some(&path), &env(&[])).unwrap();
    let router = cognate::config::mail::mail_router(&config).unwrap();
    assert!(router.default.is_development());

    // Bad values are located and explained, and the URL's password is never repeated.
    write(
        "[server.smtp]\nurl = \"http://user:hunter2@mail.example.com\"\nfrom = \"nobody\"\n\n\
         [[pools]]\nname = \"shop\"\nemail = { from = \"Shop <shop@>\", smtp_url_env = \"shop-url\" }\n",
    );
    let errors = Config::load_with_env(Some(&path), &env(&[])).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let text = text.join("\n");
    for path in [
        "server.smtp.url",
        "server.smtp.from",
        "pools[0].email.from",
        "pools[0].email.smtp_url_env",
    ] {
        assert!(text.contains(path), "{path} missing in:\n{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");

    // The corrected file: the server sender, and the pool's own from its variable.
    write(
        "[server.smtp]\nurl = \"smtps://user:pw@mail.example.com\"\nfrom = \"no-reply@example.com\"\n\n\
         [[pools]]\nid = \"us-east-1_Shop12345\"\nname = \"shop\"\n\
         email = { from = \"Shop <shop@example.com>\", smtp_url_env = \"SHOP_SMTP_URL\" }\n\n\
         [[pools]]\nname = \"blog\"\nemail = { from = \"blog@example.com\" }\n",
    );
    let missing = Config::load_with_env(Some(&path), &env(&[])).unwrap_err();
    assert_eq!(missing[0].path, "SHOP_SMTP_URL", "{missing:?}");
    let config = Config::load_with_env(
        Some(&path),
        &env(&[(
            "SHOP_SMTP_URL",
            "smtp://shop:pw@127.0.0.1:2525?tls=required",
        )]),
    )
    .unwrap();
    let router = cognate::config::mail::mail_router(&config).unwrap();
    assert!(!router.default.is_development());
    assert!(router.per_pool.contains_key("us-east-1_Shop12345"));
    assert!(router.per_pool_name.contains_key("blog"));

    // COGNATE_SMTP_URL with COGNATE_SMTP_FROM stands in for the table; one alone is an error.
    write("");
    let config = Config::load_with_env(
        Some(&path),
        &env(&[
            ("COGNATE_SMTP_URL", "smtps://u:p@mail.example.com"),
            ("COGNATE_SMTP_FROM", "no-reply@example.com"),
        ]),
    )
    .unwrap();
    assert_eq!(config.server.smtp.unwrap().from, "no-reply@example.com");
    let errors = Config::load_with_env(
        Some(&path),
        &env(&[("COGNATE_SMTP_URL", "smtps://u:p@mail.example.com")]),
    )
    .unwrap_err();
    assert_eq!(errors[0].path, "COGNATE_SMTP_URL");
}
