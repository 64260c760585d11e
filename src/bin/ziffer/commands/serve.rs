//! `ziffer serve`: the drawing page and its JSON API, served by [`ziffer::web::serve`].
//!
//! This file loads the model, binds the address, prints the URL (and a warning when other
//! machines can reach it) and waits for Ctrl-C; the page, the API and their limits live in the
//! library.

use crate::args::DEFAULT_MODEL;
use crate::live;
use anyhow::{Context, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use ziffer::model_file;
use ziffer::web::{
    HEADER_TIMEOUT, MAX_BODY_BYTES, MAX_CONNECTIONS, MAX_HEADER_BYTES, MAX_HEADERS, REQUEST_TIMEOUT,
};

/// The limits `--help` lists, from the library's constants.
fn limits_help() -> String {
    format!(
        "Limits (each connection or request past them is cut, so that slow clients cannot hold \
         the server):\n  \
         - headers within {} s of connecting or of the previous answer, else the connection is \
         closed\n  \
         - the rest of the request, body included, answered within {} s (408 if the body is \
         still arriving)\n  \
         - at most {MAX_HEADERS} headers and {} KiB of request head (431), {} MiB of body (413)\n  \
         - at most {MAX_CONNECTIONS} connections open at once; the next ones wait",
        HEADER_TIMEOUT.as_secs(),
        REQUEST_TIMEOUT.as_secs(),
        MAX_HEADER_BYTES >> 10,
        MAX_BODY_BYTES >> 20,
    )
}

#[derive(Debug, Args)]
#[command(after_help = limits_help())]
pub struct ServeArgs {
    /// The model to read with
    #[arg(long, short, value_name = "FILE", default_value = DEFAULT_MODEL)]
    pub model: PathBuf,

    /// The address to listen on (other machines can reach it only if you give 0.0.0.0:PORT,
    /// and the server then warns)
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Open the page in the default browser, where there is one
    #[arg(long)]
    pub open: bool,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let model = model_file::load(&args.model).with_context(|| {
        format!(
            "cannot load the model {} (train one with `ziffer train`)",
            args.model.display()
        )
    })?;
    ziffer::web::check_model(&model)
        .with_context(|| format!("{} cannot read digits", args.model.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = ziffer::web::bind(args.addr).with_context(|| {
            format!(
                "cannot listen on {} (is another server using it? try --addr 127.0.0.1:0 \
                 for any free port)",
                args.addr
            )
        })?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        eprintln!(
            "ziffer: serving {} on http://{local}/ (Ctrl-C to stop)",
            args.model.display()
        );
        live::warn_if_reachable(local, "--addr");
        live::raise_open_file_limit();
        if args.open {
            let url = format!("http://{local}/");
            if let Err(err) = open::that_detached(&url) {
                eprintln!("ziffer: could not open a browser ({err}); open {url} yourself");
            }
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("ziffer: stopping");
        };
        ziffer::web::serve(listener, model, shutdown).await?;
        Ok(())
    })
}
