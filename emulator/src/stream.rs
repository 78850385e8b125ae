//! Streaming response bodies: a body fed through a channel (SSE, NDJSON), and a body cut after
//! N bytes (the `drop` fault's `after_bytes`).

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// A response body whose chunks are sent through the returned sender; it ends when every sender
/// is dropped. A send fails once the client has gone (hyper dropped the body).
pub fn channel(capacity: usize) -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel(capacity);
    (tx, Body::new(ChannelBody { rx }))
}

struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// One server-sent event, formatted exactly as `event: NAME\ndata: JSON\n\n`.
pub fn sse_event(name: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// The body was cut by an injected fault.
#[derive(Debug)]
pub struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response body cut by an injected fault")
    }
}

impl std::error::Error for Cut {}

/// Passes `inner` through until `limit` bytes, then fails: hyper then closes the connection
/// without finishing the body (a chunked body stays unterminated, a sized one short).
pub fn cut_after(inner: Body, limit: usize) -> Body {
    Body::new(CutBody {
        inner,
        remaining: limit,
        state: CutState::Passing,
    })
}

enum CutState {
    Passing,
    /// The last bytes went out; wait a moment so hyper flushes them before the error.
    Flushing(Pin<Box<tokio::time::Sleep>>),
    Done,
}

struct CutBody {
    inner: Body,
    remaining: usize,
    state: CutState,
}

impl HttpBody for CutBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                CutState::Done => return Poll::Ready(Some(Err(Box::new(Cut)))),
                CutState::Flushing(sleep) => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state = CutState::Done;
                }
                CutState::Passing => {
                    if this.remaining == 0 {
                        this.state = CutState::Flushing(Box::pin(tokio::time::sleep(
                            Duration::from_millis(50),
                        )));
                        continue;
                    }
                    let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
                        Poll::Pending => return Poll::Pending,
                        // The body ended before the limit: it ends normally.
                        Poll::Ready(None) => return Poll::Ready(None),
                        Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(Box::new(e)))),
                        Poll::Ready(Some(Ok(frame))) => frame,
                    };
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    if data.len() >= this.remaining {
                        data.truncate(this.remaining);
                        this.remaining = 0;
                    } else {
                        this.remaining -= data.len();
                    }
                    if data.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        // The original length (if any) stays in the headers: the client sees a short body.
        self.inner.size_hint()
    }
}
