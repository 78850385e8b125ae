//! Raw requests: one authorised attempt path for every answer whose body is not JSON read whole
//! (`rt.fetch`, `proxy(port).fetch`, streams, downloads, uploads): the workspace's gateway token,
//! a refused token re-minted and the request replayed as `retries` allow. Streams and transfers
//! open with a handshake (`timeoutMs` runs until the headers are in) whose refusal is read whole
//! and mapped to an `OblienError`.

use super::call;
use super::fetch::{self, Outgoing, Reply};
use super::session::Session;
use crate::core::cell::TokenCell;
use crate::core::error::ClientError;
use crate::core::request::{into_result, Retries};
use std::rc::Rc;
use web_sys::AbortSignal;

/// [`call::raw`] of a stream or a transfer: a success's answer (its body unread, tied to `signal`,
/// the client's dispose and the answer's own `abort`), or the gateway's refusal as an error.
/// `handshake_ms` bounds the wait for the headers only.
pub async fn open(
    session: &Rc<Session>,
    cell: &Rc<TokenCell>,
    outgoing: Outgoing,
    retries: Retries,
    signal: Option<AbortSignal>,
    handshake_ms: f64,
) -> Result<Reply, ClientError> {
    let mut signals = session.signals(signal);
    signals.timeout_ms = handshake_ms;
    let reply = call::raw(session, cell.clone(), &outgoing, retries, signals).await?;
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
