//! The CUDA engine: the network's maths on an NVIDIA GPU, beside the CPU engine and checked
//! against it.
//!
//! What it is: [`Cuda`], an [`Engine`] that keeps a training run where the GPU computes: the
//! training set as bytes, the parameters, the gradients, the optimizer's state and every
//! buffer. Each batch is gathered on the GPU from the epoch's shuffled order (the CPU's ChaCha8
//! shuffle, uploaded once per epoch); the matrix products go to cuBLAS in FP32; everything else
//! is a CUDA C kernel in `kernels.cu` named after the CPU function it mirrors
//! (`sigmoid_forward`, `sgd_update`, ...), compiled at run time by NVRTC to machine code for the
//! device's architecture. The losses are summed on the GPU and read once per epoch. A whole training
//! step is captured once as a CUDA graph and replayed for every full batch, so a step costs one
//! launch from the host instead of about twenty. Batches that the CPU must make (distorted
//! images, dropout masks drawn from the CPU's random streams) are copied in before each step,
//! and those steps launch their kernels one by one.
//!
//! What it is not: the reference. The CPU engine ([`crate::cpu`]) is; this engine's results
//! agree with it to rounding (a GPU sums in another order), which `tests/suite/cuda.rs` checks
//! kernel by kernel and over a whole epoch, and says "skipped: no CUDA device" where there is no
//! GPU. Nothing here is loaded until [`Cuda::new`] is called: the driver, cuBLAS and NVRTC
//! libraries are found at run time, and a machine without them gets an error that says what is
//! missing, never a panic.
//!
//! Shapes as in [`crate::nn::network`]: batch matrices `(n[l], N)` row-major, the input batch `X`
//! image after image. cuBLAS reads matrices column after column, so a row-major `(O, N)` matrix
//! is, to it, the `(N, O)` matrix `Zᵀ`; each product below is written in those terms.

use crate::cpu::Cpu;
use crate::data::Dataset;
use crate::data::batch::fill_inputs as fill_inputs_cpu;
use crate::engine::{EVAL_BATCH, Engine, Trainer};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::nn::activation::{Activation, Output};
use crate::nn::loss::Loss;
use crate::nn::network::{Functions, Network};
use cudarc::cublas::sys as blas_sys;
use cudarc::driver::sys as driver_sys;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, DeviceRepr, DriverError,
    LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use cudarc::nvrtc::Ptx;
use std::collections::HashMap;
use std::sync::Arc;

mod check;
mod compile;
mod trainer;

pub use check::{HostArg, Launch};
pub use compile::{compile_cubin, compile_kernels, nvrtc_available};
use trainer::CudaTrainer;

/// The kernels' source, compiled by NVRTC when an engine starts.
pub const KERNELS: &str = include_str!("kernels.cu");

/// Every kernel in [`KERNELS`], by name: the batch, forward, the loss, backward, the update.
pub const KERNEL_NAMES: [&str; 23] = [
    "fill_inputs",
    "fill_targets",
    "add_bias",
    "sigmoid_forward",
    "tanh_forward",
    "scaled_tanh_forward",
    "relu_forward",
    "leaky_relu_forward",
    "softmax_forward",
    "dropout_forward",
    "quadratic_loss_backward",
    "cross_entropy_delta",
    "sigmoid_backward",
    "tanh_backward",
    "scaled_tanh_backward",
    "relu_backward",
    "leaky_relu_backward",
    "dense_backward_bias",
    "sgd_update",
    "momentum_update",
    "nesterov_update",
    "adam_update",
    "end_step",
];

/// Threads per block; the per-row reductions of `kernels.cu` assume 256.
const BLOCK: u32 = 256;

/// cuBLAS's workspace, given to it up front so that a captured graph never allocates.
const BLAS_WORKSPACE_BYTES: usize = 32 << 20;

fn cuda_error(message: impl Into<String>) -> Error {
    Error::Cuda {
        message: message.into(),
    }
}

/// An error of the CUDA driver while doing `what`.
fn driver_error(what: &str, err: DriverError) -> Error {
    cuda_error(format!("{what}: {err:?}"))
}

/// Whether the NVIDIA driver's library (libcuda) can be loaded.
pub fn driver_available() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { driver_sys::is_culib_present() }
}

/// One argument of a kernel launch.
#[derive(Debug, Clone, Copy)]
enum Arg {
    /// A device pointer (a `float*`, `int*`, ... in the kernel).
    Ptr(u64),
    /// An `int`.
    Int(i32),
    /// A `long` (64 bits on the platforms CUDA runs on).
    Long(i64),
    /// A `float`.
    Float(f32),
}

/// The CUDA engine on one GPU.
pub struct Cuda {
    ordinal: usize,
    name: String,
    arch: String,
    /// The device's context, kept open while the engine lives.
    _ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    blas: cudarc::cublas::CudaBlas,
    _blas_workspace: CudaSlice<u8>,
    functions: HashMap<&'static str, CudaFunction>,
    /// Whether full training steps are captured and replayed as a CUDA graph.
    graphs: bool,
    /// Threads that make the batches the CPU must make (distortions), one per core.
    cpu: Cpu,
}

impl Cuda {
    /// The engine on GPU `ordinal` (`cuda:0` is 0): finds the driver, cuBLAS and NVRTC, opens
    /// the device and compiles the kernels for it. Every missing piece is an error that says
    /// what is missing and how to go on.
    pub fn new(ordinal: usize) -> Result<Cuda> {
        if !driver_available() {
            return Err(cuda_error(
                "no NVIDIA driver found (libcuda.so): train on the CPU with --device cpu",
            ));
        }
        let count = CudaContext::device_count()
            .map_err(|e| driver_error("cannot count the CUDA devices", e))?;
        if count <= 0 {
            return Err(cuda_error(
                "the NVIDIA driver finds no CUDA device: train on the CPU with --device cpu",
            ));
        }
        if ordinal >= count as usize {
            return Err(cuda_error(format!(
                "there is no cuda:{ordinal}: this machine has {count} CUDA device{} \
                 (cuda:0{})",
                if count == 1 { "" } else { "s" },
                if count > 1 {
                    format!(" to cuda:{}", count - 1)
                } else {
                    String::new()
                }
            )));
        }
        // SAFETY: only tries to open the library.
        if !unsafe { blas_sys::is_culib_present() } {
            return Err(cuda_error(
                "no cuBLAS library (libcublas.so) found: install the CUDA libraries (or the \
                 nvidia-cublas package) and put them on LD_LIBRARY_PATH, or train on the CPU \
                 with --device cpu",
            ));
        }
        let ctx = CudaContext::new(ordinal)
            .map_err(|e| driver_error(&format!("cannot open cuda:{ordinal}"), e))?;
        // One stream does everything, in order: no events are needed between buffers.
        // SAFETY: every buffer of this engine is used on `stream` only.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx
            .new_stream()
            .map_err(|e| driver_error("cannot create a CUDA stream", e))?;
        let name = ctx.name().unwrap_or_else(|_| "an NVIDIA GPU".to_string());
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| driver_error("cannot read the compute capability", e))?;
        let arch = format!("sm_{major}{minor}");
        let cubin = compile_cubin(&arch)?;
        let module = ctx
            .load_module(Ptx::from_binary(cubin))
            .map_err(|e| driver_error("cannot load the compiled kernels", e))?;
        let mut functions = HashMap::new();
        for kernel in KERNEL_NAMES {
            let function = module
                .load_function(kernel)
                .map_err(|e| driver_error(&format!("kernel {kernel} is missing"), e))?;
            functions.insert(kernel, function);
        }
        let blas = cudarc::cublas::CudaBlas::new(stream.clone())
            .map_err(|e| cuda_error(format!("cannot start cuBLAS: {e:?}")))?;
        let workspace = stream
            .alloc_zeros::<u8>(BLAS_WORKSPACE_BYTES)
            .map_err(|e| driver_error("cannot allocate cuBLAS's workspace", e))?;
        let (workspace_ptr, _) = workspace.device_ptr(&stream);
        // SAFETY: the workspace lives as long as the handle (both are fields of the engine).
        unsafe {
            blas_sys::cublasSetWorkspace_v2(
                *blas.handle(),
                workspace_ptr as *mut std::ffi::c_void,
                BLAS_WORKSPACE_BYTES,
            )
            .result()
            .map_err(|e| cuda_error(format!("cannot give cuBLAS its workspace: {e:?}")))?;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Cuda {
            ordinal,
            name,
            arch,
            _ctx: ctx,
            stream,
            blas,
            _blas_workspace: workspace,
            functions,
            graphs: true,
            cpu: Cpu::new(cores)?,
        })
    }

    /// Whether full training steps are captured as a CUDA graph (the default) or launched
    /// kernel by kernel: `ziffer bench --device cuda` times both.
    pub fn set_graphs(&mut self, graphs: bool) {
        self.graphs = graphs;
    }

    /// The device's name, e.g. `NVIDIA H200`.
    pub fn device_name(&self) -> &str {
        &self.name
    }

    /// Waits for everything queued on the engine's stream.
    pub fn synchronize(&self) -> Result<()> {
        self.stream
            .synchronize()
            .map_err(|e| driver_error("the GPU stopped with an error", e))
    }

    /// A zeroed buffer of `len` values; running out of memory names `what` it was for.
    fn zeros<T: DeviceRepr + ValidAsZeroBits>(
        &self,
        len: usize,
        what: &str,
    ) -> Result<CudaSlice<T>> {
        self.stream.alloc_zeros::<T>(len.max(1)).map_err(|e| {
            if e.0 == driver_sys::cudaError_enum::CUDA_ERROR_OUT_OF_MEMORY {
                cuda_error(format!(
                    "out of GPU memory on cuda:{} allocating {what} ({len} values): use a \
                     smaller network or batch size, or --device cpu",
                    self.ordinal
                ))
            } else {
                driver_error(&format!("cannot allocate {what}"), e)
            }
        })
    }

    /// A buffer holding `values`.
    fn upload<T: DeviceRepr>(&self, values: &[T], what: &str) -> Result<CudaSlice<T>> {
        self.stream
            .clone_htod(values)
            .map_err(|e| driver_error(&format!("cannot copy {what} to the GPU"), e))
    }

    fn write<T: DeviceRepr>(&self, values: &[T], to: &mut CudaSlice<T>, what: &str) -> Result<()> {
        self.stream
            .memcpy_htod(values, to)
            .map_err(|e| driver_error(&format!("cannot copy {what} to the GPU"), e))
    }

    fn read<T: DeviceRepr + Default + Clone>(
        &self,
        from: &CudaSlice<T>,
        what: &str,
    ) -> Result<Vec<T>> {
        self.stream
            .clone_dtoh(from)
            .map_err(|e| driver_error(&format!("cannot copy {what} from the GPU"), e))
    }

    /// The raw device address of a buffer, for kernel arguments and cuBLAS.
    fn ptr<T>(&self, buffer: &CudaSlice<T>) -> u64 {
        buffer.device_ptr(&self.stream).0
    }

    /// Launches kernel `name` over `count` elements (a grid-stride loop) or, with `rows`, one
    /// block per row.
    fn launch(&self, name: &str, config: LaunchConfig, args: &[Arg]) -> Result<()> {
        let function = &self.functions[name];
        let mut builder = self.stream.launch_builder(function);
        for arg in args {
            match arg {
                Arg::Ptr(p) => builder.arg(p),
                Arg::Int(v) => builder.arg(v),
                Arg::Long(v) => builder.arg(v),
                Arg::Float(v) => builder.arg(v),
            };
        }
        // SAFETY: every kernel's arguments are given in its declared order and types (the
        // parity tests run each one), and every pointer is a live buffer of this engine.
        unsafe { builder.launch(config) }
            .map(|_| ())
            .map_err(|e| driver_error(&format!("kernel {name} failed"), e))
    }

    /// `C ← α·op(A)·op(B) + β·C` by cuBLAS, in its column-major terms: `op(A)` is `m x k`,
    /// `op(B)` `k x n`, `C` `m x n`; `ta`/`tb` transpose.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        &self,
        (ta, tb): (bool, bool),
        (m, n, k): (usize, usize, usize),
        alpha: f32,
        (a, lda): (u64, usize),
        (b, ldb): (u64, usize),
        (c, ldc): (u64, usize),
    ) -> Result<()> {
        let op = |t: bool| {
            if t {
                blas_sys::cublasOperation_t::CUBLAS_OP_T
            } else {
                blas_sys::cublasOperation_t::CUBLAS_OP_N
            }
        };
        let beta = 0.0f32;
        // SAFETY: the pointers are live buffers of this engine holding the matrices the
        // shapes and leading dimensions describe (the callers below derive them from the
        // layers' sizes).
        unsafe {
            cudarc::cublas::result::sgemm(
                *self.blas.handle(),
                op(ta),
                op(tb),
                m as i32,
                n as i32,
                k as i32,
                &alpha,
                a as *const f32,
                lda as i32,
                b as *const f32,
                ldb as i32,
                &beta,
                c as *mut f32,
                ldc as i32,
            )
        }
        .map_err(|e| cuda_error(format!("cuBLAS sgemm failed: {e:?}")))
    }
}

/// A grid-stride launch over `count` elements.
fn over(count: usize) -> LaunchConfig {
    let blocks = (count as u64).div_ceil(BLOCK as u64).clamp(1, 8192) as u32;
    LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// One block of 256 threads per row.
fn per_row(rows: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (rows.max(1) as u32, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Where each layer's parameters sit in the one buffer that holds them all: every layer's `W`,
/// then every layer's `B`, so that weight decay (weights only) is one bound.
#[derive(Debug, Clone)]
struct Layout {
    /// `[n[0], ..., n[L]]`.
    sizes: Vec<usize>,
    weight: Vec<usize>,
    bias: Vec<usize>,
    weights: usize,
    total: usize,
}

impl Layout {
    fn of(sizes: &[usize]) -> Layout {
        let mut weight = Vec::new();
        let mut offset = 0;
        for io in sizes.windows(2) {
            weight.push(offset);
            offset += io[0] * io[1];
        }
        let weights = offset;
        let mut bias = Vec::new();
        for &o in &sizes[1..] {
            bias.push(offset);
            offset += o;
        }
        Layout {
            sizes: sizes.to_vec(),
            weight,
            bias,
            weights,
            total: offset,
        }
    }

    /// The network's parameters in this layout.
    fn pack(&self, network: &Network) -> Vec<f32> {
        let mut all = vec![0.0; self.total];
        for (l, layer) in network.layers().iter().enumerate() {
            all[self.weight[l]..][..layer.weight.len()].copy_from_slice(&layer.weight);
            all[self.bias[l]..][..layer.bias.len()].copy_from_slice(&layer.bias);
        }
        all
    }

    /// `W` and `B` of each layer back from this layout.
    fn unpack(&self, all: &[f32], network: &mut Network) {
        for (l, layer) in network.layers_mut().iter_mut().enumerate() {
            let (w, b) = (layer.weight.len(), layer.bias.len());
            layer.weight.copy_from_slice(&all[self.weight[l]..][..w]);
            layer.bias.copy_from_slice(&all[self.bias[l]..][..b]);
        }
    }
}

/// The kernel of each activation, forward and backward.
fn activation_kernels(activation: Activation) -> (&'static str, &'static str) {
    match activation {
        Activation::Sigmoid => ("sigmoid_forward", "sigmoid_backward"),
        Activation::Tanh => ("tanh_forward", "tanh_backward"),
        Activation::ScaledTanh => ("scaled_tanh_forward", "scaled_tanh_backward"),
        Activation::Relu => ("relu_forward", "relu_backward"),
        Activation::LeakyRelu => ("leaky_relu_forward", "leaky_relu_backward"),
    }
}

/// `OUTPUT_SIGMOID` or `OUTPUT_SOFTMAX` in `kernels.cu`.
fn output_code(output: Output) -> i32 {
    match output {
        Output::Sigmoid => 0,
        Output::Softmax => 1,
    }
}

/// The buffers of one batch on the GPU: what forward keeps for backward.
struct DeviceBatch {
    /// `X`, `(n[0], N)` image after image.
    x: CudaSlice<f32>,
    /// `Y`, `(n[L], N)` row-major.
    y: CudaSlice<f32>,
    /// `A[l]` for `l = 1..=L`.
    activations: Vec<CudaSlice<f32>>,
    /// `dA[l]`, then `dZ[l]`, for `l = 1..=L`.
    deltas: Vec<CudaSlice<f32>>,
    /// Dropout's `M[l]` and `Ã[l]` for the hidden layers, if it is on.
    masks: Vec<CudaSlice<f32>>,
    kept: Vec<CudaSlice<f32>>,
}

impl DeviceBatch {
    fn new(cuda: &Cuda, sizes: &[usize], capacity: usize, dropout: bool) -> Result<DeviceBatch> {
        let layers = sizes.len() - 1;
        let buffers = |count: usize, what: &str| -> Result<Vec<CudaSlice<f32>>> {
            (1..=count)
                .map(|l| cuda.zeros::<f32>(sizes[l] * capacity, what))
                .collect()
        };
        Ok(DeviceBatch {
            x: cuda.zeros(sizes[0] * capacity, "the input batch")?,
            y: cuda.zeros(sizes[layers] * capacity, "the targets")?,
            activations: buffers(layers, "the activations")?,
            deltas: buffers(layers, "the errors dA")?,
            masks: if dropout {
                buffers(layers - 1, "the dropout masks")?
            } else {
                Vec::new()
            },
            kept: if dropout {
                buffers(layers - 1, "the dropout outputs")?
            } else {
                Vec::new()
            },
        })
    }
}

impl Cuda {
    /// The forward pass of [`Network::forward`] for `n` images already in `batch.x`:
    /// `Z[l] = W[l]·A[l−1]` by cuBLAS, then `A[l] = f(Z[l] + B[l])` by the activation's kernel,
    /// and `Ã[l] = A[l] ⊙ M[l]` with dropout.
    fn forward(
        &self,
        functions: Functions,
        layout: &Layout,
        theta: u64,
        batch: &DeviceBatch,
        n: usize,
    ) -> Result<()> {
        let sizes = &layout.sizes;
        let last = sizes.len() - 2;
        let dropout = !batch.masks.is_empty();
        for l in 0..=last {
            let (inputs, outputs) = (sizes[l], sizes[l + 1]);
            let z = self.ptr(&batch.activations[l]);
            let w = theta + 4 * layout.weight[l] as u64;
            let b = theta + 4 * layout.bias[l] as u64;
            // Zᵀ = A[l−1]ᵀ·Wᵀ: (N x O) = (N x I)·(I x O). X is stored image after image,
            // cuBLAS's (I x N), so it is transposed; a hidden A[l−1] is (N x I) as it is.
            let a_prev = match l {
                0 => ((true, false), (self.ptr(&batch.x), inputs)),
                _ if dropout => ((false, false), (self.ptr(&batch.kept[l - 1]), n)),
                _ => ((false, false), (self.ptr(&batch.activations[l - 1]), n)),
            };
            let (ops, a) = a_prev;
            self.gemm(ops, (n, outputs, inputs), 1.0, a, (w, inputs), (z, n))?;
            let count = outputs * n;
            if l < last {
                let (kernel, _) = activation_kernels(functions.hidden);
                let args = [
                    Arg::Ptr(z),
                    Arg::Ptr(b),
                    Arg::Int(outputs as i32),
                    Arg::Int(n as i32),
                ];
                self.launch(kernel, over(count), &args)?;
                if dropout {
                    let args = [
                        Arg::Ptr(z),
                        Arg::Ptr(self.ptr(&batch.masks[l])),
                        Arg::Ptr(self.ptr(&batch.kept[l])),
                        Arg::Long(count as i64),
                    ];
                    self.launch("dropout_forward", over(count), &args)?;
                }
            } else {
                let args = [
                    Arg::Ptr(z),
                    Arg::Ptr(b),
                    Arg::Int(outputs as i32),
                    Arg::Int(n as i32),
                ];
                match functions.output {
                    Output::Sigmoid => self.launch("sigmoid_forward", over(count), &args)?,
                    Output::Softmax => self.launch("softmax_forward", over(n), &args)?,
                }
            }
        }
        Ok(())
    }

    /// The backward pass of [`Network::backward`] after [`Cuda::forward`], for the targets in
    /// `batch.y`: `dZ[L]` and the batch's loss (added to `loss`), then for `l = L..=1`
    /// `dZ[l] = dA[l] ⊙ f'(Z[l])` with `dB[l]`, `dW[l] = (1/N)·dZ[l]·A[l−1]ᵀ` and
    /// `dA[l−1] = W[l]ᵀ·dZ[l]`, into `grads` in the parameters' layout.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        functions: Functions,
        layout: &Layout,
        theta: u64,
        grads: u64,
        loss: u64,
        batch: &DeviceBatch,
        n: usize,
    ) -> Result<()> {
        let sizes = &layout.sizes;
        let last = sizes.len() - 2;
        let classes = sizes[last + 1];
        let dropout = !batch.masks.is_empty();
        let kernel = match functions.loss {
            Loss::Quadratic => "quadratic_loss_backward",
            Loss::CrossEntropy => "cross_entropy_delta",
        };
        let args = [
            Arg::Ptr(self.ptr(&batch.activations[last])),
            Arg::Ptr(self.ptr(&batch.y)),
            Arg::Ptr(self.ptr(&batch.deltas[last])),
            Arg::Int(classes as i32),
            Arg::Int(n as i32),
            Arg::Int(output_code(functions.output)),
            Arg::Ptr(loss),
        ];
        self.launch(kernel, over(n), &args)?;
        for l in (0..=last).rev() {
            let (inputs, outputs) = (sizes[l], sizes[l + 1]);
            let delta = self.ptr(&batch.deltas[l]);
            let db = grads + 4 * layout.bias[l] as u64;
            let dw = grads + 4 * layout.weight[l] as u64;
            if l < last {
                // dA[l] ⊙ M[l] with dropout, dZ[l] = dA[l] ⊙ f'(Z[l]) and dB[l].
                let (_, kernel) = activation_kernels(functions.hidden);
                let mask = if dropout {
                    self.ptr(&batch.masks[l])
                } else {
                    0
                };
                let args = [
                    Arg::Ptr(self.ptr(&batch.activations[l])),
                    Arg::Ptr(delta),
                    Arg::Ptr(mask),
                    Arg::Ptr(db),
                    Arg::Int(n as i32),
                ];
                self.launch(kernel, per_row(outputs), &args)?;
            } else {
                let args = [Arg::Ptr(delta), Arg::Ptr(db), Arg::Int(n as i32)];
                self.launch("dense_backward_bias", per_row(outputs), &args)?;
            }
            // dWᵀ = A[l−1]·dZ[l]ᵀ: (I x O) = (I x N)·(N x O), scaled by 1/N.
            let a_prev = match l {
                0 => (false, (self.ptr(&batch.x), inputs)),
                _ if dropout => (true, (self.ptr(&batch.kept[l - 1]), n)),
                _ => (true, (self.ptr(&batch.activations[l - 1]), n)),
            };
            let (ta, a) = a_prev;
            let scale = 1.0 / n as f32;
            self.gemm(
                (ta, false),
                (inputs, outputs, n),
                scale,
                a,
                (delta, n),
                (dw, inputs),
            )?;
            if l > 0 {
                // dA[l−1]ᵀ = dZ[l]ᵀ·W[l]: (N x I) = (N x O)·(O x I).
                let w = theta + 4 * layout.weight[l] as u64;
                let da_prev = self.ptr(&batch.deltas[l - 1]);
                self.gemm(
                    (false, true),
                    (n, inputs, outputs),
                    1.0,
                    (delta, n),
                    (w, inputs),
                    (da_prev, n),
                )?;
            }
        }
        Ok(())
    }
}

impl Engine for Cuda {
    fn describe(&self) -> String {
        format!("cuda:{} ({}, {})", self.ordinal, self.name, self.arch)
    }

    fn outputs(
        &self,
        network: &Network,
        data: &Dataset,
        each: &mut dyn FnMut(&[usize], &[f32]),
    ) -> Result<()> {
        let layout = Layout::of(&network.sizes());
        let theta = self.upload(&layout.pack(network), "the parameters")?;
        let pixels = data.pixels_per_image();
        let capacity = EVAL_BATCH.min(data.len()).max(1);
        let mut batch = DeviceBatch::new(self, &layout.sizes, capacity, false)?;
        let mut x_host = vec![0.0; pixels * capacity];
        let indices: Vec<usize> = (0..data.len()).collect();
        let last = layout.sizes.len() - 2;
        for chunk in indices.chunks(capacity) {
            let n = chunk.len();
            fill_inputs_cpu(data, chunk, &mut x_host);
            self.write(&x_host, &mut batch.x, "the images")?;
            self.forward(network.functions(), &layout, self.ptr(&theta), &batch, n)?;
            let output = self.read(&batch.activations[last], "the outputs")?;
            each(chunk, &output[..layout.sizes[last + 1] * n]);
        }
        Ok(())
    }

    fn trainer<'e>(&'e self, model: &Model) -> Result<Box<dyn Trainer + 'e>> {
        Ok(Box::new(CudaTrainer::new(self, model)?))
    }
}
