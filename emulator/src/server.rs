//! The accept loop: HTTP/1.1 with hyper, so a fault can close a connection without answering
//! (axum's own `serve` always answers), and a graceful stop on shutdown.

use crate::middleware::DropConnection;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Returned to hyper instead of a response: hyper then closes the connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves `router` on `listener` until `shutdown` turns true, then lets open requests finish
/// (at most 5 s).
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let router = router.clone();
                    async move {
                        let response = match router.oneshot(req).await {
                            Ok(r) => r,
                            Err(never) => match never {},
                        };
                        if response.extensions().get::<DropConnection>().is_some() {
                            return Err(Dropped);
                        }
                        Ok::<_, Dropped>(response)
                    }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}
