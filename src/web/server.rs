//! The HTTP/1 server under the router: the accept loop, the connection cap, the header limits
//! and timeout, and graceful shutdown.
//!
//! What it is: hyper's HTTP/1 connection builder driven directly, because `axum::serve` has no
//! header-read timeout (a client that never finishes its headers would hold its connection
//! forever). What it is not: the request timeout and the body limit, which need to answer in
//! JSON and so live in the router's middleware (`super::limits`). Every limit is a `pub const` in
//! `super`, documented there.

use super::{HEADER_TIMEOUT, MAX_CONNECTIONS, MAX_HEADER_BYTES, MAX_HEADERS, SHUTDOWN_GRACE};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// How long the accept loop pauses when the process is out of file descriptors (or another
/// resource), before trying again: the connections open now must close first.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The HTTP/1 settings every connection gets.
fn builder() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEADER_BYTES)
        // The read buffer, which bounds the memory of each connection; a head must fit in it.
        .max_buf_size(MAX_HEADER_BYTES);
    builder
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets each
/// connection finish the request it is on (for up to [`SHUTDOWN_GRACE`]) and returns.
///
/// At most [`MAX_CONNECTIONS`] connections are open at once: past that the loop stops accepting
/// until one closes, and new clients wait in the kernel's listen queue.
pub(super) async fn run(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let builder = builder();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // Dropping the sender tells every connection to finish its request and close.
    let (stop, stopping) = watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        // Finished connections leave the set as they go, so that it holds only open ones.
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    if !is_connection_error(&err) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut connection = pin!(connection);
            tokio::select! {
                // A connection that fails (a client that hangs up, a header timeout) just ends.
                _ = connection.as_mut() => return,
                _ = stopping.changed() => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    drop(stop);
    let all_closed = async { while connections.join_next().await.is_some() {} };
    // Past the grace period the connections left are dropped, which closes them.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, all_closed).await;
}

/// Whether an accept error concerns only the connection being accepted (the client gave up),
/// rather than the process (out of file descriptors), which waiting may cure.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_that_gave_up_is_a_connection_error_and_running_out_of_files_is_not() {
        assert!(is_connection_error(&io::Error::from(
            io::ErrorKind::ConnectionAborted
        )));
        // EMFILE, "too many open files".
        assert!(!is_connection_error(&io::Error::from_raw_os_error(24)));
    }
}
