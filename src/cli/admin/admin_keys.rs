//! `cognate admin-keys`: operator credentials for SigV4-signed calls to the AWS edge
//! (`POST /`), written through [`crate::core::admin_keys`].
//!
//! `create` prints the access key id on stdout, followed by a tab and the secret when
//! the secret was generated (it is shown this once, and never logged); a secret chosen
//! with `--secret-stdin` is not echoed back unless `--show-secret` asks for it. `list`
//! shows no secret. `delete` takes effect on every node at the next request.

use std::io::Read;

use clap::{Subcommand, ValueEnum};

use super::{iso, print_table};
use crate::cli::{CliError, CliResult};
use crate::core::admin_keys::{AdminKeyError, AdminKeyPurpose, AdminKeys, NewAdminKey};
use crate::core::now;
use crate::core::secrets::SecretString;
use crate::server::Node;

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PurposeArg {
    /// Every signed management call.
    Operator,
    /// Only the resource servers' authorization check.
    Authorize,
}

impl From<PurposeArg> for AdminKeyPurpose {
    fn from(p: PurposeArg) -> Self {
        match p {
            PurposeArg::Operator => AdminKeyPurpose::Operator,
            PurposeArg::Authorize => AdminKeyPurpose::Authorize,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminKeysCmd {
    /// Create an access key; prints its id, and the secret when it was generated.
    Create {
        /// The access key id (1 to 128 of A-Z a-z 0-9 _ . @ + = -); generated as
        /// AKIA... when omitted.
        #[arg(long, value_name = "ID")]
        access_key_id: Option<String>,
        /// Read the secret from standard input (16 to 128 printable characters, no
        /// spaces; a final newline is dropped) instead of generating one.
        #[arg(long)]
        secret_stdin: bool,
        /// Print the secret even when it was read from standard input.
        #[arg(long)]
        show_secret: bool,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, value_enum, default_value_t = PurposeArg::Operator)]
        purpose: PurposeArg,
    },
    /// List the access keys (no secrets).
    List,
    /// Delete an access key.
    Delete {
        /// The access key id.
        access_key_id: String,
    },
}

fn cli_error(e: AdminKeyError) -> CliError {
    match e {
        AdminKeyError::Invalid { field, message } => {
            let flag = match field {
                "access_key_id" => "--access-key-id",
                "secret" => "--secret-stdin",
                _ => "--description",
            };
            CliError(format!("{flag}: {message}"))
        }
        AdminKeyError::Exists(id) => CliError(format!(
            "--access-key-id: {id:?} is already taken (see `cognate admin-keys list`)"
        )),
        other => CliError(other.to_string()),
    }
}

pub async fn admin_keys(node: Node, cmd: AdminKeysCmd) -> CliResult {
    let keys = AdminKeys::new(node.store.clone(), node.master.clone());
    match cmd {
        AdminKeysCmd::Create {
            access_key_id,
            secret_stdin,
            show_secret,
            description,
            purpose,
        } => {
            let secret = if secret_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| CliError(format!("--secret-stdin: cannot read: {e}")))?;
                Some(SecretString::new(text.trim_end_matches(['\r', '\n'])))
            } else {
                None
            };
            let made = keys
                .create(
                    NewAdminKey {
                        access_key_id,
                        secret,
                        description,
                        purpose: purpose.into(),
                    },
                    now(),
                )
                .await
                .map_err(cli_error)?;
            if made.generated_secret || show_secret {
                println!("{}\t{}", made.access_key_id, made.secret.expose());
                if made.generated_secret {
                    eprintln!("the secret is shown only now: store it (AWS_SECRET_ACCESS_KEY)");
                }
            } else {
                println!("{}", made.access_key_id);
            }
            Ok(())
        }
        AdminKeysCmd::List => {
            let rows: Vec<Vec<String>> = keys
                .list()
                .await
                .map_err(cli_error)?
                .into_iter()
                .map(|k| {
                    vec![
                        k.access_key_id,
                        k.purpose.as_str().to_string(),
                        iso(k.created_at),
                        k.description,
                    ]
                })
                .collect();
            print_table(
                &["ACCESS_KEY_ID", "PURPOSE", "CREATED", "DESCRIPTION"],
                &rows,
            );
            Ok(())
        }
        AdminKeysCmd::Delete { access_key_id } => {
            if keys.delete(&access_key_id).await.map_err(cli_error)? {
                eprintln!("deleted access key {access_key_id}");
                Ok(())
            } else {
                Err(CliError(format!(
                    "access key {access_key_id:?} does not exist (see `cognate admin-keys list`)"
                )))
            }
        }
    }
}
