//! Emulator settings (the CLI maps its flags onto this; tests build it directly).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// Fixed-window rate limit per credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateLimit {
    pub requests: u32,
    pub window_seconds: u32,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    /// API port; 0 picks a free one.
    pub api_port: u16,
    /// Gateway port; 0 picks a free one.
    pub gateway_port: u16,
    /// Served on the API port for paths no endpoint answers (the demo page, the built package).
    pub static_dir: Option<PathBuf>,
    /// Enables `POST /demo/session`, the "your backend" endpoint of the demo page.
    pub demo: bool,
    pub admin_client_id: String,
    pub admin_client_secret: String,
    /// How long simulated provisioning takes (queued → running → ready).
    pub provision_delay_ms: u64,
    pub rate_limit: Option<RateLimit>,
    /// Origins allowed by CORS; `None` allows any.
    pub allowed_origins: Option<Vec<String>>,
    /// Secret that signs API tokens; random when unset (tokens then die with the process).
    pub jwt_secret: Option<String>,
    pub gateway_token_ttl_secs: u64,
    pub demo_token_ttl_secs: u64,
    pub api_body_limit: usize,
    pub gateway_body_limit: usize,
    /// Refuse `POST …/internal-api-access/workspace` (the 30-day workspace token) to everything but
    /// an admin key. Off by default: the Scoped Tokens page lets a namespace credential reach "a
    /// workspace in own namespace" and a workspace credential "all sub-resources" of its workspace,
    /// this endpoint included.
    pub strict_workspace_tokens: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            api_port: 0,
            gateway_port: 0,
            static_dir: None,
            demo: false,
            admin_client_id: String::new(),
            admin_client_secret: String::new(),
            provision_delay_ms: 1500,
            rate_limit: None,
            allowed_origins: None,
            jwt_secret: None,
            gateway_token_ttl_secs: 3600,
            demo_token_ttl_secs: 60,
            api_body_limit: 1024 * 1024,
            gateway_body_limit: 8 * 1024 * 1024,
            strict_workspace_tokens: false,
        }
    }
}
