//! `paydesk-bench`: the performance figures in `BENCHMARKS.md`, measured against a real
//! `paydesk serve` process on this machine. Run by hand (never in CI):
//!
//! ```sh
//! cargo build --release -p paydesk-server -p paydesk-bench
//! target/release/paydesk-bench notify --provider alipay --database sqlite
//! target/release/paydesk-bench all            # everything, both databases
//! ```
//!
//! Each benchmark starts its own server on a free loopback port with a fresh data
//! directory (SQLite) or a freshly created database (Postgres), seeds what it needs
//! directly in the database, measures over HTTP, checks the database afterwards (a fast
//! wrong answer is not a result) and stops the server with SIGTERM.

mod checkout;
mod load;
mod notify;
mod report;
mod search;
mod server;
mod versus;
mod wrk;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "paydesk-bench",
    about = "paydesk benchmarks (loopback only, bounded)"
)]
struct Cli {
    /// The `paydesk` binary to start (default: next to this one).
    #[arg(long, global = true)]
    bin: Option<std::path::PathBuf>,
    /// Postgres server for `--database postgres` (a database `paydesk_bench` is dropped
    /// and created on it).
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Database {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    Alipay,
    Wechatpay,
    Stripe,
}

#[derive(Subcommand)]
enum Command {
    /// Verified provider notifications over HTTP, distinct orders, each acknowledged only
    /// after its commit.
    Notify {
        #[arg(long, value_enum, default_value = "alipay")]
        provider: Provider,
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        /// Notifications sent (one per order).
        #[arg(long, default_value_t = 40_000)]
        count: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Dashboard order search (filters + keyset page) on a large table.
    Search {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// Searches per filter shape.
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// Checkout creation through the merchant API against the sandbox gateway.
    Checkout {
        #[arg(long, value_enum, default_value = "wechatpay")]
        provider: Provider,
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        #[arg(long, default_value_t = 2_000)]
        count: usize,
        #[arg(long, default_value_t = 8)]
        connections: usize,
    },
    /// Start-up to ready, idle memory and SIGTERM to exit (also with requests in flight).
    Lifecycle {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// paydesk against the Go + Gin peer (`bench/peer`), alternating, loaded by wrk with
    /// the same pre-signed Alipay notifications (run through `bench/versus.sh`).
    Versus {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        /// Notifications per run (one per pending order).
        #[arg(long, default_value_t = 40_000)]
        count: usize,
        /// Rounds; each runs both servers, who goes first alternating.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// The peer's binary (built by `bench/versus.sh`).
        #[arg(long)]
        peer_bin: std::path::PathBuf,
        #[arg(long, default_value = "bench/wrk/notify.lua")]
        wrk_script: std::path::PathBuf,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Prefix of the Postgres databases created (and dropped) on `--postgres`.
        #[arg(long, default_value = "versus")]
        pg_prefix: String,
    },
    /// Every benchmark above, on SQLite and Postgres, as a Markdown report.
    All {
        /// Notifications per notify run.
        #[arg(long, default_value_t = 40_000)]
        count: usize,
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let env = server::Env {
        bin: cli.bin.unwrap_or_else(server::default_bin),
        postgres_admin_url: cli.postgres,
    };
    let result = rt.block_on(async move {
        match cli.command {
            Command::Notify {
                provider,
                database,
                count,
                connections,
            } => notify::run(&env, provider, database, count, connections)
                .await
                .map(|r| println!("{}", r.markdown())),
            Command::Search {
                database,
                orders,
                rounds,
            } => search::run(&env, database, orders, rounds)
                .await
                .map(|r| println!("{}", r.markdown())),
            Command::Checkout {
                provider,
                database,
                count,
                connections,
            } => checkout::run(&env, provider, database, count, connections)
                .await
                .map(|r| println!("{}", r.markdown())),
            Command::Lifecycle { database, rounds } => server::lifecycle(&env, database, rounds)
                .await
                .map(|r| println!("{}", r.markdown())),
            Command::Versus {
                database,
                count,
                rounds,
                peer_bin,
                wrk_script,
                connections,
                threads,
                pg_prefix,
            } => {
                let opts = versus::Options {
                    database,
                    count,
                    rounds,
                    peer_bin,
                    wrk_script,
                    connections,
                    threads,
                    pg_prefix,
                };
                versus::run(&env, &opts).await.map(|r| println!("{r}"))
            }
            Command::All { count, orders } => report::all(&env, count, orders).await,
        }
    });
    if let Err(e) = result {
        eprintln!("paydesk-bench: {e}");
        std::process::exit(1);
    }
}
