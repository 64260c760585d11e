//! The kernels compiled by NVRTC, NVIDIA's run-time compiler: the one path from `kernels.cu` to
//! code a GPU runs, used by the engine and by the test that compiles every kernel in CI.
//!
//! What it is: [`compile_kernels`] (PTX, readable, whose entries the test lists) and
//! [`compile_cubin`] (machine code, what the engine loads). What it is not: loading or running
//! them, which needs a GPU ([`super::Cuda::new`]).

use super::{KERNELS, cuda_error};
use crate::error::{Error, Result};
use cudarc::nvrtc::{CompileOptions, Ptx};

/// The error for a machine without the NVRTC library.
fn no_nvrtc() -> Error {
    cuda_error(
        "no NVRTC library (libnvrtc.so) found to compile the CUDA kernels: install the CUDA \
         toolkit or the nvidia-cuda-nvrtc package and put its lib folder on LD_LIBRARY_PATH, or \
         train on the CPU with --device cpu",
    )
}

/// Whether the NVRTC library (libnvrtc) can be loaded: it compiles the kernels, and needs no GPU.
pub fn nvrtc_available() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// [`KERNELS`] compiled to PTX for the architecture `arch` (`sm_90` for an H100 or H200), by
/// NVRTC. Needs the NVRTC library but no GPU: CI compiles every kernel this way.
pub fn compile_kernels(arch: &str) -> Result<Ptx> {
    if !nvrtc_available() {
        return Err(no_nvrtc());
    }
    let options = CompileOptions {
        options: vec![format!("--gpu-architecture={arch}")],
        name: Some("kernels.cu".to_string()),
        ..Default::default()
    };
    cudarc::nvrtc::compile_ptx_with_opts(KERNELS, options).map_err(|e| {
        cuda_error(format!(
            "NVRTC could not compile kernels.cu for {arch}: {e:?}"
        ))
    })
}

/// [`KERNELS`] compiled by NVRTC to machine code (a CUBIN) for the real architecture `arch`,
/// what [`super::Cuda::new`] loads. Unlike PTX, which the driver compiles again and refuses when it
/// comes from a newer CUDA than its own, a CUBIN from any CUDA 13 NVRTC runs on any CUDA 13
/// driver. Needs the NVRTC library but no GPU.
pub fn compile_cubin(arch: &str) -> Result<Vec<u8>> {
    use cudarc::nvrtc::{result, sys};
    use std::ffi::CString;
    if !nvrtc_available() {
        return Err(no_nvrtc());
    }
    let source = CString::new(KERNELS).expect("kernels.cu holds no NUL byte");
    let program = result::create_program(&source, Some(c"kernels.cu"))
        .map_err(|e| cuda_error(format!("NVRTC cannot take kernels.cu: {e:?}")))?;
    let options = [format!("--gpu-architecture={arch}")];
    // SAFETY: `program` was just created and is destroyed once, below; the buffers passed to
    // NVRTC are sized as it says.
    unsafe {
        let compiled = result::compile_program(program, &options);
        let output = match compiled {
            Ok(()) => {
                let mut size = 0usize;
                sys::nvrtcGetCUBINSize(program, &mut size)
                    .result()
                    .and_then(|()| {
                        let mut cubin = vec![0u8; size];
                        sys::nvrtcGetCUBIN(program, cubin.as_mut_ptr().cast())
                            .result()
                            .map(|()| cubin)
                    })
                    .map_err(|e| cuda_error(format!("NVRTC made no CUBIN for {arch}: {e:?}")))
            }
            Err(e) => {
                let log = result::get_program_log(program)
                    .map(|raw| {
                        std::ffi::CStr::from_ptr(raw.as_ptr())
                            .to_string_lossy()
                            .into_owned()
                    })
                    .unwrap_or_default();
                Err(cuda_error(format!(
                    "NVRTC could not compile kernels.cu for {arch}: {e:?}\n{log}"
                )))
            }
        };
        let _ = result::destroy_program(program);
        output
    }
}
