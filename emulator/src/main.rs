//! The `oblien-emulator` command: flags → [`oblien_emulator::Config`], then serve until SIGINT or
//! SIGTERM.

use clap::Parser;
use oblien_emulator::{Config, RateLimit};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A local Oblien API and workspace gateway, in memory, for offline development and tests.
#[derive(Parser, Debug)]
#[command(name = "oblien-emulator", version, about)]
struct Cli {
    /// Address both listeners bind to.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// API port (api.oblien.com); 0 picks a free port.
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Gateway port (workspace.oblien.com); 0 picks a free port.
    #[arg(long, default_value_t = 8788)]
    gateway_port: u16,
    /// Folder served on the API port for paths no endpoint answers (the demo page, the package).
    #[arg(long = "static", value_name = "DIR")]
    static_dir: Option<PathBuf>,
    /// Enables `POST /demo/session`, the demo page's "your backend" endpoint.
    #[arg(long)]
    demo: bool,
    /// Admin API key id (generated and printed when unset).
    #[arg(long, env = "OBLIEN_CLIENT_ID", hide_env_values = true)]
    client_id: Option<String>,
    /// Admin API key secret (generated and printed when unset).
    #[arg(long, env = "OBLIEN_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Simulated provisioning time (queued → running → ready), in milliseconds.
    #[arg(long, default_value_t = 1500)]
    provision_delay_ms: u64,
    /// Requests allowed per credential per window (off when unset); over it: 429 + Retry-After.
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// Rate-limit window, in seconds.
    #[arg(long, default_value_t = 60)]
    rate_limit_window: u32,
    /// Origin allowed by CORS (repeatable); any origin when unset.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// Secret that signs API tokens (random per start when unset).
    #[arg(long, env = "OBLIEN_EMULATOR_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Lifetime of the demo backend's tokens, in seconds.
    #[arg(long, default_value_t = 60)]
    demo_token_ttl: u64,
    /// Lifetime of gateway tokens, in seconds (Oblien: about an hour).
    #[arg(long, default_value_t = 3600)]
    gateway_token_ttl: u64,
    /// Only an admin API key may mint the 30-day workspace token (POST
    /// …/internal-api-access/workspace). By default scoped credentials of its namespace or
    /// workspace may, as the Scoped Tokens page's enforcement tables allow.
    #[arg(
        long,
        env = "OBLIEN_EMULATOR_STRICT_WORKSPACE_TOKENS",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    strict_workspace_tokens: bool,
    /// Writes `{api, gateway, clientId, clientSecret}` as JSON here once both listeners are up.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oblien-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    if let Some(dir) = &cli.static_dir {
        if !dir.is_dir() {
            eprintln!(
                "oblien-emulator: --static {} is not a directory",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
    }
    let config = Config {
        host: cli.host,
        api_port: cli.port,
        gateway_port: cli.gateway_port,
        static_dir: cli.static_dir,
        demo: cli.demo,
        admin_client_id: cli.client_id.unwrap_or_default(),
        admin_client_secret: cli.client_secret.unwrap_or_default(),
        provision_delay_ms: cli.provision_delay_ms,
        rate_limit: cli.rate_limit.map(|requests| RateLimit {
            requests: requests.max(1),
            window_seconds: cli.rate_limit_window.max(1),
        }),
        allowed_origins: (!cli.allowed_origins.is_empty()).then_some(cli.allowed_origins),
        jwt_secret: cli.jwt_secret,
        demo_token_ttl_secs: cli.demo_token_ttl,
        gateway_token_ttl_secs: cli.gateway_token_ttl,
        strict_workspace_tokens: cli.strict_workspace_tokens,
        ..Config::default()
    };
    let demo = config.demo;
    let emulator = match oblien_emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("oblien-emulator: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("oblien-emulator {}", env!("CARGO_PKG_VERSION"));
    println!("  API      {}", emulator.api_url());
    println!("  gateway  {}", emulator.gateway_url());
    println!("  admin    OBLIEN_CLIENT_ID={}", emulator.admin_client_id);
    if emulator.generated_credentials {
        println!(
            "           OBLIEN_CLIENT_SECRET={}  (generated: set both variables to fix them)",
            emulator.admin_client_secret
        );
    } else {
        println!("           OBLIEN_CLIENT_SECRET=(from the environment)");
    }
    if demo {
        println!(
            "  demo     {}/  (POST /demo/session mints tenant tokens)",
            emulator.api_url()
        );
    }
    if let Some(path) = &cli.ready_file {
        let ready = serde_json::json!({
            "api": emulator.api_url(),
            "gateway": emulator.gateway_url(),
            "clientId": emulator.admin_client_id,
            "clientSecret": emulator.admin_client_secret,
        });
        // Write then rename, so a watcher never reads half a file.
        let tmp = path.with_extension("tmp");
        if let Err(e) =
            std::fs::write(&tmp, ready.to_string()).and_then(|_| std::fs::rename(&tmp, path))
        {
            eprintln!(
                "oblien-emulator: cannot write --ready-file {}: {e}",
                path.display()
            );
            emulator.shutdown().await;
            return ExitCode::FAILURE;
        }
    }
    wait_for_signal().await;
    println!("oblien-emulator: shutting down");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
