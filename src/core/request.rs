//! Sending one authorised request: token check first, then the 401 / 429 / 5xx rules, then
//! mapping the answer to a body or a `ClientError`.

use super::cell::TokenCell;
use super::error::{code_for_status, codes, ClientError};
use super::policy;
use super::retry_after;
use super::runtime::{HttpRequest, HttpResponse, Runtime, Transport, TransportError};
use std::rc::Rc;

/// Sends `request` with the cell's token until it succeeds or a rule says stop:
/// - 401: refresh once and replay once, only if the token changed;
/// - 429: GETs wait `Retry-After` (≤ 60 s) up to 3 times, else `rate_limited`;
/// - network errors and 502/503/504: GETs retry twice with back-off.
pub async fn execute<B>(
    cell: &Rc<TokenCell>,
    runtime: &dyn Runtime,
    transport: &dyn Transport<B>,
    request: &HttpRequest,
) -> Result<B, ClientError> {
    let idempotent = request.is_idempotent();
    let (mut replayed, mut rate_retries, mut transient_retries) = (false, 0, 0);
    loop {
        let lease = cell.acquire().await?;
        let sent = transport.send(request, &lease.secret).await;
        if cell.is_disposed() {
            return Err(ClientError::disposed());
        }
        let response = match sent {
            Ok(response) => response,
            Err(TransportError::Network)
                if idempotent && transient_retries < policy::MAX_TRANSIENT_RETRIES =>
            {
                transient_retries += 1;
                runtime
                    .sleep(policy::retry_delay_ms(transient_retries, runtime.random()))
                    .await;
                continue;
            }
            Err(error) => return Err(transport_error(error)),
        };
        match response.status {
            401 if !replayed => {
                replayed = true;
                if cell.recover_unauthorized(lease.generation).await? {
                    continue;
                }
            }
            429 => {
                let wait = response
                    .retry_after
                    .as_deref()
                    .and_then(|v| retry_after::parse(v, runtime.now_ms()));
                if idempotent
                    && rate_retries < policy::MAX_RATE_LIMIT_RETRIES
                    && wait.unwrap_or(1) <= policy::MAX_RETRY_AFTER_SECS
                {
                    rate_retries += 1;
                    runtime.sleep(f64::from(wait.unwrap_or(1)) * 1000.0).await;
                    continue;
                }
            }
            502..=504 if idempotent && transient_retries < policy::MAX_TRANSIENT_RETRIES => {
                transient_retries += 1;
                runtime
                    .sleep(policy::retry_delay_ms(transient_retries, runtime.random()))
                    .await;
                continue;
            }
            _ => {}
        }
        return into_result(response, runtime.now_ms());
    }
}

pub fn transport_error(error: TransportError) -> ClientError {
    match error {
        TransportError::Network => ClientError::new(
            codes::NETWORK_ERROR,
            "The server could not be reached (network error or CORS refusal)",
        ),
        TransportError::Timeout => ClientError::new(codes::TIMEOUT, "The request timed out"),
        TransportError::Aborted => ClientError::aborted(),
        TransportError::Disposed => ClientError::disposed(),
    }
}

/// A 2xx JSON body without `success: false` is the result; anything else is an error with the
/// server's code when it sent one, else the code for its status.
pub fn into_result<B>(response: HttpResponse<B>, now_ms: f64) -> Result<B, ClientError> {
    let status = response.status;
    let envelope = response.envelope;
    let ok_status = (200..300).contains(&status);
    if ok_status && envelope.success != Some(false) {
        if let Some(body) = response.body {
            return Ok(body);
        }
    }
    let code = if status == 429 {
        codes::RATE_LIMITED.to_string()
    } else {
        match envelope.code.filter(|c| !c.is_empty() && c.len() <= 64) {
            Some(code) => code,
            None if ok_status => codes::SERVER_ERROR.to_string(),
            None => code_for_status(status).to_string(),
        }
    };
    let message = match envelope.message.filter(|m| !m.is_empty()) {
        Some(message) => message,
        None if !envelope.is_json => {
            format!("The server answered HTTP {status} with a body that is not JSON")
        }
        None if ok_status => format!("The server answered HTTP {status} with success: false"),
        None => format!("The server answered HTTP {status}"),
    };
    Err(ClientError {
        code,
        message,
        status: Some(status),
        retry_after: response
            .retry_after
            .as_deref()
            .and_then(|v| retry_after::parse(v, now_ms)),
        request_id: response.request_id,
    })
}
