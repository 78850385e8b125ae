//! `oblien-emulator`: a faithful local Oblien API (`api.oblien.com`) and workspace gateway
//! (`workspace.oblien.com`), in memory, for offline development and tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = oblien_emulator::start(oblien_emulator::Config::default()).await?;
//! println!("API at {}, gateway at {}", emulator.api_url(), emulator.gateway_url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
mod auth;
mod body;
pub mod config;
mod error;
pub mod faults;
mod gateway;
mod jwt;
mod live;
mod middleware;
mod ratelimit;
mod server;
mod shell;
mod state;
mod stream;
mod util;

pub use config::{Config, RateLimit};

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::Router;
use faults::{Faults, Listener};
use middleware::{cors, faults_and_limits, request_id, LayerContext};
use ratelimit::RateLimiter;
use state::{ApiKey, AppState, Keys, Scope, Shared, Store};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::services::ServeDir;

/// A running emulator. Dropping it does not stop it: call [`Running::shutdown`].
pub struct Running {
    pub api_addr: SocketAddr,
    pub gateway_addr: SocketAddr,
    pub admin_client_id: String,
    pub admin_client_secret: String,
    /// True when the admin credentials were generated (not given in the config).
    pub generated_credentials: bool,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    state: AppState,
}

impl Running {
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.gateway_addr)
    }

    /// Stops accepting, lets open requests finish (bounded), and returns.
    pub async fn shutdown(self) {
        self.state.api_up.store(false, Ordering::SeqCst);
        self.state.gateway_up.store(false, Ordering::SeqCst);
        // Sockets and terminals are not requests: end them (1001 `shutting_down`).
        let lives: Vec<_> = self
            .state
            .store()
            .workspaces
            .iter()
            .map(|w| w.live.clone())
            .collect();
        for live in lives {
            live.interrupt(live::Interrupt::Shutdown);
        }
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Binds both listeners and starts serving.
pub async fn start(mut config: Config) -> std::io::Result<Running> {
    let generated_credentials =
        config.admin_client_id.is_empty() || config.admin_client_secret.is_empty();
    if generated_credentials {
        config.admin_client_id = format!("cid_admin_{}", util::random_hex(6));
        config.admin_client_secret = format!("csk_{}", util::random_hex(24));
    }
    let api_key = match &config.jwt_secret {
        Some(secret) if !secret.is_empty() => secret.as_bytes().to_vec(),
        _ => util::random_hex(32).into_bytes(),
    };
    let store = Store {
        keys: vec![ApiKey {
            client_id: config.admin_client_id.clone(),
            client_secret: config.admin_client_secret.clone(),
            scope: Scope::Admin,
            name: Some("admin".to_string()),
            created_ms: util::now_millis(),
        }],
        ..Store::default()
    };
    let api_listener = TcpListener::bind((config.host, config.api_port)).await?;
    let gateway_listener = TcpListener::bind((config.host, config.gateway_port)).await?;
    let state: AppState = Arc::new(Shared {
        rate_limiter: RateLimiter::new(config.rate_limit),
        keys: Keys {
            api: api_key,
            gateway: util::random_hex(32).into_bytes(),
        },
        store: Mutex::new(store),
        faults: Faults::default(),
        allowed_origins: std::sync::RwLock::new(config.allowed_origins.clone()),
        gateway_token_ttl: std::sync::atomic::AtomicU64::new(config.gateway_token_ttl_secs),
        api_up: AtomicBool::new(false),
        gateway_up: AtomicBool::new(false),
        config,
    });
    let (shutdown, shutdown_rx) = watch::channel(false);
    let running = Running {
        api_addr: api_listener.local_addr()?,
        gateway_addr: gateway_listener.local_addr()?,
        admin_client_id: state.config.admin_client_id.clone(),
        admin_client_secret: state.config.admin_client_secret.clone(),
        generated_credentials,
        tasks: vec![
            tokio::spawn(server::serve(
                api_listener,
                api_router(&state),
                shutdown_rx.clone(),
            )),
            tokio::spawn(server::serve(
                gateway_listener,
                gateway_router(&state),
                shutdown_rx,
            )),
        ],
        shutdown,
        state: state.clone(),
    };
    state.api_up.store(true, Ordering::SeqCst);
    state.gateway_up.store(true, Ordering::SeqCst);
    Ok(running)
}

fn api_router(state: &AppState) -> Router {
    let context = LayerContext {
        state: state.clone(),
        listener: Listener::Api,
    };
    // The fallback goes in before the fault/rate-limit layer so unknown paths get faults too;
    // the control routes are merged after it, exempt.
    let router = api::routes(state).method_not_allowed_fallback(api::method_not_allowed);
    let router = match &state.config.static_dir {
        Some(dir) => router
            .fallback_service(ServeDir::new(dir).fallback(api::fallback.with_state(state.clone()))),
        None => router.fallback(api::fallback),
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            context,
            faults_and_limits,
        ))
        .merge(api::control_routes())
        .layer(DefaultBodyLimit::max(state.config.api_body_limit))
        .layer(cors(state))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state.clone())
}

fn gateway_router(state: &AppState) -> Router {
    let context = LayerContext {
        state: state.clone(),
        listener: Listener::Gateway,
    };
    gateway::routes()
        .fallback(gateway::fallback)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            context,
            faults_and_limits,
        ))
        .layer(DefaultBodyLimit::max(state.config.gateway_body_limit))
        .layer(cors(state))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state.clone())
}
