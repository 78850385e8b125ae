//! The accept loop: HTTP/1.1 with hyper, so a fault can close a connection without answering
//! (axum's own `serve` always answers), upgrades for the gateway's WebSocket, and a graceful
//! stop on shutdown.

use crate::middleware::DropConnection;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
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
/// (at most 5 s). Connections are served with upgrades (the gateway's `/ws`); an upgraded
/// connection leaves hyper, and its socket task is ended by the workspace (`crate::live`).
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    // Every connection task holds a clone; once all are dropped, `recv` returns `None`.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
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
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                let mut stop = shutdown.clone();
                let open = open_tx.clone();
                tokio::spawn(async move {
                    let _open = open;
                    tokio::pin!(connection);
                    // (An `Err`, the sender dropped without a shutdown, disables the branch.)
                    let stopped = async move { stop.wait_for(|stop| *stop).await.map(|_| ()) };
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        Ok(()) = stopped => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    drop(open_tx);
    let _ = tokio::time::timeout(Duration::from_secs(5), open_rx.recv()).await;
}
