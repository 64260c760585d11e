//! Ctrl-C during training: the first press asks training to stop at the end of the batch (the
//! command then saves nothing new and says how to resume); a second press exits at once, which
//! loses nothing already saved, since every save is atomic.
//!
//! What it is not: the server's shutdown, which waits for Ctrl-C on its own runtime.

use anyhow::{Context, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether Ctrl-C was pressed since [`catch`].
pub struct Interrupted(Arc<AtomicBool>);

impl Interrupted {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Catches Ctrl-C (SIGINT) from now on, for the rest of the process.
pub fn catch() -> Result<Interrupted> {
    let flag = Arc::new(AtomicBool::new(false));
    let pressed = Arc::clone(&flag);
    // The handler runs on a thread of its own, not in the signal's context, so it may print.
    ctrlc::set_handler(move || {
        if pressed.swap(true, Ordering::SeqCst) {
            eprintln!("\nziffer: stopped at once; every file already saved is complete");
            std::process::exit(130);
        }
        eprintln!(
            "\nziffer: stopping (training stops at the end of this batch; press Ctrl-C again to quit at once)"
        );
    })
    .context("cannot catch Ctrl-C")?;
    Ok(Interrupted(flag))
}
