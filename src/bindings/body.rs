//! The handshake of a request whose body is read as it comes (a stream, a download) or sent
//! whole (an upload): authorised with the workspace's gateway token (a refused token re-minted
//! and the request replayed, as `retries` allow), `timeoutMs` running until the headers are in,
//! and a refusal read whole and mapped to an `OblienError`.

use super::fetch::{self, Outgoing, RawResponse, Reply};
use super::runtime::target::Target;
use crate::core::error::ClientError;
use crate::core::request::{into_result, send_authorised, Retries};
use web_sys::AbortSignal;

/// Sends `outgoing` with the workspace's gateway token: a success's answer (its body unread,
/// tied to `signal`, the client's dispose and the answer's own `abort`), or the gateway's
/// refusal as an error. `handshake_ms` bounds the wait for the headers only.
pub async fn open(
    target: &Target,
    outgoing: Outgoing,
    retries: Retries,
    signal: Option<AbortSignal>,
    handshake_ms: f64,
) -> Result<Reply, ClientError> {
    let session = target.session();
    let mut signals = session.signals(signal);
    signals.timeout_ms = handshake_ms;
    let cell = target.cell();
    let send = move |bearer: &str| fetch::send_raw(&outgoing, bearer, &signals, false);
    let RawResponse(reply, _) = send_authorised(&cell, &*session.platform, retries, &send).await?;
    let response = reply.response();
    if response.ok() {
        return Ok(reply);
    }
    // A non-2xx answer read whole: the gateway's code and message.
    let answer = fetch::read_whole(&response).await.map(Reply::into_response);
    Err(
        match answer.map(|answer| into_result(answer, session.now_ms())) {
            Some(Err(error)) => error,
            _ => ClientError::new("server_error", "The gateway refused the stream"),
        },
    )
}
