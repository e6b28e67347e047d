//! Flash Web's local stack: one binary that serves the built PWA and runs a real Cashu mint and a
//! real NOSTR relay on loopback, so a newcomer and the end-to-end tests need no outside network.
#![forbid(unsafe_code)]

mod args;
mod control;
#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod fault_proxy;
#[cfg(test)]
mod fault_tests;
mod flash;
mod lightning;
mod mint;
mod mint_backend;
mod relay;
mod serve;
mod static_files;
#[cfg(test)]
mod wallet_tests;

use std::process::ExitCode;
use std::sync::Arc;

use args::Args;
use thiserror::Error;

/// Everything that can stop the stack from starting, each with what the user can do about it.
#[derive(Debug, Error)]
pub enum StackError {
    /// A port flag asked for a port another program holds.
    #[error("port {port} on 127.0.0.1 is already in use (by another program or an earlier sandbox); choose another with {flag} N, or stop the other program")]
    PortInUse {
        /// The port that was taken.
        port: u16,
        /// The flag that sets it.
        flag: &'static str,
    },
    /// Binding failed for another reason (permissions, no loopback).
    #[error("cannot listen on 127.0.0.1:{port} ({flag}): {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The flag that sets it.
        flag: &'static str,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Command-line flags could not be understood.
    #[error("{0}\n\n{usage}", usage = args::USAGE)]
    Args(String),
    /// The built PWA is not where the stack looks for it.
    #[error("no built app at {0}: run `cargo xtask dist` first, or pass --dist DIR")]
    NoDist(String),
    /// The data directory could not be created or read.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The embedded Cashu mint failed to build or start.
    #[error("the Cashu mint could not start: {0}")]
    Mint(String),
    /// The embedded NOSTR relay failed to start.
    #[error("the NOSTR relay could not start: {0}")]
    Relay(String),
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("flash-sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flash-sandbox: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flash-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), StackError> {
    let dist = args.dist.clone();
    if !dist.join("index.html").is_file() {
        return Err(StackError::NoDist(dist.display().to_string()));
    }
    let data_dir = args.data_dir();
    std::fs::create_dir_all(&data_dir).map_err(|source| StackError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;

    // Bind every port first so a clash is reported before anything starts.
    let app_listener = serve::bind(args.port, "--port").await?;
    let mint_listener = serve::bind(args.mint_port, "--mint-port").await?;
    let relay_port = serve::free_port(args.relay_port, "--relay-port").await?;
    let flash_listener = serve::bind(args.flash_port, "--flash-port").await?;

    let app_addr = serve::local_addr(&app_listener, "--port")?;
    let mint_addr = serve::local_addr(&mint_listener, "--mint-port")?;
    let mint_url = format!("http://{mint_addr}");
    let flash_addr = serve::local_addr(&flash_listener, "--flash-port")?;
    let flash_url = format!("http://{flash_addr}/graphql");

    let net = lightning::Network::new(cdk::lightning_invoice::Currency::Bitcoin);
    let mint = mint::build(&data_dir, &mint_url, &net, Some(args.quote_delay_secs)).await?;
    let mint_server = Arc::new(mint::MintServer::start(mint, mint_listener, mint_addr).await?);
    let relay = relay::start(relay_port).await?;
    let flash = flash::Flash::new(&net);
    let flash_server = serve::spawn(flash_listener, flash::router(flash.clone()));
    let relay_url = relay.url().await.to_string();

    let mut app = static_files::router(dist);
    if args.control {
        let stack = control::Stack {
            mint: mint_server.clone(),
            net: net.clone(),
            flash,
        };
        app = app.nest("/__control", control::router(stack));
    }
    let app_server = serve::spawn(app_listener, app);

    let app_url = format!("http://{app_addr}");
    println!("Flash Web sandbox is running:");
    println!("  app    {app_url}");
    println!("  mint   {mint_url}   (Cashu, cdk {})", mint::CDK_VERSION);
    println!("  relay  {relay_url}");
    println!(
        "  flash  {flash_url}   (log in with phone {} and code {})",
        flash::ledger::TEST_PHONE,
        flash::ledger::TEST_CODE
    );
    println!("  data   {}", data_dir.display());
    if args.control {
        println!("  control {app_url}/__control (test fault injection enabled)");
    }
    println!("Press Ctrl-C to stop.");
    // One machine-readable line for test harnesses.
    println!(
        "FLASH_STACK_READY {}",
        serde_json::json!({ "app": app_url, "mint": mint_url, "relay": relay_url, "flash": flash_url })
    );

    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    app_server.abort();
    flash_server.abort();
    mint_server.stop().await;
    relay.shutdown();
    Ok(())
}
