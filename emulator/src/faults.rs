//! Fault injection for reliability tests: added latency, a forced status and body, a dropped
//! connection, a non-JSON body, each for the next N requests matching a path.

use crate::util::random_hex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Wait `latency_ms`, then answer normally.
    Latency,
    /// Answer `status` (default 500) with `body` instead of the real handler.
    Status,
    /// Close the connection without any response; with `after_bytes`, let the response start
    /// and close the connection after that many bytes of its body. On the gateway's `/ws`
    /// (without `after_bytes`), it also ends the sockets open at that moment, without a close
    /// frame (a network loss).
    Drop,
    /// Answer `status` (default 200) with an HTML page instead of JSON.
    NonJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Listener {
    #[default]
    Api,
    Gateway,
    Any,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// Exact request path, or a prefix when it ends with `*`.
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub listener: Listener,
    /// How many matching requests it affects (default 1).
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
    /// A JSON value sent as JSON, or a string sent as it is.
    #[serde(default)]
    pub body: Option<Value>,
    /// Pads the body to this many bytes (huge-body tests).
    #[serde(default)]
    pub body_bytes: Option<usize>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// `drop` only: answer normally, then cut the connection after this many body bytes
    /// (streams included; a chunked body is left unterminated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_bytes: Option<usize>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize)]
pub struct ActiveFault {
    pub id: String,
    pub remaining: u32,
    #[serde(flatten)]
    pub spec: FaultSpec,
}

#[derive(Default)]
pub struct Faults {
    active: Mutex<Vec<ActiveFault>>,
}

impl Faults {
    pub fn add(&self, spec: FaultSpec) -> ActiveFault {
        let fault = ActiveFault {
            id: format!("flt_{}", random_hex(6)),
            remaining: spec.times,
            spec,
        };
        self.lock().push(fault.clone());
        fault
    }

    pub fn list(&self) -> Vec<ActiveFault> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Consumes one use of the first fault matching this request, if any.
    pub fn take(&self, listener: Listener, method: &str, path: &str) -> Option<FaultSpec> {
        let mut active = self.lock();
        let index = active
            .iter()
            .position(|f| matches(&f.spec, listener, method, path))?;
        let fault = &mut active[index];
        fault.remaining = fault.remaining.saturating_sub(1);
        let spec = fault.spec.clone();
        if fault.remaining == 0 {
            active.remove(index);
        }
        Some(spec)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ActiveFault>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FaultSpec {
    /// Whether this fault applies to a request on `listener` with `method` and `path`.
    pub fn matches(&self, listener: Listener, method: &str, path: &str) -> bool {
        matches(self, listener, method, path)
    }
}

fn matches(spec: &FaultSpec, listener: Listener, method: &str, path: &str) -> bool {
    let listener_ok = spec.listener == Listener::Any || spec.listener == listener;
    let method_ok = spec
        .method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case(method));
    let path_ok = match spec.path.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == spec.path,
    };
    listener_ok && method_ok && path_ok
}
