//! The command line: `paydesk [serve]`, `paydesk migrate`, `paydesk user add|passwd`,
//! `paydesk apikey …`, `paydesk channel …` ([`crate::channel_cli`]), `paydesk backup|restore`
//! ([`crate::backup_cli`]).

use crate::config::Config;
use crate::startup::{Application, open_store, shutdown_signal};
use clap::{Parser, Subcommand};
use paydesk_core::auth::{hash_password, validate_new_password};
use paydesk_core::role::Role;
use paydesk_core::store::{NewUser, StoreError};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "paydesk",
    version,
    about = "Self-hosted merchant payments dashboard"
)]
pub struct Cli {
    /// Optional configuration file (values in PAYDESK_* environment variables win).
    #[arg(
        long,
        global = true,
        default_value = "paydesk.toml",
        env = "PAYDESK_CONFIG"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage merchant API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Manage payment channels (provider accounts).
    #[command(subcommand)]
    Channel(crate::channel_cli::ChannelCommand),
    /// Write a consistent copy of the SQLite database to FILE while paydesk keeps running.
    Backup { file: PathBuf },
    /// Replace the SQLite database with a backup. Stop paydesk first; the current
    /// database is kept beside it.
    Restore { file: PathBuf },
    /// Recompute the overview's figures (the hourly roll-up) from the orders and refunds,
    /// for orders written into the database by something other than paydesk. Safe while
    /// paydesk runs.
    RebuildStats,
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key and print it, then its notification signing secret (the only time
    /// they are shown).
    Create { name: String },
    /// List keys (names, prefixes, last use; never the keys).
    List,
    /// Revoke a key; requests using it are refused from now on.
    Revoke { name: String },
    /// Set what a key may do with refunds: allowed, approval (they wait for an admin) or
    /// forbidden.
    RefundPolicy {
        name: String,
        policy: paydesk_core::approval::KeyRefundPolicy,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
    },
    /// Set a user's password, read from standard input.
    Passwd { name: String },
    /// Remove a user's two-step sign-in (lost phone and recovery codes); they set it up
    /// again at their next sign-in when their role requires it.
    #[command(name = "reset-2fa")]
    ResetTwoFa { name: String },
}

/// A failure to report in one line (exit status 1, or 2 for bad configuration).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

pub(crate) fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let config = Config::load(&cli.config)?;
    crate::telemetry::init(config.settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let shutdown = shutdown_signal();
            let app = Application::build(config).await.map_err(failed)?;
            app.run_until(shutdown).await.map_err(failed)
        }
        Command::Migrate => {
            open_store(&config).await.map_err(failed)?;
            println!("migrations applied");
            Ok(())
        }
        Command::RebuildStats => {
            let store = open_store(&config).await.map_err(failed)?;
            store.rebuild_order_stats().await.map_err(failed)?;
            println!("overview figures rebuilt");
            Ok(())
        }
        Command::User(UserCommand::Add { name, role }) => {
            let name = name.trim().to_string();
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
                return Err(failed("user name must be 1-64 characters without spaces"));
            }
            let store = open_store(&config).await.map_err(failed)?;
            let hash = hash_password(read_new_password()?).await.map_err(failed)?;
            match store
                .create_user(NewUser {
                    username: &name,
                    password_hash: &hash,
                    role,
                })
                .await
            {
                Ok(_) => {}
                Err(StoreError::Conflict) => {
                    return Err(failed(format!("user `{name}` already exists")));
                }
                Err(e) => return Err(failed(e)),
            }
            store
                .audit("cli", "user_created", &name, &format!("role={role}"))
                .await
                .map_err(failed)?;
            println!("user `{name}` added with role {role}");
            Ok(())
        }
        Command::User(UserCommand::ResetTwoFa { name }) => {
            crate::security_cli::reset_2fa(&config, &name).await
        }
        Command::Apikey(ApiKeyCommand::RefundPolicy { name, policy }) => {
            crate::security_cli::key_refund_policy(&config, &name, policy).await
        }
        Command::Apikey(cmd) => apikey(&config, cmd).await,
        Command::Channel(cmd) => crate::channel_cli::run(&config, cmd).await,
        Command::Backup { file } => crate::backup_cli::backup(&config, &file).await,
        Command::Restore { file } => crate::backup_cli::restore(&config, &file).await,
        Command::User(UserCommand::Passwd { name }) => {
            let store = open_store(&config).await.map_err(failed)?;
            let hash = hash_password(read_new_password()?).await.map_err(failed)?;
            match store.set_password_hash(&name, &hash).await {
                Ok(()) => {}
                Err(StoreError::NotFound) => return Err(failed(format!("no user named `{name}`"))),
                Err(e) => return Err(failed(e)),
            }
            store
                .audit("cli", "password_changed", &name, "")
                .await
                .map_err(failed)?;
            println!("password for `{name}` changed; their other sessions are signed out");
            Ok(())
        }
    }
}

async fn apikey(config: &Config, cmd: ApiKeyCommand) -> Result<(), CliError> {
    let store = open_store(config).await.map_err(failed)?;
    match cmd {
        ApiKeyCommand::Create { name } => {
            let master =
                paydesk_core::vault::MasterKey::load(&config.settings.data_dir).map_err(failed)?;
            let key = match store.create_api_key(name.trim(), "cli", &master).await {
                Ok(k) => k,
                Err(StoreError::Conflict) => {
                    return Err(failed(format!("an API key named `{name}` exists")));
                }
                Err(e) => return Err(failed(e)),
            };
            store
                .audit("cli", "api_key_created", &name, &key.info.prefix)
                .await
                .map_err(failed)?;
            // Line 1: the API key; line 2: the secret that signs its merchant notifications.
            println!("{}", key.secret);
            println!("{}", key.signing_secret.expose());
            eprintln!(
                "API key `{name}` created (line 1), with its notification signing secret (line 2). \
                 Store both now: they are not shown again."
            );
        }
        ApiKeyCommand::List => {
            for k in store.api_keys().await.map_err(failed)? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let used = k
                    .last_used_at
                    .map_or("never used".to_string(), |t| format!("last used at {t} ms"));
                println!("{}\t{}…\t{state}\t{used}", k.name, k.prefix);
            }
        }
        ApiKeyCommand::Revoke { name } => {
            match store.revoke_api_key(&name).await {
                Ok(()) => {}
                Err(StoreError::NotFound) => {
                    return Err(failed(format!("no active API key named `{name}`")));
                }
                Err(e) => return Err(failed(e)),
            }
            store
                .audit("cli", "api_key_revoked", &name, "")
                .await
                .map_err(failed)?;
            println!("API key `{name}` revoked");
        }
        ApiKeyCommand::RefundPolicy { name, policy } => {
            return crate::security_cli::key_refund_policy(config, &name, policy).await;
        }
    }
    Ok(())
}

/// One line from standard input (a prompt without echo when it is a terminal).
fn read_new_password() -> Result<String, CliError> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("New password: ").map_err(failed)?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(failed)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    validate_new_password(&password).map_err(failed)?;
    Ok(password)
}
