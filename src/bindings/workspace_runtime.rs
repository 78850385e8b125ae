//! `WorkspaceRuntime`: a workspace's gateway (files, exec, raw fetch) with gateway tokens the
//! client mints, caches and renews itself. The gateway token only ever travels as
//! `Authorization: Bearer`.

use super::client::ClientInner;
use super::error::to_js;
use super::options::{get, signal_of};
use super::token::token_info;
use crate::core::api;
use crate::core::error::{codes, ClientError};
use crate::core::request::{execute, transport_error};
use crate::core::runtime::{HttpRequest, TransportError};
use js_sys::{Array, Object, Promise, Reflect, JSON};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{AbortSignal, Request, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_request(input: &Request) -> Promise;
}

fn invalid(message: &str) -> ClientError {
    ClientError::new(codes::INVALID_OPTIONS, message)
}

/// Shared by the runtime and its `files` / `exec` views.
#[derive(Clone)]
struct Target {
    inner: Rc<ClientInner>,
    workspace_id: String,
}

impl Target {
    /// A gateway call with this workspace's gateway token (re-minted once on a 401).
    async fn call(
        &self,
        request: HttpRequest,
        signal: Option<AbortSignal>,
    ) -> Result<JsValue, ClientError> {
        if self.inner.is_disposed() {
            return Err(ClientError::disposed());
        }
        let entry = self.inner.gateways.entry(&self.inner, &self.workspace_id);
        let transport = self.inner.transport(signal.clone());
        self.inner
            .guarded(
                signal,
                execute(&entry.cell, &*self.inner.runtime, &transport, &request),
            )
            .await
    }

    fn url(&self, path: &str, query: &[(&str, Option<String>)]) -> String {
        api::url(&self.inner.gateway_url, path, query)
    }

    fn promise(&self, op: impl FnOnce(Target) -> LocalOp) -> Promise {
        let fut = op(self.clone());
        future_to_promise(async move { fut.await.map_err(to_js) })
    }
}

type LocalOp = std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, ClientError>>>>;

/// `{ path, …, signal? }` → (path, signal).
fn path_options(options: &JsValue) -> Result<(String, Option<AbortSignal>), ClientError> {
    if !options.is_object() {
        return Err(invalid("options must be an object with a `path`"));
    }
    let path = get(options, "path")
        .as_string()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid("path must be a non-empty string"))?;
    let signal =
        signal_of(options).map_err(|_| invalid("options.signal must be an AbortSignal"))?;
    Ok((path, signal))
}

fn flag(options: &JsValue, key: &str) -> Result<bool, ClientError> {
    let value = get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(false);
    }
    value
        .as_bool()
        .ok_or_else(|| invalid(&format!("{key} must be a boolean")))
}

fn json_body(pairs: &[(&str, JsValue)]) -> Result<String, ClientError> {
    let body = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&body, &JsValue::from_str(key), value);
    }
    JSON::stringify(&body)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| invalid("the request body is not serialisable"))
}

/// A workspace's runtime, from `client.workspaces.runtime(id)`.
#[wasm_bindgen]
pub struct WorkspaceRuntime {
    target: Target,
}

impl WorkspaceRuntime {
    pub fn new(inner: Rc<ClientInner>, workspace_id: String) -> Self {
        WorkspaceRuntime {
            target: Target {
                inner,
                workspace_id,
            },
        }
    }
}

#[wasm_bindgen]
impl WorkspaceRuntime {
    #[wasm_bindgen(getter = workspaceId)]
    pub fn workspace_id(&self) -> String {
        self.target.workspace_id.clone()
    }

    /// The gateway token's info (never the token), or `null` before one is minted.
    #[wasm_bindgen(getter = tokenInfo, unchecked_return_type = "TokenInfo | null")]
    pub fn token_info(&self) -> JsValue {
        self.target
            .inner
            .gateways
            .held(&self.target.workspace_id)
            .map_or(JsValue::NULL, |held| {
                token_info(&held, js_sys::Date::now(), None)
            })
    }

    /// File operations on the workspace.
    #[wasm_bindgen(getter)]
    pub fn files(&self) -> RuntimeFiles {
        RuntimeFiles {
            target: self.target.clone(),
        }
    }

    /// Commands in the workspace.
    #[wasm_bindgen(getter)]
    pub fn exec(&self) -> RuntimeExec {
        RuntimeExec {
            target: self.target.clone(),
        }
    }

    /// `GET /health` of the workspace's internal server.
    #[wasm_bindgen(unchecked_return_type = "Promise<HealthResult>")]
    pub fn health(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.target.promise(move |t| {
            Box::pin(async move {
                let signal = signal_of(&options)
                    .map_err(|_| invalid("options.signal must be an AbortSignal"))?;
                t.call(api::get(t.url("/health", &[])), signal).await
            })
        })
    }

    /// A raw, authorised `fetch` to the gateway (`path` starts with `/`). Resolves with the
    /// `Response` whatever its status; a 401 re-mints the gateway token and replays once.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        path: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<JsValue>,
    ) -> Promise {
        let path = path.to_string();
        let init = init.unwrap_or(JsValue::UNDEFINED);
        self.target
            .promise(move |t| Box::pin(async move { raw_fetch(t, path, init).await }))
    }
}

async fn raw_fetch(t: Target, path: String, init: JsValue) -> Result<JsValue, ClientError> {
    if !path.starts_with('/') {
        return Err(invalid("fetch(path): path must start with '/'"));
    }
    if !(init.is_undefined() || init.is_null() || init.is_object()) {
        return Err(invalid(
            "fetch(path, init): init must be a RequestInit object",
        ));
    }
    let signal = if init.is_object() {
        signal_of(&init).map_err(|_| invalid("init.signal must be an AbortSignal"))?
    } else {
        None
    };
    let url = format!("{}{}", t.inner.gateway_url, path);
    let request = if init.is_object() {
        Request::new_with_str_and_init(&url, init.unchecked_ref())
    } else {
        Request::new_with_str(&url)
    }
    .map_err(|_| invalid("fetch(path, init): the request could not be built"))?;
    let entry = t.inner.gateways.entry(&t.inner, &t.workspace_id);
    let inner = t.inner.clone();
    let op = async move {
        // Keep a copy for the single replay (fails for an already-used stream body: no replay then).
        let spare = request.clone().ok();
        let lease = entry.cell.acquire().await?;
        let response = send_raw(&request, &lease.secret).await?;
        if response.status() == 401 {
            if let Some(spare) = spare {
                if entry.cell.recover_unauthorized(lease.generation).await? {
                    let lease = entry.cell.acquire().await?;
                    return send_raw(&spare, &lease.secret).await.map(JsValue::from);
                }
            }
        }
        Ok(response.into())
    };
    inner.guarded(signal, op).await
}

async fn send_raw(request: &Request, bearer: &str) -> Result<Response, ClientError> {
    request
        .headers()
        .set("Authorization", &format!("Bearer {bearer}"))
        .map_err(|_| invalid("fetch: the Authorization header could not be set"))?;
    let response = JsFuture::from(fetch_request(request)).await.map_err(|e| {
        let aborted = e
            .dyn_ref::<js_sys::Error>()
            .is_some_and(|e| e.name() == "AbortError");
        transport_error(if aborted {
            TransportError::Aborted
        } else {
            TransportError::Network
        })
    })?;
    Ok(response.unchecked_into())
}

/// `runtime.files`.
#[wasm_bindgen]
pub struct RuntimeFiles {
    target: Target,
}

#[wasm_bindgen]
impl RuntimeFiles {
    /// Lists a directory (`nested: true` for every descendant).
    #[wasm_bindgen(unchecked_return_type = "Promise<FileList>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListFilesOptions")] options: JsValue,
    ) -> Promise {
        self.target.promise(move |t| {
            Box::pin(async move {
                let (path, signal) = path_options(&options)?;
                let nested = flag(&options, "nested")?.then(|| String::from("true"));
                t.call(
                    api::get(t.url("/files", &[("path", Some(path)), ("nested", nested)])),
                    signal,
                )
                .await
            })
        })
    }

    /// Reads a text file.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileContent>")]
    pub fn read(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.get_path("/files/read", options)
    }

    /// A file's or directory's metadata.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileEntry>")]
    pub fn stat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.get_path("/files/stat", options)
    }

    /// Writes (or appends to) a text file; `createDirs` creates missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileWriteResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WriteFileOptions")] options: JsValue,
    ) -> Promise {
        self.target.promise(move |t| {
            Box::pin(async move {
                let (path, signal) = path_options(&options)?;
                let content = get(&options, "content");
                if content.as_string().is_none() {
                    return Err(invalid("content must be a string"));
                }
                let body = json_body(&[
                    ("path", JsValue::from_str(&path)),
                    ("content", content),
                    (
                        "create_dirs",
                        JsValue::from_bool(flag(&options, "createDirs")?),
                    ),
                    ("append", JsValue::from_bool(flag(&options, "append")?)),
                ])?;
                t.call(api::post(t.url("/files/write", &[]), body), signal)
                    .await
            })
        })
    }

    /// Creates a directory and its missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn mkdir(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.post_path("/files/mkdir", options)
    }

    /// Deletes a file or a directory tree.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.post_path("/files/delete", options)
    }
}

impl RuntimeFiles {
    fn get_path(&self, endpoint: &'static str, options: JsValue) -> Promise {
        self.target.promise(move |t| {
            Box::pin(async move {
                let (path, signal) = path_options(&options)?;
                t.call(api::get(t.url(endpoint, &[("path", Some(path))])), signal)
                    .await
            })
        })
    }

    fn post_path(&self, endpoint: &'static str, options: JsValue) -> Promise {
        self.target.promise(move |t| {
            Box::pin(async move {
                let (path, signal) = path_options(&options)?;
                let body = json_body(&[("path", JsValue::from_str(&path))])?;
                t.call(api::post(t.url(endpoint, &[]), body), signal).await
            })
        })
    }
}

/// `runtime.exec`.
#[wasm_bindgen]
pub struct RuntimeExec {
    target: Target,
}

#[wasm_bindgen]
impl RuntimeExec {
    /// Runs a command (argv form) and resolves with its exit code and output.
    #[wasm_bindgen(unchecked_return_type = "Promise<ExecResult>")]
    pub fn run(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] cmd: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ExecOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        self.target.promise(move |t| {
            Box::pin(async move {
                let argv = cmd
                    .dyn_into::<Array>()
                    .map_err(|_| invalid("exec.run(cmd): cmd must be an array of strings"))?;
                if argv.length() == 0 || argv.iter().any(|a| a.as_string().is_none()) {
                    return Err(invalid(
                        "exec.run(cmd): cmd must be a non-empty array of strings",
                    ));
                }
                let signal = signal_of(&options)
                    .map_err(|_| invalid("options.signal must be an AbortSignal"))?;
                let mut pairs = vec![("cmd", JsValue::from(argv))];
                if options.is_object() {
                    let timeout = get(&options, "timeoutSeconds");
                    if !timeout.is_undefined() && !timeout.is_null() {
                        match timeout.as_f64() {
                            Some(s) if s.is_finite() && s > 0.0 => {
                                pairs.push(("timeout_seconds", JsValue::from_f64(s.ceil())))
                            }
                            _ => return Err(invalid("timeoutSeconds must be a positive number")),
                        }
                    }
                }
                let body = json_body(&pairs)?;
                t.call(api::post(t.url("/exec", &[]), body), signal).await
            })
        })
    }
}
