//! The `cognate` command line: `serve` (the default), `check-config`, and admin commands
//! that work directly on the node's database (the same data directory or database URL the
//! server uses). Errors print a clear message and exit with code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::server::Node;

pub mod admin;
pub mod transfer;

/// Exit code for every user-facing error (bad input, unknown resource, bad config).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "cognate",
    version,
    about = "Cognate: a self-hosted identity broker with Cognito-compatible user pools",
    long_about = None
)]
pub struct Cli {
    /// The configuration file (TOML). Without one, Cognate runs with defaults and creates
    /// a demo pool on first start.
    #[arg(long, short = 'c', global = true, env = "COGNATE_CONFIG")]
    pub config: Option<PathBuf>,

    /// The data directory for the embedded SQLite database and master key
    /// (overrides data_dir of the server section).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no command is given).
    Serve(ServeArgs),
    /// Validate a configuration file and report every error with its location and a fix.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
    /// Apply the configuration file to the database without starting the server.
    Apply {
        /// Delete config-owned pools, clients, resource servers and groups that the file
        /// no longer declares.
        #[arg(long)]
        prune: bool,
    },
    /// Manage user pools.
    #[command(subcommand)]
    Pools(admin::PoolsCmd),
    /// Manage app clients.
    #[command(subcommand)]
    Clients(admin::ClientsCmd),
    /// Manage a pool's identity providers (SAML 2.0 providers from their metadata).
    #[command(subcommand)]
    Idps(admin::IdpsCmd),
    /// Show identity pools (written by `cognate apply` and the identity API).
    #[command(subcommand, name = "identity-pools")]
    IdentityPools(admin::IdentityPoolsCmd),
    /// Show the roles identity pools hand out (declared in the configuration file).
    #[command(subcommand)]
    Roles(admin::RolesCmd),
    /// Manage users.
    #[command(subcommand)]
    Users(admin::UsersCmd),
    /// Manage groups and memberships.
    #[command(subcommand)]
    Groups(admin::GroupsCmd),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(admin::KeysCmd),
    /// H1: manage operator credentials (access keys that SigV4-sign calls to the AWS
    /// APIs on `POST /`).
    #[command(subcommand)]
    AdminKeys(admin::AdminKeysCmd),
    /// A pool's trigger webhooks: show or rotate their signing secret.
    #[command(subcommand)]
    Triggers(admin::TriggersCmd),
    /// The auth event log of threat protection: list a pool's or a user's events, prune
    /// the expired ones.
    #[command(subcommand)]
    Events(admin::EventsCmd),
    /// Print a new random master key (base64 of 32 bytes) for COGNATE_MASTER_KEY or a
    /// master key file, as several nodes on one database need.
    GenerateMasterKey,
}

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides listen of the server section and COGNATE_LISTEN).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Delete config-owned records that the file no longer declares.
    #[arg(long)]
    pub prune: bool,
}

/// A CLI failure: printed as `error: <message>` with exit code 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

pub type CliResult = Result<(), CliError>;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Loads the configuration named on the command line, applying `--data-dir`.
pub fn load_config(
    cli_config: Option<&PathBuf>,
    data_dir: Option<&PathBuf>,
) -> Result<Config, CliError> {
    let mut config = Config::load(cli_config.map(PathBuf::as_path)).map_err(|diags| {
        CliError(
            diags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    if let Some(dir) = data_dir {
        config.server.data_dir = dir.clone();
    }
    Ok(config)
}

async fn run(cli: Cli) -> CliResult {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    match &command {
        Command::CheckConfig { file } => return check_config(file),
        Command::GenerateMasterKey => {
            println!("{}", crate::core::secrets::MasterKey::generate().1);
            return Ok(());
        }
        _ => {}
    }
    let mut config = load_config(cli.config.as_ref(), cli.data_dir.as_ref())?;
    match command {
        Command::Serve(args) => {
            if let Some(listen) = args.listen {
                config.server.listen = listen;
            }
            serve(config, args.prune).await
        }
        Command::CheckConfig { .. } | Command::GenerateMasterKey => Ok(()),
        Command::Apply { prune } => {
            let node = Node::open(config).await?;
            let boot = node.bootstrap(prune).await?;
            if let Some(report) = boot.report {
                println!("{report}");
            }
            Ok(())
        }
        Command::Pools(cmd) => admin::pools(open(config).await?, cmd).await,
        Command::Clients(cmd) => admin::clients(open(config).await?, cmd).await,
        Command::Idps(cmd) => admin::idps(open(config).await?, cmd).await,
        Command::IdentityPools(cmd) => admin::identity_pools(open(config).await?, cmd).await,
        Command::Roles(cmd) => admin::roles(open(config).await?, cmd).await,
        Command::Users(cmd) => admin::users(open(config).await?, cmd).await,
        Command::Groups(cmd) => admin::groups(open(config).await?, cmd).await,
        Command::Keys(cmd) => admin::keys(open(config).await?, cmd).await,
        Command::Triggers(cmd) => admin::triggers(open(config).await?, cmd).await,
        Command::Events(cmd) => admin::events(open(config).await?, cmd).await,
        Command::AdminKeys(cmd) => admin::admin_keys(open(config).await?, cmd).await,
    }
}

async fn open(config: Config) -> Result<Node, CliError> {
    Ok(Node::open(config).await?)
}

fn check_config(file: &std::path::Path) -> CliResult {
    match crate::config::check_file(file) {
        Ok(config) => {
            let clients: usize = config.pools.iter().map(|p| p.clients.len()).sum();
            println!(
                "{}: OK ({} pools, {} app clients)",
                file.display(),
                config.pools.len(),
                clients
            );
            Ok(())
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            Err(CliError(format!(
                "{} error(s) in {}",
                diags.len(),
                file.display()
            )))
        }
    }
}

async fn serve(mut config: Config, prune: bool) -> CliResult {
    crate::telemetry::init_logging(config.server.log_format);
    let listen = config.server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError(format!("cannot listen on {listen}: {e}")))?;
    let local = listener.local_addr()?;
    let metrics_listener = match config.server.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CliError(format!("cannot listen for metrics on {addr}: {e}")))?,
        ),
        None => None,
    };
    // Without a configured public URL the bound address is the public one (port 0 becomes
    // the port the system picked).
    if config.server.public_url.is_none() {
        config.server.public_url = url::Url::parse(&format!("http://{local}")).ok();
    }
    let node = Node::open(config).await?;
    let boot = node.bootstrap(prune).await?;
    // Before the banner: once "listening" is printed, SIGTERM must stop gracefully.
    let shutdown = crate::web::shutdown_signal();
    let public = node.config.public_url();
    if let Some(report) = &boot.report {
        tracing::info!("configuration applied:\n{report}");
    }
    // Printed on stdout (not only logged) so scripts and tests can read the bound address;
    // the "listening" line comes last.
    println!("  database: {}", node.store.engine());
    if let Some(demo) = &boot.demo {
        println!(
            "  demo pool {} with app client {}{}",
            demo.pool_id,
            demo.client_id,
            if demo.created { " (created now)" } else { "" }
        );
        println!(
            "  discovery: {public}/{}/.well-known/openid-configuration",
            demo.pool_id
        );
        println!("  try it: open {public}/demo to sign up and sign in");
    }
    if let Some(metrics) = &metrics_listener {
        println!("  metrics: http://{}/metrics", metrics.local_addr()?);
    }
    println!("Cognate listening on http://{local} (public URL {public})");
    tracing::info!(%local, engine = node.store.engine(), "listening");
    let state = crate::web::AppState::new(node)?;
    match metrics_listener {
        None => crate::web::serve(listener, state, shutdown).await?,
        Some(metrics) => {
            // One signal stops both listeners.
            use futures::FutureExt;
            let shutdown = shutdown.shared();
            tokio::try_join!(
                crate::web::serve(listener, state.clone(), shutdown.clone()),
                crate::web::serve_metrics(metrics, state, shutdown),
            )?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}
