//! The few matrix operations backprop needs: one general matrix product, over a GEMM crate.
//!
//! What it is: strided views of `f32` slices ([`MatRef`], [`MatMut`]) and
//! [`gemm`]: `C ← α·A·B + β·C`, computed by the `faer` crate's matrix product (runtime SIMD
//! detection, cache blocking; chosen by measurement on this network's shapes, see
//! `docs/performance.md`), with [`gemm_naive`], the three nested loops, beside it as the
//! reference the tests compare it with.
//!
//! What it is not: a tensor library. There is no broadcasting, no autograd, no allocation; the
//! callers own every buffer.
//!
//! A view names a matrix of `rows x cols` values inside a slice, with element `(i, j)` at
//! `i * row_stride + j * col_stride`. So the same memory can be read as a matrix or as its
//! transpose ([`MatRef::t`]) without copying, and a batch stored as "one image after another" is
//! read as the textbook's matrix with one column per image ([`MatRef::col_major`]).
//!
//! Threads: [`gemm`] runs on the calling thread. The CPU engine ([`crate::cpu`]) splits a layer's
//! work into blocks of rows ([`MatRef::row_block`]) or columns ([`MatRef::col_block`]), one per
//! thread, and calls it once per block.

use std::ops::Range;

/// A read-only `rows x cols` matrix inside a slice.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// A writable `rows x cols` matrix inside a slice.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// Panics unless every element of a `rows x cols` matrix with these strides lies in `len` values.
fn check_fits(len: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = (rows - 1) * row_stride + (cols - 1) * col_stride;
    assert!(
        last < len,
        "a {rows}x{cols} matrix with strides ({row_stride}, {col_stride}) needs {} values, slice has {len}",
        last + 1
    );
}

impl<'a> MatRef<'a> {
    /// Rows stored one after another: `(i, j)` at `i * cols + j`.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// Columns stored one after another: `(i, j)` at `j * rows + i`.
    pub fn col_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, 1, rows)
    }

    /// Any strides; panics if the matrix does not fit in `data`.
    pub fn strided(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        check_fits(data.len(), rows, cols, row_stride, col_stride);
        MatRef {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// The transpose, sharing the same memory.
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// The rows `range` of the matrix, sharing the same memory: e.g. the weights into a block of
    /// neurons.
    pub fn row_block(self, range: Range<usize>) -> Self {
        assert!(range.start <= range.end && range.end <= self.rows);
        let offset = if range.is_empty() {
            0
        } else {
            range.start * self.row_stride
        };
        Self::strided(
            &self.data[offset..],
            range.len(),
            self.cols,
            self.row_stride,
            self.col_stride,
        )
    }

    /// The columns `range` of the matrix, sharing the same memory: e.g. the weights out of a
    /// block of inputs.
    pub fn col_block(self, range: Range<usize>) -> Self {
        self.t().row_block(range).t()
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Element `(i, j)`.
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

impl<'a> MatMut<'a> {
    /// Rows stored one after another: `(i, j)` at `i * cols + j`.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// Columns stored one after another: `(i, j)` at `j * rows + i`.
    pub fn col_major(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, 1, rows)
    }

    /// Any strides; panics if the matrix does not fit in `data`.
    pub fn strided(
        data: &'a mut [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        check_fits(data.len(), rows, cols, row_stride, col_stride);
        MatMut {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Element `(i, j)`.
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// A mutable reference to element `(i, j)`.
    pub fn at_mut(&mut self, i: usize, j: usize) -> &mut f32 {
        &mut self.data[i * self.row_stride + j * self.col_stride]
    }
}

fn check_shapes(a: &MatRef, b: &MatRef, c: &MatMut) {
    assert!(
        a.cols == b.rows && a.rows == c.rows && b.cols == c.cols,
        "gemm shapes do not fit: ({}x{})·({}x{}) into {}x{}",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        c.rows,
        c.cols
    );
}

/// `C ← α·A·B + β·C`, with `A` `m x k`, `B` `k x n`, `C` `m x n`, by faer's matrix product on
/// the calling thread.
///
/// With `β = 0` the old contents of `C` are ignored (they may even be NaN). Parallel callers give
/// each thread its own block of rows of `C` (see [`crate::cpu`]).
pub fn gemm(alpha: f32, a: MatRef, b: MatRef, beta: f32, c: MatMut) {
    check_shapes(&a, &b, &c);
    if c.rows == 0 || c.cols == 0 {
        return;
    }
    // SAFETY: the views' constructors checked that every element lies inside its slice, and `c`
    // borrows its slice mutably.
    let (a_f, b_f) = unsafe { (faer_view(&a), faer_view(&b)) };
    let mut c_f = unsafe {
        faer::MatMut::<f32>::from_raw_parts_mut(
            c.data.as_mut_ptr(),
            c.rows,
            c.cols,
            c.row_stride as isize,
            c.col_stride as isize,
        )
    };
    let accum = if beta == 0.0 {
        faer::Accum::Replace
    } else {
        if beta != 1.0 {
            for j in 0..c_f.ncols() {
                for i in 0..c_f.nrows() {
                    c_f[(i, j)] *= beta;
                }
            }
        }
        faer::Accum::Add
    };
    faer::linalg::matmul::matmul(c_f, accum, a_f, b_f, alpha, faer::Par::Seq);
    clear_upper_vector_state();
}

/// The same matrix as faer sees it.
///
/// # Safety
/// Every element of `m` must lie inside its slice, as [`MatRef`]'s constructors check.
unsafe fn faer_view<'a>(m: &MatRef<'a>) -> faer::MatRef<'a, f32> {
    unsafe {
        faer::MatRef::<f32>::from_raw_parts(
            m.data.as_ptr(),
            m.rows,
            m.cols,
            m.row_stride as isize,
            m.col_stride as isize,
        )
    }
}

/// Clears the upper halves of the AVX registers after faer's AVX-512 kernels return.
///
/// Left dirty, they slow down the SSE-encoded code that runs next: measured here, `expf` in the
/// sigmoid took 18% of an epoch instead of 4%, and an epoch 0.53 s instead of 0.37 s.
#[inline]
fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        unsafe { zero_upper() }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn zero_upper() {
    std::arch::x86_64::_mm256_zeroupper();
}

/// The reference for [`gemm`]: `C ← α·A·B + β·C` by the definition
/// `C[i][j] = α·Σₚ A[i][p]·B[p][j] + β·C[i][j]`, three nested loops.
pub fn gemm_naive(alpha: f32, a: MatRef, b: MatRef, beta: f32, mut c: MatMut) {
    check_shapes(&a, &b, &c);
    for i in 0..c.rows {
        for j in 0..c.cols {
            let mut sum = 0.0f32;
            for p in 0..a.cols {
                sum += a.at(i, p) * b.at(p, j);
            }
            let old = if beta == 0.0 { 0.0 } else { beta * c.at(i, j) };
            *c.at_mut(i, j) = alpha * sum + old;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(rng: &mut ChaCha8Rng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// Compares gemm with gemm_naive for every combination of layouts, on awkward sizes.
    #[test]
    fn gemm_matches_naive_on_every_layout() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 2),
            (17, 33, 9),
            (64, 784, 32),
            (10, 64, 129),
        ] {
            for layout in 0..8 {
                let (ta, tb, tc) = (layout & 1 != 0, layout & 2 != 0, layout & 4 != 0);
                let a_data = random(&mut rng, m * k);
                let b_data = random(&mut rng, k * n);
                let c_init = random(&mut rng, m * n);
                let a = if ta {
                    MatRef::col_major(&a_data, m, k)
                } else {
                    MatRef::row_major(&a_data, m, k)
                };
                let b = if tb {
                    MatRef::row_major(&b_data, k, n)
                } else {
                    MatRef::col_major(&b_data, k, n)
                };
                let mut fast = c_init.clone();
                let mut slow = c_init.clone();
                fn view(d: &mut [f32], m: usize, n: usize, tc: bool) -> MatMut<'_> {
                    if tc {
                        MatMut::col_major(d, m, n)
                    } else {
                        MatMut::row_major(d, m, n)
                    }
                }
                gemm(0.5, a, b, 2.0, view(&mut fast, m, n, tc));
                gemm_naive(0.5, a, b, 2.0, view(&mut slow, m, n, tc));
                let worst = fast
                    .iter()
                    .zip(&slow)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 1e-4 * (k as f32).sqrt(),
                    "({m}x{k})·({k}x{n}) layout {layout}: largest difference {worst}"
                );
            }
        }
    }

    #[test]
    fn transpose_view_reads_the_same_memory() {
        let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = MatRef::row_major(&data, 2, 3);
        assert_eq!(m.t().at(2, 1), 6.0);
        assert_eq!(MatRef::col_major(&data, 3, 2).at(2, 1), m.at(1, 2));
    }

    #[test]
    fn row_and_column_blocks_read_the_same_memory() {
        // 3x4, row-major: (i, j) = 10·i + j.
        let data: Vec<f32> = (0..3)
            .flat_map(|i| (0..4).map(move |j| (10 * i + j) as f32))
            .collect();
        let m = MatRef::row_major(&data, 3, 4);
        let rows = m.row_block(1..3);
        assert_eq!((rows.rows(), rows.cols(), rows.at(0, 2)), (2, 4, 12.0));
        let cols = m.col_block(2..4);
        assert_eq!((cols.rows(), cols.cols(), cols.at(2, 1)), (3, 2, 23.0));
        assert_eq!(m.row_block(3..3).rows(), 0);
    }

    #[test]
    fn beta_zero_ignores_old_contents() {
        let a = [1.0, 2.0];
        let b = [3.0, 4.0];
        let mut c = [f32::NAN];
        gemm(
            1.0,
            MatRef::row_major(&a, 1, 2),
            MatRef::col_major(&b, 2, 1),
            0.0,
            MatMut::row_major(&mut c, 1, 1),
        );
        assert_eq!(c[0], 11.0);
    }

    #[test]
    #[should_panic(expected = "needs 7 values")]
    fn a_view_larger_than_its_slice_is_refused() {
        MatRef::row_major(&[0.0; 6], 7, 1);
    }
}
