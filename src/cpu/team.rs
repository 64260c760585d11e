//! A team of threads that stays awake while a training run lasts, for the fine-grained
//! parallelism of small matrix products.
//!
//! What it is: `T − 1` worker threads that spin, waiting for the next piece of work, plus the
//! calling thread. [`Team::for_each`] hands each of up to `T` parts to its own thread and returns
//! when all are done. At batch 32 one training step of the 784-128-64-10 network is about 150 µs
//! of arithmetic in eight parallel regions; a thread pool whose idle threads go to sleep spends
//! several microseconds waking one up per region, which on this network cost as much time as the
//! second core saved. Spinning workers answer in well under a microsecond.
//!
//! What it is not: a general task scheduler. Work is split by the caller into as many parts as
//! there are threads (see [`split_rows`]), part `i` always runs on thread `i`, so which thread
//! computes what depends only on the thread count, never on timing.
//!
//! The CPU engine ([`super::Cpu`]) owns its team; nothing else starts one.

use smallvec::SmallVec;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The work of one [`Team::for_each`] call, as workers see it: run part `i`.
type Job = dyn Fn(usize) + Sync;

struct Shared {
    /// Bumped by the caller to start a job.
    generation: AtomicU64,
    /// The current job, valid while `pending > 0`; its lifetime is erased (see `for_each`).
    job: AtomicJob,
    /// Workers still busy with the current job.
    pending: AtomicUsize,
    /// Set when a worker's part panicked; the caller panics in turn.
    panicked: AtomicBool,
    /// Set when the team is dropped.
    stop: AtomicBool,
}

/// A `*const Job` readable from other threads.
struct AtomicJob(std::sync::Mutex<Option<JobPtr>>);

#[derive(Clone, Copy)]
struct JobPtr(*const Job);
// SAFETY: the pointee is `Sync`, and `for_each` keeps it alive while workers may use it.
unsafe impl Send for JobPtr {}

/// `threads` threads: the caller and `threads − 1` workers.
pub struct Team {
    threads: usize,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Team {
    /// A team of `threads` threads (at least 1); starts `threads − 1` workers.
    pub fn new(threads: usize) -> std::io::Result<Team> {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            job: AtomicJob(std::sync::Mutex::new(None)),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let mut workers = Vec::with_capacity(threads - 1);
        for index in 1..threads {
            let worker_shared = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name(format!("ziffer-{index}"))
                .spawn(move || worker(index, &worker_shared));
            match handle {
                Ok(h) => workers.push(h),
                Err(e) => {
                    // Stop the workers already started before reporting.
                    drop(Team {
                        threads: workers.len() + 1,
                        shared,
                        workers,
                    });
                    return Err(e);
                }
            }
        }
        Ok(Team {
            threads,
            shared,
            workers,
        })
    }

    /// Number of threads, the caller included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on every part, part `i` on thread `i` (the caller is thread 0), and returns when
    /// all are done. `parts` may be shorter than the team; a longer one is an error of the caller.
    pub fn for_each<P: Send>(&self, parts: &mut [P], f: impl Fn(&mut P) + Sync) {
        assert!(
            parts.len() <= self.threads,
            "{} parts for a team of {}",
            parts.len(),
            self.threads
        );
        match parts.len() {
            0 => {}
            1 => f(&mut parts[0]),
            n => {
                let base = SendPtr(parts.as_mut_ptr());
                let run = |i: usize| {
                    if i < n {
                        // SAFETY: each index is run by exactly one thread, so the `&mut` are
                        // disjoint, and `parts` outlives the call (we wait for every worker).
                        f(unsafe { &mut *base.at(i) })
                    }
                };
                self.run(&run);
            }
        }
    }

    /// Runs `job(i)` for every thread `i`, `job(0)` on the caller; returns when all are done.
    fn run<'j>(&self, job: &'j (dyn Fn(usize) + Sync + 'j)) {
        let shared = &*self.shared;
        // SAFETY: the job's lifetime is erased so that workers can hold it; `Finish` below waits
        // for every worker to be done with it before `run` returns or unwinds.
        let erased: *const Job =
            unsafe { std::mem::transmute::<&'j (dyn Fn(usize) + Sync + 'j), &'static Job>(job) };
        *shared.job.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(JobPtr(erased));
        shared.pending.store(self.threads - 1, Ordering::SeqCst);
        shared.generation.fetch_add(1, Ordering::SeqCst);

        struct Finish<'a>(&'a Shared);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                let mut idle = Idle::new();
                while self.0.pending.load(Ordering::Acquire) != 0 {
                    idle.wait();
                }
                *self.0.job.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
        }
        let finish = Finish(shared);
        job(0);
        drop(finish);
        if shared.panicked.swap(false, Ordering::SeqCst) {
            panic!("a ziffer worker thread panicked");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

struct SendPtr<P>(*mut P);
impl<P> Clone for SendPtr<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for SendPtr<P> {}
impl<P> SendPtr<P> {
    /// Element `i`; a method, so that closures capture the whole `Send` wrapper.
    fn at(self, i: usize) -> *mut P {
        // SAFETY (for callers): `i` is within the slice the pointer came from.
        self.0.wrapping_add(i)
    }
}
// SAFETY: used to hand each thread its own element of a slice of `Send` parts.
unsafe impl<P: Send> Send for SendPtr<P> {}
unsafe impl<P: Send> Sync for SendPtr<P> {}

/// Thread `index` of a team: runs its part of each job. It starts from generation 0, not from
/// whatever the counter holds when the thread gets going, or it would miss a job started before.
fn worker(index: usize, shared: &Shared) {
    let mut seen = 0;
    loop {
        let mut idle = Idle::new();
        let current = loop {
            let g = shared.generation.load(Ordering::Acquire);
            if g != seen {
                break g;
            }
            idle.wait();
        };
        seen = current;
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let job = *shared.job.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(JobPtr(job)) = job {
            // SAFETY: the caller keeps the job alive until `pending` reaches 0.
            let job = unsafe { &*job };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(index))).is_err() {
                shared.panicked.store(true, Ordering::SeqCst);
            }
        }
        shared.pending.fetch_sub(1, Ordering::Release);
    }
}

/// How a thread waits: spin first (work usually comes within microseconds), then yield the core,
/// then, after a millisecond without work, sleep in short naps so an idle team costs nothing.
struct Idle {
    spins: u32,
    since: Option<Instant>,
}

impl Idle {
    fn new() -> Self {
        Idle {
            spins: 0,
            since: None,
        }
    }

    fn wait(&mut self) {
        if self.spins < 4096 {
            self.spins += 1;
            std::hint::spin_loop();
            return;
        }
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() < Duration::from_millis(1) {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// Below this many multiply-adds a layer's work stays on one thread: handing it out and waiting
/// would cost more than it saves.
pub const PARALLEL_MIN_MULTIPLY_ADDS: usize = 64 * 1024;

/// Blocks of rows, at most one per thread, held without allocating for teams of up to 8.
pub type Ranges = SmallVec<[Range<usize>; 8]>;

/// Mutable pieces of one buffer, one per block of rows.
pub type Blocks<'a> = SmallVec<[&'a mut [f32]; 8]>;

impl Team {
    /// How to split `rows` rows of work costing `multiply_adds` in all: one block per thread
    /// (none empty), or the single block `0..rows` when the work is too small to share.
    pub fn row_ranges(&self, rows: usize, multiply_adds: usize) -> Ranges {
        let parts = if multiply_adds < PARALLEL_MIN_MULTIPLY_ADDS {
            1
        } else {
            self.threads.min(rows).max(1)
        };
        (0..parts).map(|p| split_rows(rows, parts, p)).collect()
    }
}

/// Cuts `buffer`, rows of `row_len` values, into the blocks `ranges` (in order, adjoining, from
/// row 0): `&mut` pieces that different threads may write at once.
pub fn row_blocks<'a>(
    buffer: &'a mut [f32],
    row_len: usize,
    ranges: &[Range<usize>],
) -> Blocks<'a> {
    let mut rest = buffer;
    let mut blocks = Blocks::new();
    for range in ranges {
        let (block, tail) = std::mem::take(&mut rest).split_at_mut(range.len() * row_len);
        blocks.push(block);
        rest = tail;
    }
    blocks
}

/// The rows of part `part` when `rows` rows are split into `parts` nearly equal blocks, in order:
/// 10 rows in 3 parts are `0..4`, `4..7`, `7..10`.
pub fn split_rows(rows: usize, parts: usize, part: usize) -> Range<usize> {
    (part * rows / parts)..((part + 1) * rows / parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once_on_its_own_thread() {
        let team = Team::new(3).unwrap();
        let mut parts: Vec<(usize, Option<String>)> = (0..3).map(|i| (i, None)).collect();
        for _ in 0..1000 {
            team.for_each(&mut parts, |(_, name)| {
                *name = std::thread::current().name().map(String::from);
            });
        }
        assert_eq!(parts[1].1.as_deref(), Some("ziffer-1"));
        assert_eq!(parts[2].1.as_deref(), Some("ziffer-2"));
        assert_ne!(parts[0].1.as_deref(), Some("ziffer-1"));
    }

    #[test]
    fn a_job_given_right_after_the_team_starts_reaches_every_worker() {
        // Workers once read the job counter when their thread got going, and so missed a job
        // given before that: the caller then waited for ever. A watchdog turns a hang into a
        // failure.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..300 {
                let team = Team::new(3).unwrap();
                let mut parts = [0, 0, 0];
                team.for_each(&mut parts, |p| *p = 1);
                assert_eq!(parts, [1, 1, 1]);
            }
            done.send(()).unwrap();
        });
        let result = finished.recv_timeout(Duration::from_secs(60));
        assert!(result.is_ok(), "a job never finished");
    }

    #[test]
    fn for_each_sees_the_writes_of_every_part() {
        let team = Team::new(2).unwrap();
        let mut data = vec![0u64; 1000];
        for round in 1..=200u64 {
            let (a, b) = data.split_at_mut(500);
            let mut parts = [a, b];
            team.for_each(&mut parts, |block| {
                for v in block.iter_mut() {
                    *v += round;
                }
            });
        }
        assert!(data.iter().all(|&v| v == 200 * 201 / 2));
    }

    #[test]
    fn fewer_parts_than_threads_is_fine() {
        let team = Team::new(4).unwrap();
        let mut parts = [1, 2];
        team.for_each(&mut parts, |p| *p *= 10);
        assert_eq!(parts, [10, 20]);
    }

    #[test]
    fn a_panicking_part_panics_the_caller_and_the_team_still_works() {
        let team = Team::new(2).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut parts = [0, 1];
            team.for_each(&mut parts, |p| assert_eq!(*p, 0, "part {p} fails"));
        }));
        assert!(result.is_err());
        let mut parts = [0, 0];
        team.for_each(&mut parts, |p| *p = 7);
        assert_eq!(parts, [7, 7]);
    }

    #[test]
    fn small_work_stays_in_one_block() {
        let team = Team::new(2).unwrap();
        assert_eq!(team.row_ranges(10, 100).to_vec(), vec![0..10]);
        assert_eq!(team.row_ranges(10, 1 << 20).as_slice(), [0..5, 5..10]);
        assert_eq!(team.row_ranges(1, 1 << 20).to_vec(), vec![0..1]);
        let mut buffer = [0.0; 30];
        let blocks = row_blocks(&mut buffer, 3, &[0..5, 5..10]);
        assert_eq!(blocks.iter().map(|b| b.len()).collect::<Vec<_>>(), [15, 15]);
    }

    #[test]
    fn rows_are_split_into_nearly_equal_ordered_blocks() {
        let blocks: Vec<_> = (0..3).map(|p| split_rows(10, 3, p)).collect();
        assert_eq!(blocks, [0..3, 3..6, 6..10]);
        assert_eq!(split_rows(1, 2, 0), 0..0);
    }
}
