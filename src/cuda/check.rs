//! Running single kernels on host data, for the parity tests: each kernel of `kernels.cu`
//! against the CPU function of the same name.
//!
//! What it is: [`super::Cuda::run_kernel`] and the two products the layers make with cuBLAS,
//! [`super::Cuda::dense_forward`] and [`super::Cuda::dense_backward`], each copying its inputs to
//! the GPU and its outputs back. What it is not: how training runs (every buffer stays on the
//! GPU there, see [`super::trainer`]).

use super::{Arg, Cuda, cuda_error, over, per_row};
use crate::error::Result;
use cudarc::driver::CudaSlice;

/// An argument of [`Cuda::run_kernel`]: host data copied to the GPU for the launch (and, for
/// the mutable ones, back), or a plain value.
#[derive(Debug)]
pub enum HostArg<'a> {
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
    I32(&'a mut [i32]),
    U64(&'a mut [u64]),
    U8(&'a [u8]),
    U32(&'a [u32]),
    /// A null pointer (e.g. no dropout mask).
    Null,
    Int(i32),
    Long(i64),
    Float(f32),
}

/// How [`Cuda::run_kernel`] launches: a grid-stride loop over a number of elements, or one
/// block of 256 threads per row.
#[derive(Debug, Clone, Copy)]
pub enum Launch {
    Over(usize),
    PerRow(usize),
}

impl Cuda {
    /// Runs the kernel `name` once on host data, as the parity tests do: every buffer is copied
    /// to the GPU, the kernel launched, and the mutable buffers copied back.
    pub fn run_kernel(&self, name: &str, launch: Launch, args: &mut [HostArg<'_>]) -> Result<()> {
        if !self.functions.contains_key(name) {
            return Err(cuda_error(format!("there is no kernel {name}")));
        }
        // The device copies, alive until the kernel is done; inputs only are never read back.
        #[allow(dead_code)]
        enum Held {
            F32(CudaSlice<f32>),
            F64(CudaSlice<f64>),
            I32(CudaSlice<i32>),
            U64(CudaSlice<u64>),
            U8(CudaSlice<u8>),
            U32(CudaSlice<u32>),
            None,
        }
        let mut held = Vec::new();
        let mut launch_args = Vec::new();
        for arg in args.iter() {
            let (buffer, arg) = match arg {
                HostArg::F32(v) => {
                    let b = self.upload(v, "a test buffer")?;
                    let p = self.ptr(&b);
                    (Held::F32(b), Arg::Ptr(p))
                }
                HostArg::F64(v) => {
                    let b = self.upload(v, "a test buffer")?;
                    let p = self.ptr(&b);
                    (Held::F64(b), Arg::Ptr(p))
                }
                HostArg::I32(v) => {
                    let b = self.upload(v, "a test buffer")?;
                    let p = self.ptr(&b);
                    (Held::I32(b), Arg::Ptr(p))
                }
                HostArg::U64(v) => {
                    let b = self.upload(v, "a test buffer")?;
                    let p = self.ptr(&b);
                    (Held::U64(b), Arg::Ptr(p))
                }
                HostArg::U8(v) => {
                    let b = self.upload(v, "a test buffer")?;
                    let p = self.ptr(&b);
                    (Held::U8(b), Arg::Ptr(p))
                }
                HostArg::U32(v) => {
                    let b = self.upload(v, "a test buffer")?;
                    let p = self.ptr(&b);
                    (Held::U32(b), Arg::Ptr(p))
                }
                HostArg::Null => (Held::None, Arg::Ptr(0)),
                HostArg::Int(v) => (Held::None, Arg::Int(*v)),
                HostArg::Long(v) => (Held::None, Arg::Long(*v)),
                HostArg::Float(v) => (Held::None, Arg::Float(*v)),
            };
            held.push(buffer);
            launch_args.push(arg);
        }
        let config = match launch {
            Launch::Over(count) => over(count),
            Launch::PerRow(rows) => per_row(rows),
        };
        self.launch(name, config, &launch_args)?;
        self.synchronize()?;
        for (arg, buffer) in args.iter_mut().zip(&held) {
            match (arg, buffer) {
                (HostArg::F32(v), Held::F32(b)) => {
                    v.copy_from_slice(&self.read(b, "a test buffer")?)
                }
                (HostArg::F64(v), Held::F64(b)) => {
                    v.copy_from_slice(&self.read(b, "a test buffer")?)
                }
                (HostArg::I32(v), Held::I32(b)) => {
                    v.copy_from_slice(&self.read(b, "a test buffer")?)
                }
                (HostArg::U64(v), Held::U64(b)) => {
                    v.copy_from_slice(&self.read(b, "a test buffer")?)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `Z = W·A_prev + B` for a hidden-layer input `a_prev` `(I, N)` row-major (or, with
    /// `image_after_image`, an input batch `X`), by cuBLAS and `add_bias`: the GPU's
    /// `dense_forward`, for the parity tests. `w` is `(O, I)` row-major.
    #[allow(clippy::too_many_arguments)]
    pub fn dense_forward(
        &self,
        w: &[f32],
        b: &[f32],
        a_prev: &[f32],
        image_after_image: bool,
        (inputs, outputs, n): (usize, usize, usize),
    ) -> Result<Vec<f32>> {
        let (w, b, a) = (
            self.upload(w, "W")?,
            self.upload(b, "B")?,
            self.upload(a_prev, "A")?,
        );
        let z = self.zeros::<f32>(outputs * n, "Z")?;
        let ops = (image_after_image, false);
        let lda = if image_after_image { inputs } else { n };
        let (zp, bp) = (self.ptr(&z), self.ptr(&b));
        self.gemm(
            ops,
            (n, outputs, inputs),
            1.0,
            (self.ptr(&a), lda),
            (self.ptr(&w), inputs),
            (zp, n),
        )?;
        let args = [
            Arg::Ptr(zp),
            Arg::Ptr(bp),
            Arg::Int(outputs as i32),
            Arg::Int(n as i32),
        ];
        self.launch("add_bias", over(outputs * n), &args)?;
        self.read(&z, "Z")
    }

    /// `dW = (1/N)·dZ·A_prevᵀ` and `dA_prev = Wᵀ·dZ` by cuBLAS, for the parity tests of
    /// `dense_backward_params` and `dense_backward_input` (hidden-layer `a_prev`, row-major).
    pub fn dense_backward(
        &self,
        w: &[f32],
        a_prev: &[f32],
        dz: &[f32],
        (inputs, outputs, n): (usize, usize, usize),
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let (w, a, dz) = (
            self.upload(w, "W")?,
            self.upload(a_prev, "A")?,
            self.upload(dz, "dZ")?,
        );
        let dw = self.zeros::<f32>(outputs * inputs, "dW")?;
        let da = self.zeros::<f32>(inputs * n, "dA")?;
        let (ap, dzp, wp) = (self.ptr(&a), self.ptr(&dz), self.ptr(&w));
        let scale = 1.0 / n as f32;
        self.gemm(
            (true, false),
            (inputs, outputs, n),
            scale,
            (ap, n),
            (dzp, n),
            (self.ptr(&dw), inputs),
        )?;
        self.gemm(
            (false, true),
            (n, inputs, outputs),
            1.0,
            (dzp, n),
            (wp, inputs),
            (self.ptr(&da), n),
        )?;
        Ok((self.read(&dw, "dW")?, self.read(&da, "dA")?))
    }
}
