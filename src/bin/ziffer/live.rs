//! `ziffer train --serve`: the page's server on a thread of its own while training runs on this
//! one, so that no request ever waits on a batch, and no batch on a request.
//!
//! What it is: [`LiveServer`], which binds the address, serves the training router until told to
//! stop, and says where; and what `ziffer serve` shares with it: the warning when other machines
//! can reach the server, and the open-file limit its connections need. What it is not: the
//! events ([`ziffer::web::live`]) or the page.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::sync::oneshot;
use ziffer::web::MAX_CONNECTIONS;

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
            .block_on(async { ziffer::web::bind(addr) })
            .with_context(|| {
                format!(
                    "cannot listen on {addr} (is another server using it? try --serve \
                     127.0.0.1:0 for any free port)"
                )
            })?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        warn_if_reachable(local, "--serve");
        raise_open_file_limit();
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

/// Warns on stderr when the server listens beyond this machine; `flag` is the one that sets
/// the address.
pub fn warn_if_reachable(local: SocketAddr, flag: &str) {
    if !local.ip().to_canonical().is_loopback() {
        eprintln!(
            "ziffer: warning: listening on {local}: other machines can reach this server, \
             which has no password; give {flag} 127.0.0.1:{} to keep it to this machine",
            local.port()
        );
    }
}

/// Raises the soft limit on open files towards what [`MAX_CONNECTIONS`] needs (the hard limit
/// permitting), so that the server's own cap, not the system's often smaller default of 1,024
/// files, decides how many clients it holds.
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        // The connections, plus the model, the listener, the runtime's and standard files.
        let wanted = (MAX_CONNECTIONS + 64) as libc::rlim_t;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct given.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < wanted {
                limit.rlim_cur = wanted.min(limit.rlim_max);
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
    }
}
