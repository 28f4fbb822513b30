//! The `vitrine` command.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use vitrine_gateway::bootstrap;
use vitrine_gateway::config::Settings;
use vitrine_gateway::startup::{open_store, Application};
use vitrine_gateway::telemetry;

/// How long traces may take to flush when the process ends other than by a signal.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Vitrine: live video personal shopping.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a node (the default).
    Serve,
    /// Mint a new token for the demo admin and print it.
    AdminToken,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let telemetry = telemetry::init();

    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };

    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Cmd::Serve) {
            Cmd::Serve => serve(settings).await.map(Some),
            Cmd::AdminToken => admin_token(settings).await.map(|()| None),
        }
    });
    // A stopped node flushes traces in what is left of its shutdown bound.
    let flush = match &result {
        Ok(Some(deadline)) => deadline.saturating_duration_since(Instant::now()),
        _ => FLUSH_TIMEOUT,
    };
    telemetry.shutdown(flush);
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a node until a signal stops it; returns when its shutdown bound ends.
#[allow(clippy::print_stdout)] // The URL and the token are for the person at the terminal.
async fn serve(settings: Settings) -> anyhow::Result<Instant> {
    let app = Application::build(settings).await?;
    println!("Vitrine is running at {}", app.public_base());
    match &app.admin_token {
        Some(token) => {
            println!(
                "Admin token for tenant \"{}\" (shown once; valid until {}):",
                bootstrap::DEMO_TENANT,
                token.expires_at.format("%Y-%m-%d")
            );
            println!("{}", token.token);
        }
        None => println!(
            "Admin token: use VITRINE_ADMIN_TOKEN if set, or run `vitrine admin-token` for a new one"
        ),
    }
    app.run_until_signalled().await
}

#[allow(clippy::print_stdout)] // Printing the token is the command's purpose.
async fn admin_token(settings: Settings) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let tokens = bootstrap::token_issuer(&settings, &store).await?;
    let issued = tokens.issue_staff(&bootstrap::demo_admin(), settings.tokens.admin_ttl);
    println!("{}", issued.token);
    Ok(())
}
