use clap::Parser;
use paydesk_server::cli::{Cli, run};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("paydesk: {e}");
        std::process::exit(e.exit_code());
    }
}
