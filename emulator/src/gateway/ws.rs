//! `GET /ws?token=<gateway token>`: the workspace's one WebSocket (wire §5). Terminal bytes travel
//! as binary frames `[terminal id][bytes]` both ways; text frames are JSON with a `channel`:
//! `terminal` (C→S `resize`; S→C `exit`) and `watcher` (S→C `ready`, `change`, `overflow`).
//!
//! The token is checked exactly as a bearer on any gateway call, before the upgrade, so a refusal
//! is a plain HTTP answer (401 / 403 / 503 JSON). A newer socket replaces an older one (closed
//! with 4000 `replaced`); rotation, reconnect, disable, stop and delete close it (`crate::live`).

use super::resolve_token;
use crate::auth::{bearer_token, header_str};
use crate::body::query_map;
use crate::error::ApiError;
use crate::live::{Attachment, Live, Outbound, SocketControl};
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How long a closing socket waits for the client's close frame before dropping the connection.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

pub async fn upgrade(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // `?token=` (what browsers and the SDK send); an `Authorization: Bearer` header also works.
    let query = query_map(raw.as_deref());
    let token = match query.get("token").filter(|t| !t.is_empty()) {
        Some(token) => token.clone(),
        None => match header_str(&headers, header::AUTHORIZATION.as_str()).and_then(bearer_token) {
            Some(token) => token.to_string(),
            None => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing_credentials",
                    "No token: connect to /ws?token=<gateway token>",
                )
                .into_response()
            }
        },
    };
    let reach = match resolve_token(&state, &token) {
        Ok(reach) => reach,
        Err(e) => return e.into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "upgrade_required",
                format!("/ws is a WebSocket endpoint: {rejection}"),
            )
            .into_response()
        }
    };
    let live = reach.live;
    let epoch = reach.epoch;
    upgrade
        .max_message_size(16 * 1024 * 1024)
        .on_upgrade(move |socket| run(socket, live, epoch))
}

/// What to do after a step of the socket loop.
enum Flow {
    Continue,
    /// Send this close frame, wait briefly for the client's, then end.
    Close(u16, &'static str),
    /// End at once: no close frame, the connection just ends.
    Drop,
}

async fn run(mut socket: WebSocket, live: Arc<Live>, epoch: u64) {
    let Some(Attachment {
        socket_id,
        wake,
        mut control,
    }) = live.attach(epoch)
    else {
        // Rotated, stopped or deleted during the handshake: the token is no longer good.
        let (code, reason) = live
            .subscribe()
            .borrow()
            .cause
            .map(|c| c.close())
            .unwrap_or((4001, "token_rotated"));
        close(&mut socket, code, reason).await;
        return;
    };
    let flow = loop {
        let step = tokio::select! {
            biased;
            ctl = control.recv() => match ctl {
                Some(SocketControl::Kill) => Flow::Drop,
                Some(SocketControl::Close(code, reason)) => Flow::Close(code, reason),
                None => Flow::Close(1001, "going_away"),
            },
            _ = wake.notified() => match live.drain(socket_id) {
                // No longer the workspace's socket: its close message is on the way.
                None => Flow::Continue,
                Some(frames) => send_all(&mut socket, &mut control, frames).await,
            },
            message = socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break Flow::Drop,
                Some(Ok(Message::Binary(bytes))) => {
                    // `[terminal id][bytes…]`; shorter frames and unknown ids are ignored.
                    if let Some((&id, data)) = bytes.split_first() {
                        if !data.is_empty() {
                            live.terminal_input(u32::from(id), data.to_vec());
                        }
                    }
                    Flow::Continue
                }
                Some(Ok(Message::Text(text))) => {
                    handle_text(&live, text.as_str());
                    Flow::Continue
                }
                // Pings are answered by the protocol layer.
                Some(Ok(_)) => Flow::Continue,
            },
        };
        match step {
            Flow::Continue => continue,
            other => break other,
        }
    };
    live.detach(socket_id);
    match flow {
        Flow::Close(code, reason) => close(&mut socket, code, reason).await,
        // Dropping the socket closes the TCP connection without a close frame.
        Flow::Drop | Flow::Continue => drop(socket),
    }
}

/// Sends frames in order; a `Kill` or `Close` for this socket wins over a send that is stuck
/// behind a slow client.
async fn send_all(
    socket: &mut WebSocket,
    control: &mut tokio::sync::mpsc::UnboundedReceiver<SocketControl>,
    frames: Vec<Outbound>,
) -> Flow {
    for frame in frames {
        let message = match frame {
            Outbound::Binary(bytes) => Message::Binary(bytes.into()),
            Outbound::Text(text) => Message::Text(text.into()),
        };
        tokio::select! {
            biased;
            ctl = control.recv() => return match ctl {
                Some(SocketControl::Kill) => Flow::Drop,
                Some(SocketControl::Close(code, reason)) => Flow::Close(code, reason),
                None => Flow::Close(1001, "going_away"),
            },
            sent = socket.send(message) => {
                if sent.is_err() {
                    return Flow::Drop;
                }
            }
        }
    }
    Flow::Continue
}

/// A close frame, then up to [`CLOSE_GRACE`] for the client's own close frame.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// C→S JSON: `{channel:"terminal", type:"resize", id, cols, rows}` (`channel` defaults to
/// `terminal`; `id` a string or a number). Anything else is ignored, as unknown messages are.
fn handle_text(live: &Live, text: &str) {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let channel = message
        .get("channel")
        .and_then(Value::as_str)
        .unwrap_or("terminal");
    if channel != "terminal" || message.get("type").and_then(Value::as_str) != Some("resize") {
        return;
    }
    let id = match message.get("id") {
        Some(Value::String(s)) => s.trim().parse::<u32>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    let dimension = |key: &str| {
        message
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|v| u16::try_from(v).ok())
            .filter(|v| *v > 0)
    };
    if let (Some(id), Some(cols), Some(rows)) = (id, dimension("cols"), dimension("rows")) {
        live.resize_terminal(id, cols, rows);
    }
}
