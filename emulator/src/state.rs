//! The emulator's in-memory world: API keys, namespaces, workspaces and their runtimes.
//! One `Mutex<Store>`; handlers lock it briefly and never across an `.await`.

use crate::config::Config;
use crate::faults::Faults;
use crate::gateway::files::FileTree;
use crate::gateway::tasks::Tasks;
use crate::live::{Live, Signal};
use crate::ratelimit::RateLimiter;
use crate::util::{iso8601, now_millis, random_hex};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a credential may reach (the Authentication page's key-scope table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Admin,
    Namespace(String),
    Workspace(String),
    Billing,
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Namespace(_) => "namespace",
            Scope::Workspace(_) => "workspace",
            Scope::Billing => "billing",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub client_id: String,
    pub client_secret: String,
    pub scope: Scope,
    pub name: Option<String>,
    pub created_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResourceLimits {
    pub max_workspaces: Option<u32>,
    pub max_vcpus: Option<u32>,
    pub max_ram_mb: Option<u32>,
    pub max_disk_gb: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Namespace {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub kind: String,
    pub resource_limits: ResourceLimits,
    pub created_ms: u64,
    pub updated_ms: u64,
}

impl Namespace {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "status": "active",
            "type": self.kind,
            "resource_limits": self.resource_limits,
            "created_at": iso8601(self.created_ms),
            "updated_at": iso8601(self.updated_ms),
        })
    }
}

/// Where a workspace is in its life. Provisioning is simulated: the phase is derived from the
/// creation time and the configured delay, so no background task is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Booting since `phase_started_ms`; ready once the provisioning delay has passed.
    Provisioning,
    Stopped,
}

/// The workspace's internal API server and its connection token.
#[derive(Debug, Clone)]
pub struct RuntimeAccess {
    pub enabled: bool,
    /// The raw hex connection token; gateway JWTs are bound to it through `generation`.
    pub connection_token: String,
    pub generation: u64,
    pub private_ip: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Resources {
    pub cpus: f64,
    pub memory_mb: u64,
    pub disk_size_mb: u64,
}

#[derive(Debug)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub image: String,
    pub namespace: Option<String>,
    pub mode: String,
    pub resources: Resources,
    pub ingress_ports: Vec<u16>,
    pub lifecycle: Lifecycle,
    /// When the current provisioning (or start) began.
    pub phase_started_ms: u64,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub idempotency_key: Option<String>,
    pub access: RuntimeAccess,
    pub files: FileTree,
    /// Socket, terminals, watchers and the interrupt signal (`crate::live`).
    pub live: Arc<Live>,
    /// Exec tasks; dropping them (workspace deleted) kills the running ones.
    pub exec: Tasks,
}

impl Workspace {
    /// `(status, ready, provisioning.state)` at `now`.
    pub fn phase(&self, now: u64, delay_ms: u64) -> (&'static str, bool, &'static str) {
        match self.lifecycle {
            Lifecycle::Stopped => ("stopped", false, "ready"),
            Lifecycle::Provisioning => {
                let elapsed = now.saturating_sub(self.phase_started_ms);
                if elapsed >= delay_ms {
                    ("running", true, "ready")
                } else if elapsed >= delay_ms / 2 {
                    ("creating", false, "running")
                } else {
                    ("creating", false, "queued")
                }
            }
        }
    }

    pub fn is_ready(&self, now: u64, delay_ms: u64) -> bool {
        self.phase(now, delay_ms).1
    }

    pub fn to_json(&self, now: u64, delay_ms: u64) -> Value {
        let (status, ready, state) = self.phase(now, delay_ms);
        let (phase, message) = match state {
            "queued" => ("queued", "Waiting for a host"),
            "running" => ("booting", "Booting the VM"),
            _ => ("done", "Workspace is ready"),
        };
        json!({
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "status": status,
            "ready": ready,
            "image": self.image,
            "namespace": self.namespace,
            "mode": self.mode,
            "provisioning": { "state": state, "phase": phase, "message": message, "error": null },
            "resources": self.resources,
            "ingress_ports": self.ingress_ports,
            "created_at": iso8601(self.created_ms),
            "updated_at": iso8601(self.updated_ms),
        })
    }

    /// Issues a new connection token: every earlier gateway token of this workspace stops working.
    pub fn rotate_connection_token(&mut self) {
        self.access.connection_token = random_hex(32);
        self.access.generation += 1;
        self.updated_ms = now_millis();
    }
}

#[derive(Default)]
pub struct Store {
    pub keys: Vec<ApiKey>,
    pub namespaces: Vec<Namespace>,
    /// In creation order.
    pub workspaces: Vec<Workspace>,
    pub next_ip: u32,
}

impl Store {
    pub fn key(&self, client_id: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|k| k.client_id == client_id)
    }

    /// By slug or id.
    pub fn namespace(&self, id_or_slug: &str) -> Option<&Namespace> {
        self.namespaces
            .iter()
            .find(|n| n.slug == id_or_slug || n.id == id_or_slug)
    }

    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    pub fn workspace_mut(&mut self, id: &str) -> Option<&mut Workspace> {
        self.workspaces.iter_mut().find(|w| w.id == id)
    }

    pub fn count_in_namespace(&self, slug: &str) -> usize {
        self.workspaces
            .iter()
            .filter(|w| w.namespace.as_deref() == Some(slug))
            .count()
    }

    /// A fresh private address for a workspace VM, `10.40.x.y`.
    pub fn allocate_ip(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        format!("10.40.{}.{}", (n / 250) % 250, n % 250 + 2)
    }
}

/// Signing keys: one for API tokens, one for gateway tokens, so neither passes for the other.
pub struct Keys {
    pub api: Vec<u8>,
    pub gateway: Vec<u8>,
}

pub struct Shared {
    pub config: Config,
    pub keys: Keys,
    pub store: Mutex<Store>,
    pub faults: Faults,
    pub rate_limiter: RateLimiter,
    /// CORS allow-list (`None` = any origin); starts from the config, changed by the control API.
    pub allowed_origins: std::sync::RwLock<Option<Vec<String>>>,
    pub api_up: AtomicBool,
    pub gateway_up: AtomicBool,
    /// Lifetime of minted gateway tokens; starts from the config, changed by the control API.
    pub gateway_token_ttl: std::sync::atomic::AtomicU64,
}

pub type AppState = Arc<Shared>;

impl Shared {
    /// Locks the store. A poisoned lock (a panicked handler) is recovered: the data is plain.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn provision_delay_ms(&self) -> u64 {
        self.config.provision_delay_ms
    }

    pub fn gateway_token_ttl_secs(&self) -> u64 {
        self.gateway_token_ttl
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The interrupt signal of workspace `id` (stopped, rotated, disabled, deleted, shutdown):
    /// long-lived gateway streams end when it changes. See `crate::live`.
    #[allow(dead_code)] // for the exec streams
    pub fn workspace_signal(&self, id: &str) -> Option<tokio::sync::watch::Receiver<Signal>> {
        self.store().workspace(id).map(|w| w.live.subscribe())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::faults::Faults;
    use crate::gateway::files::FileTree;

    /// A store with one ready workspace, for unit tests of the shell and the exec tasks.
    pub fn state_with_workspace() -> (AppState, String) {
        let id = format!("ws_{}", random_hex(4));
        let now = now_millis();
        let workspace = Workspace {
            id: id.clone(),
            name: "test".into(),
            slug: "test".into(),
            image: "node-20".into(),
            namespace: None,
            mode: "permanent".into(),
            resources: Resources {
                cpus: 2.0,
                memory_mb: 1024,
                disk_size_mb: 1024,
            },
            ingress_ports: Vec::new(),
            lifecycle: Lifecycle::Provisioning,
            phase_started_ms: 0,
            created_ms: now,
            updated_ms: now,
            idempotency_key: None,
            access: RuntimeAccess {
                enabled: true,
                connection_token: random_hex(32),
                generation: 0,
                private_ip: "10.40.0.2".into(),
            },
            files: FileTree::seeded(),
            live: Live::new(),
            exec: Tasks::default(),
        };
        let state = Arc::new(Shared {
            config: Config::default(),
            keys: Keys {
                api: b"k".to_vec(),
                gateway: b"g".to_vec(),
            },
            store: Mutex::new(Store {
                workspaces: vec![workspace],
                ..Store::default()
            }),
            faults: Faults::default(),
            rate_limiter: RateLimiter::new(None),
            allowed_origins: std::sync::RwLock::new(None),
            api_up: AtomicBool::new(true),
            gateway_up: AtomicBool::new(true),
            gateway_token_ttl: std::sync::atomic::AtomicU64::new(3600),
        });
        (state, id)
    }
}
