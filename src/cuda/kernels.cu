// The CUDA kernels of ziffer's GPU engine, compiled at run time by NVRTC for the device found.
//
// What it is: one kernel per CPU function, under the CPU function's name (`sigmoid_forward` here
// is `sigmoid_forward` in src/nn/activation.rs), so that `grep` lands in both; tests/suite/cuda.rs
// checks each pair on random inputs. What it is not: the matrix products, which are cuBLAS's.
//
// Shapes, as on the CPU: N images per batch; a layer has I inputs and O outputs (neurons). Batch
// matrices (Z, A, dZ, dA) are (O, N) row-major: one neuron's values for the whole batch are
// contiguous, element (o, j) at o*N + j. The input batch X is (I, N) stored image after image,
// element (i, j) at j*I + i. Y is (C, N) row-major, one-hot columns.
//
// Where a kernel does a little more than its CPU twin, to save a launch, its comment says so:
// the activations add the layer's bias B (the end of dense_forward), and their backward passes
// also sum dB = (1/N)·Σ dZ (the end of dense_backward_params).

#define LEAKY_SLOPE 0.01f
// The scaled tanh's A and B (SCALED_TANH_A, SCALED_TANH_B in src/nn/activation.rs).
#define SCALED_TANH_A 1.7159f
#define SCALED_TANH_B (2.0f / 3.0f)

// ---- the batch ----------------------------------------------------------------------------

// fill_inputs (src/data/batch.rs): X[:, j] = normalise_pixel(images[order[first + j]]), with
// first = step[0] * batch_size: the step counter lives on the GPU so that one captured graph
// serves every step.
extern "C" __global__ void fill_inputs(const unsigned char* images, const unsigned int* order,
                                       const int* step, int batch_size, int n, int pixels,
                                       float* x) {
    const float scale = 1.0f / 255.0f;
    const long first = (long)step[0] * batch_size;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)n * pixels;
         i += (long)gridDim.x * blockDim.x) {
        const long j = i / pixels, p = i % pixels;
        const long image = order[first + j];
        x[i] = (float)images[image * pixels + p] * scale;
    }
}

// fill_targets and smoothed_one_hot (src/data/batch.rs):
// Y[c, j] = (1 − ε)·[labels[order[first + j]] == c] + ε/K, one-hot for ε = 0. The product and
// the sum are rounded one at a time (no fused multiply-add), as on the CPU.
extern "C" __global__ void fill_targets(const unsigned char* labels, const unsigned int* order,
                                        const int* step, int batch_size, int n, int classes,
                                        float smoothing, float* y) {
    const long first = (long)step[0] * batch_size;
    const float share = smoothing / (float)classes;
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)classes * n;
         i += (long)gridDim.x * blockDim.x) {
        const long c = i / n, j = i % n;
        const float hit = labels[order[first + j]] == c ? 1.0f : 0.0f;
        y[i] = __fadd_rn(__fmul_rn(1.0f - smoothing, hit), share);
    }
}

// ---- activations, forward: A = f(Z + B) in place ------------------------------------------

// add_bias, the end of dense_forward (src/nn/layer.rs): Z[o, :] += B[o].
extern "C" __global__ void add_bias(float* z, const float* bias, int rows, int n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)rows * n;
         i += (long)gridDim.x * blockDim.x) {
        z[i] += bias[i / n];
    }
}

__device__ float sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

// sigmoid_forward: A = σ(Z + B), σ(z) = 1/(1 + e^−z).
extern "C" __global__ void sigmoid_forward(float* z_then_a, const float* bias, int rows, int n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)rows * n;
         i += (long)gridDim.x * blockDim.x) {
        z_then_a[i] = sigmoid(z_then_a[i] + bias[i / n]);
    }
}

// tanh_forward: A = tanh(Z + B).
extern "C" __global__ void tanh_forward(float* z_then_a, const float* bias, int rows, int n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)rows * n;
         i += (long)gridDim.x * blockDim.x) {
        z_then_a[i] = tanhf(z_then_a[i] + bias[i / n]);
    }
}

// scaled_tanh_forward: A = 1.7159·tanh((2/3)·(Z + B)).
extern "C" __global__ void scaled_tanh_forward(float* z_then_a, const float* bias, int rows,
                                               int n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)rows * n;
         i += (long)gridDim.x * blockDim.x) {
        z_then_a[i] = SCALED_TANH_A * tanhf(SCALED_TANH_B * (z_then_a[i] + bias[i / n]));
    }
}

// relu_forward: A = max(Z + B, 0).
extern "C" __global__ void relu_forward(float* z_then_a, const float* bias, int rows, int n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)rows * n;
         i += (long)gridDim.x * blockDim.x) {
        z_then_a[i] = fmaxf(z_then_a[i] + bias[i / n], 0.0f);
    }
}

// leaky_relu_forward: A = Z + B where positive, 0.01·(Z + B) elsewhere.
extern "C" __global__ void leaky_relu_forward(float* z_then_a, const float* bias, int rows,
                                              int n) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (long)rows * n;
         i += (long)gridDim.x * blockDim.x) {
        const float v = z_then_a[i] + bias[i / n];
        z_then_a[i] = v < 0.0f ? v * LEAKY_SLOPE : v;
    }
}

// softmax_forward: for each column j, A[c, j] = e^(Z[c, j] − max) / Σ e^(Z[k, j] − max), after
// adding B. One thread per column.
extern "C" __global__ void softmax_forward(float* z_then_a, const float* bias, int classes,
                                           int n) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        float max = -__int_as_float(0x7f800000);  // −∞ (NVRTC has no math.h)
        for (int c = 0; c < classes; c++) {
            const float v = z_then_a[c * n + j] + bias[c];
            z_then_a[c * n + j] = v;
            max = fmaxf(max, v);
        }
        float sum = 0.0f;
        for (int c = 0; c < classes; c++) {
            const float e = expf(z_then_a[c * n + j] - max);
            z_then_a[c * n + j] = e;
            sum += e;
        }
        for (int c = 0; c < classes; c++) z_then_a[c * n + j] /= sum;
    }
}

// dropout_forward (src/nn/dropout.rs): Ã = A ⊙ M.
extern "C" __global__ void dropout_forward(const float* a, const float* mask, float* kept,
                                           long size) {
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < size;
         i += (long)gridDim.x * blockDim.x) {
        kept[i] = a[i] * mask[i];
    }
}

// ---- the loss and dZ[L] -------------------------------------------------------------------

// The output functions, as in src/nn/activation.rs's Output.
#define OUTPUT_SIGMOID 0
#define OUTPUT_SOFTMAX 1

// quadratic_loss_backward (src/nn/loss.rs), then back through the output function
// (Output::backward): dA = A − Y, and dZ = dA ⊙ σ'(Z) = dA ⊙ A(1 − A) for the sigmoid, or
// dZ[k] = A[k]·(dA[k] − Σᵢ dA[i]·A[i]) for the softmax. Also adds the batch's
// quadratic_loss, Σ ½‖A − Y‖² (in double, as on the CPU), to loss[0]. One thread per column.
extern "C" __global__ void quadratic_loss_backward(const float* a, const float* y, float* dz,
                                                   int classes, int n, int output,
                                                   double* loss) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        double sum = 0.0;
        float dot = 0.0f;
        for (int c = 0; c < classes; c++) {
            const float e = a[c * n + j] - y[c * n + j];
            sum += (double)e * (double)e;
            dz[c * n + j] = e;
            dot += e * a[c * n + j];
        }
        for (int c = 0; c < classes; c++) {
            const float ac = a[c * n + j];
            if (output == OUTPUT_SIGMOID) {
                dz[c * n + j] *= ac * (1.0f - ac);
            } else {
                dz[c * n + j] = ac * (dz[c * n + j] - dot);
            }
        }
        atomicAdd(loss, 0.5 * sum);
    }
}

#define MIN_PROBABILITY 1e-30f

// cross_entropy_delta (src/nn/loss.rs): dZ = A − Y for the cross-entropy through its own output
// function. Also adds the batch's cross_entropy_loss (softmax: −Σ y·ln a) or
// binary_cross_entropy_loss (sigmoid: −Σ [y·ln a + (1 − y)·ln(1 − a)]) to loss[0]. One thread
// per column.
extern "C" __global__ void cross_entropy_delta(const float* a, const float* y, float* dz,
                                               int classes, int n, int output, double* loss) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += gridDim.x * blockDim.x) {
        double sum = 0.0;
        for (int c = 0; c < classes; c++) {
            const float ac = a[c * n + j], yc = y[c * n + j];
            dz[c * n + j] = ac - yc;
            if (output == OUTPUT_SOFTMAX) {
                if (yc != 0.0f) sum += -(double)yc * log((double)fmaxf(ac, MIN_PROBABILITY));
            } else {
                const double min = (double)MIN_PROBABILITY;
                sum += -((double)yc * log(fmax((double)ac, min)) +
                         (1.0 - (double)yc) * log(fmax(1.0 - (double)ac, min)));
            }
        }
        atomicAdd(loss, sum);
    }
}

// ---- activations, backward: dZ = dA ⊙ f'(Z), and dB ---------------------------------------

// The sum of a block's values, for the dB of one row (blockDim.x must be 256).
__device__ float block_sum(float value) {
    __shared__ float partial[256];
    partial[threadIdx.x] = value;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    return partial[0];
}

// The derivatives f'(Z) from the kept A, as src/nn/activation.rs computes them.
#define ACTIVATION_SIGMOID 0
#define ACTIVATION_TANH 1
#define ACTIVATION_RELU 2
#define ACTIVATION_LEAKY_RELU 3
#define ACTIVATION_SCALED_TANH 4

__device__ float backward_one(int activation, float a, float d) {
    switch (activation) {
        case ACTIVATION_SIGMOID: return d * (a * (1.0f - a));
        case ACTIVATION_TANH: return d * (1.0f - a * a);
        case ACTIVATION_RELU: return a <= 0.0f ? 0.0f : d;
        case ACTIVATION_SCALED_TANH:
            return d * (SCALED_TANH_B * (SCALED_TANH_A - a * a / SCALED_TANH_A));
        default: return a <= 0.0f ? d * LEAKY_SLOPE : d;
    }
}

// One block per row o of layer l: dA[o, :] ⊙ M[o, :] with dropout (dropout_backward), then
// dZ = dA ⊙ f'(Z) in place, and dB[o] = (1/N)·Σⱼ dZ[o, j]. `mask` may be null.
__device__ void activation_backward(int activation, const float* a, float* da_then_dz,
                                    const float* mask, float* db, int n) {
    const long row = blockIdx.x;
    float sum = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const long i = row * n + j;
        float d = da_then_dz[i];
        if (mask) d *= mask[i];
        d = backward_one(activation, a[i], d);
        da_then_dz[i] = d;
        sum += d;
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0) db[row] = sum / (float)n;
}

// sigmoid_backward: dZ = dA ⊙ A(1 − A); and dB.
extern "C" __global__ void sigmoid_backward(const float* a, float* da_then_dz, const float* mask,
                                            float* db, int n) {
    activation_backward(ACTIVATION_SIGMOID, a, da_then_dz, mask, db, n);
}

// tanh_backward: dZ = dA ⊙ (1 − A²); and dB.
extern "C" __global__ void tanh_backward(const float* a, float* da_then_dz, const float* mask,
                                         float* db, int n) {
    activation_backward(ACTIVATION_TANH, a, da_then_dz, mask, db, n);
}

// scaled_tanh_backward: dZ = dA ⊙ (2/3)·(1.7159 − A²/1.7159); and dB.
extern "C" __global__ void scaled_tanh_backward(const float* a, float* da_then_dz,
                                                const float* mask, float* db, int n) {
    activation_backward(ACTIVATION_SCALED_TANH, a, da_then_dz, mask, db, n);
}

// relu_backward: dZ = dA where A > 0, 0 elsewhere; and dB.
extern "C" __global__ void relu_backward(const float* a, float* da_then_dz, const float* mask,
                                         float* db, int n) {
    activation_backward(ACTIVATION_RELU, a, da_then_dz, mask, db, n);
}

// leaky_relu_backward: dZ = dA where A > 0, 0.01·dA elsewhere; and dB.
extern "C" __global__ void leaky_relu_backward(const float* a, float* da_then_dz,
                                               const float* mask, float* db, int n) {
    activation_backward(ACTIVATION_LEAKY_RELU, a, da_then_dz, mask, db, n);
}

// dense_backward_bias, the dB of dense_backward_params for the output layer, whose dZ comes
// from the loss: dB[o] = (1/N)·Σⱼ dZ[o, j]. One block per row.
extern "C" __global__ void dense_backward_bias(const float* dz, float* db, int n) {
    const long row = blockIdx.x;
    float sum = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) sum += dz[row * n + j];
    sum = block_sum(sum);
    if (threadIdx.x == 0) db[row] = sum / (float)n;
}

// ---- the update rules (src/nn/optimizer.rs), over every parameter at once ------------------
//
// theta holds every layer's weights, then every layer's biases: weight decay λ applies to the
// first `weights` values only. The rate η is read from the GPU (it changes between epochs, not
// within a captured graph).

__device__ float l2_gradient(float g, float theta, float lambda) { return g + lambda * theta; }

// flush_subnormal: x, or 0 where 0 < |x| < 2⁻¹²⁶, as the CPU keeps the optimizers' state (a GPU
// pays nothing for subnormals, but both engines keep the same values).
__device__ float flush_subnormal(float x) { return fabsf(x) < 1.17549435e-38f ? 0.0f : x; }

// sgd_update: θ ← θ − η·(g + λθ).
extern "C" __global__ void sgd_update(float* theta, const float* g, long count, long weights,
                                      const float* eta, float lambda) {
    const float rate = eta[0];
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < count;
         i += (long)gridDim.x * blockDim.x) {
        const float l = i < weights ? lambda : 0.0f;
        theta[i] -= rate * l2_gradient(g[i], theta[i], l);
    }
}

// momentum_update: v ← μ·v + g, θ ← θ − η·v.
extern "C" __global__ void momentum_update(float* theta, float* v, const float* g, long count,
                                           long weights, const float* eta, float mu,
                                           float lambda) {
    const float rate = eta[0];
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < count;
         i += (long)gridDim.x * blockDim.x) {
        const float l = i < weights ? lambda : 0.0f;
        v[i] = flush_subnormal(mu * v[i] + l2_gradient(g[i], theta[i], l));
        theta[i] -= rate * v[i];
    }
}

// nesterov_update: v ← μ·v + g, θ ← θ − η·(g + μ·v).
extern "C" __global__ void nesterov_update(float* theta, float* v, const float* g, long count,
                                           long weights, const float* eta, float mu,
                                           float lambda) {
    const float rate = eta[0];
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < count;
         i += (long)gridDim.x * blockDim.x) {
        const float l = i < weights ? lambda : 0.0f;
        const float gi = l2_gradient(g[i], theta[i], l);
        v[i] = flush_subnormal(mu * v[i] + gi);
        theta[i] -= rate * (gi + mu * v[i]);
    }
}

// adam_update: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − η·m̂/(√v̂ + ε), with
// m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ) and t = steps[0] + 1 (the steps before this one).
extern "C" __global__ void adam_update(float* theta, float* m, float* v, const float* g,
                                       long count, long weights, const float* eta, float beta1,
                                       float beta2, float epsilon, float lambda,
                                       const unsigned long long* steps) {
    const float rate = eta[0];
    const double t = (double)(steps[0] + 1);
    const float correction1 = 1.0f - (float)pow((double)beta1, t);
    const float correction2 = 1.0f - (float)pow((double)beta2, t);
    for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < count;
         i += (long)gridDim.x * blockDim.x) {
        const float l = i < weights ? lambda : 0.0f;
        const float gi = l2_gradient(g[i], theta[i], l);
        m[i] = flush_subnormal(beta1 * m[i] + (1.0f - beta1) * gi);
        v[i] = flush_subnormal(beta2 * v[i] + (1.0f - beta2) * gi * gi);
        const float m_hat = m[i] / correction1;
        const float v_hat = v[i] / correction2;
        theta[i] -= rate * m_hat / (sqrtf(v_hat) + epsilon);
    }
}

// ---- the end of a step ----------------------------------------------------------------------

// end_step, what the CPU's training loop does after each batch: the batch's mean loss
// (float)(loss[0] / n), as the CPU rounds it, kept in batch_losses and added times n to the
// epoch's sum; the first
// batch whose loss is not finite remembered; then the next step and the optimizer's step
// count. One thread.
extern "C" __global__ void end_step(double* loss, int n, double* epoch_loss, int* first_bad,
                                    float* bad_loss, float* batch_losses, int* step,
                                    unsigned long long* steps) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    const float batch = (float)(loss[0] / (double)n);
    batch_losses[step[0]] = batch;
    if (!isfinite(batch) && first_bad[0] < 0) {
        first_bad[0] = step[0];
        bad_loss[0] = batch;
    }
    epoch_loss[0] += (double)batch * (double)n;
    loss[0] = 0.0;
    step[0] += 1;
    steps[0] += 1;
}
