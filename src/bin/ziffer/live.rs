//! `ziffer train --serve`: the page's server on a thread of its own while training runs on this
//! one, so that no request ever waits on a batch, and no batch on a request.
//!
//! What it is: [`LiveServer`], which binds the address, serves the training router until told to
//! stop, and says where. What it is not: the events ([`ziffer::web::live`]) or the page.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A server running on its own thread.
pub struct LiveServer {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LiveServer {
    /// Binds `addr` and serves `router` on a new thread (its own runtime, two worker threads).
    pub fn start(addr: SocketAddr, router: axum::Router) -> Result<LiveServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .with_context(|| {
                format!(
                    "cannot listen on {addr} (is another server using it? try --serve \
                     127.0.0.1:0 for any free port)"
                )
            })?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(err) =
                runtime.block_on(ziffer::web::serve_router(listener, router, shutdown))
            {
                eprintln!("ziffer: the page's server stopped: {err}");
            }
        });
        Ok(LiveServer {
            url: format!("http://{local}/"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the server once the requests under way are answered.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
