//! Where to run: `--device cpu` or `--device cuda[:N]`, and the engine for it.
//!
//! What it is: [`Device`], its text form, and [`Device::engine`], which starts the engine it
//! names. What it is not: an engine ([`crate::cpu`], `crate::cuda`); this is the one place that
//! knows them all, so that the training loop and the seam ([`crate::engine`]) know none.

use crate::cpu::Cpu;
use crate::engine::Engine;
use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A place the maths can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The CPU engine, the bit-reproducible reference.
    #[default]
    Cpu,
    /// The CUDA engine on GPU `N` (`cuda` is `cuda:0`).
    Cuda(usize),
}

impl Device {
    /// The engine for this device; `threads` is the CPU engine's thread count.
    pub fn engine(self, threads: usize) -> Result<Box<dyn Engine>> {
        match self {
            Device::Cpu => Ok(Box::new(Cpu::new(threads)?)),
            #[cfg(feature = "cuda")]
            Device::Cuda(ordinal) => Ok(Box::new(crate::cuda::Cuda::new(ordinal)?)),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(Error::Cuda {
                message: "this ziffer was built without the CUDA engine: rebuild with \
                          `cargo build --release --features cuda`, or use --device cpu"
                    .to_string(),
            }),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for Device {
    type Err = Error;

    /// Parses `cpu`, `cuda` or `cuda:N`.
    fn from_str(text: &str) -> Result<Self> {
        let bad = || {
            Error::config(
                "device",
                format!("'{text}' is not a device; write cpu, cuda or cuda:N (e.g. cuda:0)"),
            )
        };
        match text.trim() {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            other => {
                let n = other.strip_prefix("cuda:").ok_or_else(bad)?;
                n.parse().map(Device::Cuda).map_err(|_| bad())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_as_they_are_written() {
        for (text, device) in [
            ("cpu", Device::Cpu),
            ("cuda", Device::Cuda(0)),
            ("cuda:0", Device::Cuda(0)),
            ("cuda:3", Device::Cuda(3)),
        ] {
            assert_eq!(text.parse::<Device>().unwrap(), device);
        }
        assert_eq!(Device::Cuda(2).to_string(), "cuda:2");
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", ""] {
            let err = bad.parse::<Device>().unwrap_err().to_string();
            assert!(err.contains("cpu, cuda or cuda:N"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_cpu_engine_starts_anywhere() {
        assert_eq!(Device::Cpu.engine(1).unwrap().describe(), "1 thread");
    }
}
