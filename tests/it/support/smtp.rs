//! A tiny SMTP server on 127.0.0.1:0 that keeps every message it receives, so tests read
//! confirmation and reset codes from real mail sent by the real SMTP sender.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct Inbox {
    messages: Arc<Mutex<Vec<String>>>,
}

impl Inbox {
    pub fn all(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits for a message to `to` containing a 6-digit code, and returns the code.
    pub async fn code_for(&self, to: &str) -> String {
        for _ in 0..200 {
            let found = self
                .all()
                .iter()
                .rev()
                .find(|m| m.contains(to))
                .and_then(|m| six_digits(m));
            if let Some(code) = found {
                return code;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no code mailed to {to}; inbox: {:?}", self.all());
    }
}

pub fn six_digits(message: &str) -> Option<String> {
    let body = message
        .split("\r\n\r\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = body.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let window = &bytes[i..i + 6];
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 6).copied();
        (window.iter().all(u8::is_ascii_digit)
            && !before.is_some_and(|b| b.is_ascii_digit())
            && !after.is_some_and(|b| b.is_ascii_digit()))
        .then(|| String::from_utf8_lossy(window).into_owned())
    })
}

/// Starts the sink; returns its `smtp://` URL and the inbox.
pub async fn start() -> (String, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inbox = Inbox::default();
    let keep = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let inbox = keep.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if data {
                        if line == "." {
                            data = false;
                            inbox
                                .messages
                                .lock()
                                .unwrap()
                                .push(std::mem::take(&mut message));
                            let _ = write.write_all(b"250 OK queued\r\n").await;
                        } else {
                            message.push_str(&line);
                            message.push_str("\r\n");
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        // SMTPUTF8 (RFC 6531), as relays today offer: the mail crate needs it
                        // to send to an internationalised address.
                        b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                    } else if upper.starts_with("DATA") {
                        data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (format!("smtp://{addr}"), inbox)
}
