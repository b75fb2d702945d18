//! GPU memory this process's sessions hold, per GPU and by use, and the budget that bounds
//! it.
//!
//! Why: a training process's GPU memory belongs to its model. A decoder that takes what it
//! finds (read-ahead sized from the free memory, pools of reused frame buffers, a decoder
//! per file in flight) leaves the model less, and when many files decode at once
//! (`decode_many`) the sum was 5.5x PyNvVideoCodec's on the same job. So every device
//! allocation of the engines is counted here ([`Charge`], by [`MemoryUse`]), and a budget
//! ([`limit`], `VIDEO_HW_MAX_GPU_MEMORY`, `max_gpu_memory=` in Python) decides how much
//! work may run at once: a job (one file of `decode_many`, a reader's read-ahead) is
//! admitted ([`admit`]) only while what is held plus what the jobs in flight may still
//! take fits. Past the budget work waits (backpressure); it never fails for it, and the
//! oldest job always runs, so one job larger than the budget still completes alone.
//!
//! What counts against the budget: everything charged except [`MemoryUse::Delivered`],
//! the batches handed to the caller, which are the caller's to keep or drop (as
//! PyNvVideoCodec's or torch's outputs are). Delivered memory is reported beside it.
//! Memory the CUDA driver takes for itself (the context, ~0.5 GB) is not ours to count.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// GPUs counted apart; a higher ordinal shares the last slot (counted, not told apart).
const MAX_GPUS: usize = 16;

/// What a charged allocation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemoryUse {
    /// Decoded pictures in device memory: a session's output frames, ring slots and the
    /// buffers pooled for reuse.
    Frames,
    /// Outputs and tables of transforms on the GPU (colour conversion, resize).
    Transforms,
    /// Scratch and staging buffers of copies.
    Staging,
    /// Hardware decoder objects (their decode and output surfaces), parked ones too.
    Decoders,
    /// Encoder input buffers.
    Encoders,
    /// Batches handed to the caller (not counted against the budget).
    Delivered,
}

impl MemoryUse {
    /// Every use, in the order of [`GpuMemory::by_use`].
    pub const ALL: [MemoryUse; 6] = [
        MemoryUse::Frames,
        MemoryUse::Transforms,
        MemoryUse::Staging,
        MemoryUse::Decoders,
        MemoryUse::Encoders,
        MemoryUse::Delivered,
    ];

    /// Its name in stats and metrics.
    pub fn name(self) -> &'static str {
        match self {
            MemoryUse::Frames => "frames",
            MemoryUse::Transforms => "transforms",
            MemoryUse::Staging => "staging",
            MemoryUse::Decoders => "decoders",
            MemoryUse::Encoders => "encoders",
            MemoryUse::Delivered => "delivered",
        }
    }

    fn slot(self) -> usize {
        MemoryUse::ALL.iter().position(|u| *u == self).unwrap_or(0)
    }
}

/// One GPU's figures, as [`usage`] reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GpuMemory {
    /// Bytes held now that count against the budget (everything but delivered batches).
    pub in_use: u64,
    /// The most `in_use` has been (since the process started or [`reset_peak`]).
    pub peak: u64,
    /// Bytes of batches handed to the caller and still alive.
    pub delivered: u64,
    /// The most held in all, delivered batches included.
    pub peak_with_delivered: u64,
    /// Bytes held now by use, in the order of [`MemoryUse::ALL`].
    pub by_use: Vec<(MemoryUse, u64)>,
    /// The budget in force on this GPU (`None`: unbounded).
    pub limit: Option<u64>,
    /// Jobs that waited for memory before they were admitted, and how long in all.
    pub waits: u64,
    /// Time spent waiting for admission, all jobs together.
    pub waited: Duration,
}

#[derive(Default)]
struct Gpu {
    by_use: [AtomicU64; 6],
    peak: AtomicU64,
    peak_all: AtomicU64,
}

impl Gpu {
    fn budgeted(&self) -> u64 {
        MemoryUse::ALL
            .iter()
            .filter(|u| **u != MemoryUse::Delivered)
            .map(|u| self.by_use[u.slot()].load(Ordering::SeqCst))
            .sum()
    }

    fn all(&self) -> u64 {
        self.by_use.iter().map(|a| a.load(Ordering::SeqCst)).sum()
    }
}

/// The jobs admitted on one GPU and those waiting.
#[derive(Default)]
struct Admissions {
    /// The jobs in flight: what each reserved, and what it holds now.
    in_flight: Vec<Arc<JobState>>,
    /// Tickets of the jobs waiting, first come first served.
    queue: std::collections::VecDeque<u64>,
    next_ticket: u64,
    waits: u64,
    waited: Duration,
}

struct Ledger {
    gpus: [Gpu; MAX_GPUS],
    /// Bytes per GPU (0: unbounded) set by [`set_limit`]; `u64::MAX`: not set (the
    /// environment's or the default applies).
    limits: [AtomicU64; MAX_GPUS],
    admissions: Mutex<[Admissions; MAX_GPUS]>,
    changed: Condvar,
}

fn ledger() -> &'static Ledger {
    static LEDGER: std::sync::OnceLock<Ledger> = std::sync::OnceLock::new();
    LEDGER.get_or_init(|| Ledger {
        gpus: Default::default(),
        limits: std::array::from_fn(|_| AtomicU64::new(u64::MAX)),
        admissions: Mutex::new(Default::default()),
        changed: Condvar::new(),
    })
}

fn slot(device: u32) -> usize {
    (device as usize).min(MAX_GPUS - 1)
}

/// What one job (admitted by [`admit`]) reserved and holds.
struct JobState {
    reserved: u64,
    used: AtomicU64,
    /// The most `used` has been.
    peak: AtomicU64,
}

impl JobState {
    /// What the job may still take of its reservation.
    fn unused(&self) -> u64 {
        self.reserved.saturating_sub(self.used.load(Ordering::SeqCst))
    }
}

thread_local! {
    /// The job the allocations of this thread are made for (see [`Job::enter`]).
    static CURRENT: RefCell<Option<Arc<JobState>>> = const { RefCell::new(None) };
}

/// Device memory counted while this lives (held by the allocation it stands for).
#[derive(Debug)]
pub struct Charge {
    gpu: usize,
    use_: MemoryUse,
    bytes: u64,
    job: Option<Arc<JobStateHandle>>,
}

/// A job's state as a charge keeps it (a newtype so that `Charge` can derive `Debug`).
struct JobStateHandle(Arc<JobState>);

impl std::fmt::Debug for JobStateHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobState")
    }
}

/// Counts `bytes` of device memory on GPU `device` for `use_` until the returned charge
/// drops; made within a job ([`Job::enter`]) it counts towards that job's reservation.
pub fn charge(device: u32, use_: MemoryUse, bytes: u64) -> Charge {
    let gpu = slot(device);
    let l = ledger();
    let g = &l.gpus[gpu];
    g.by_use[use_.slot()].fetch_add(bytes, Ordering::SeqCst);
    g.peak.fetch_max(g.budgeted(), Ordering::SeqCst);
    g.peak_all.fetch_max(g.all(), Ordering::SeqCst);
    let job = if use_ == MemoryUse::Delivered {
        None
    } else {
        CURRENT.with(|c| c.borrow().clone()).map(|j| {
            let now = j.used.fetch_add(bytes, Ordering::SeqCst) + bytes;
            j.peak.fetch_max(now, Ordering::SeqCst);
            Arc::new(JobStateHandle(j))
        })
    };
    Charge { gpu, use_, bytes, job }
}

impl Charge {
    /// The bytes counted.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Counts the same bytes under another use from now on (a batch handed to the caller).
    pub fn move_to(&mut self, use_: MemoryUse) {
        if use_ == self.use_ {
            return;
        }
        let g = &ledger().gpus[self.gpu];
        g.by_use[use_.slot()].fetch_add(self.bytes, Ordering::SeqCst);
        g.by_use[self.use_.slot()].fetch_sub(self.bytes, Ordering::SeqCst);
        self.use_ = use_;
        if use_ == MemoryUse::Delivered {
            if let Some(j) = self.job.take() {
                j.0.used.fetch_sub(self.bytes, Ordering::SeqCst);
            }
            wake();
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        ledger().gpus[self.gpu].by_use[self.use_.slot()].fetch_sub(self.bytes, Ordering::SeqCst);
        if let Some(j) = self.job.take() {
            j.0.used.fetch_sub(self.bytes, Ordering::SeqCst);
        }
        wake();
    }
}

/// Wakes the jobs waiting for admission (memory was freed or a job ended). Cheap when
/// none waits: the condition variable's notify without waiters is a load.
fn wake() {
    ledger().changed.notify_all();
}

/// Sets the budget of every GPU: `Some(bytes)` bounds what this process's sessions hold
/// (delivered batches aside), `None` goes back to `VIDEO_HW_MAX_GPU_MEMORY` or the default.
/// Process-wide: `max_gpu_memory=` of one call overrides it for that call's jobs.
pub fn set_limit(bytes: Option<u64>) {
    let l = ledger();
    for a in &l.limits {
        a.store(bytes.unwrap_or(u64::MAX), Ordering::SeqCst);
    }
    wake();
}

/// The budget in force on GPU `device`: [`set_limit`]'s, else `VIDEO_HW_MAX_GPU_MEMORY`'s
/// (bytes, or with a `K`/`M`/`G` suffix; `0`/`none`: unbounded), else none.
pub fn limit(device: u32) -> Option<u64> {
    match ledger().limits[slot(device)].load(Ordering::SeqCst) {
        u64::MAX => crate::env::settings().max_gpu_memory,
        0 => None,
        n => Some(n),
    }
}

/// GPU `device`'s figures now.
pub fn usage(device: u32) -> GpuMemory {
    let gpu = slot(device);
    let l = ledger();
    let g = &l.gpus[gpu];
    let by_use: Vec<(MemoryUse, u64)> =
        MemoryUse::ALL.iter().map(|u| (*u, g.by_use[u.slot()].load(Ordering::SeqCst))).collect();
    let a = l.admissions.lock().unwrap_or_else(|p| p.into_inner());
    GpuMemory {
        in_use: g.budgeted(),
        peak: g.peak.load(Ordering::SeqCst),
        delivered: g.by_use[MemoryUse::Delivered.slot()].load(Ordering::SeqCst),
        peak_with_delivered: g.peak_all.load(Ordering::SeqCst),
        by_use,
        limit: limit(device),
        waits: a[gpu].waits,
        waited: a[gpu].waited,
    }
}

/// Starts the peaks of GPU `device` again from what is held now.
pub fn reset_peak(device: u32) {
    let g = &ledger().gpus[slot(device)];
    g.peak.store(g.budgeted(), Ordering::SeqCst);
    g.peak_all.store(g.all(), Ordering::SeqCst);
}

/// A job admitted by [`admit`]: in flight until dropped.
pub struct Job {
    gpu: usize,
    state: Arc<JobState>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("reserved", &self.state.reserved)
            .field("used", &self.state.used.load(Ordering::SeqCst))
            .finish()
    }
}

/// Admits a job that may take up to `reserve` bytes on GPU `device` under `budget` (`None`:
/// [`limit`]'s; `Some(0)`: none): at once while what the GPU holds, plus what the jobs in flight may still
/// take of their reservations, plus `reserve`, fits; else it waits, first come first
/// served, until it fits or no other job is in flight (a job alone always runs). `stop` is
/// asked between waits (every 50 ms): true gives `None` (an interrupted caller).
pub fn admit(device: u32, reserve: u64, budget: Option<u64>, stop: &mut dyn FnMut() -> bool) -> Option<Job> {
    let gpu = slot(device);
    let l = ledger();
    let budget = job_budget(device, budget);
    let state = Arc::new(JobState { reserved: reserve, used: AtomicU64::new(0), peak: AtomicU64::new(0) });
    let mut a = l.admissions.lock().unwrap_or_else(|p| p.into_inner());
    let ticket = a[gpu].next_ticket;
    a[gpu].next_ticket += 1;
    a[gpu].queue.push_back(ticket);
    let mut started: Option<Instant> = None;
    loop {
        let first = a[gpu].queue.front() == Some(&ticket);
        if first && (a[gpu].in_flight.is_empty() || fits(l, gpu, &a[gpu], reserve, budget)) {
            break;
        }
        if stop() {
            a[gpu].queue.retain(|t| *t != ticket);
            drop(a);
            wake();
            return None;
        }
        if first && started.is_none() {
            // No room: what is kept only for reuse goes first (its owners free it outside
            // the ledger's lock), then the fit is asked again.
            drop(a);
            reclaim(device);
            a = l.admissions.lock().unwrap_or_else(|p| p.into_inner());
            started = Some(Instant::now());
            continue;
        }
        started.get_or_insert_with(Instant::now);
        a = l.changed.wait_timeout(a, Duration::from_millis(50)).unwrap_or_else(|p| p.into_inner()).0;
    }
    a[gpu].queue.pop_front();
    if let Some(t) = started {
        a[gpu].waits += 1;
        a[gpu].waited += t.elapsed();
    }
    a[gpu].in_flight.push(state.clone());
    drop(a);
    // The next in the queue may fit too.
    wake();
    Some(Job { gpu, state })
}

/// Whether a job reserving `reserve` bytes on GPU `device` would be admitted at once by
/// [`admit`] under `budget` (read as [`admit`] reads it): no job waiting, and none in flight
/// or room beside them. A snapshot: what `device="auto"` asks before it routes a file to a
/// GPU whose budget may be full.
pub fn would_admit_now(device: u32, reserve: u64, budget: Option<u64>) -> bool {
    let gpu = slot(device);
    let l = ledger();
    let Some(budget) = job_budget(device, budget) else { return true };
    let a = l.admissions.lock().unwrap_or_else(|p| p.into_inner());
    a[gpu].queue.is_empty() && (a[gpu].in_flight.is_empty() || fits(l, gpu, &a[gpu], reserve, Some(budget)))
}

/// A job's budget on GPU `device`: its own, else the process's ([`limit`]); `Some(0)` is no
/// budget for this job, whatever the process's.
fn job_budget(device: u32, budget: Option<u64>) -> Option<u64> {
    budget.or_else(|| limit(device)).filter(|b| *b > 0)
}

/// Whether `reserve` more bytes fit `budget` on GPU `gpu` beside what it holds and what the
/// jobs in flight (`a`) may still take of their reservations.
fn fits(l: &Ledger, gpu: usize, a: &Admissions, reserve: u64, budget: Option<u64>) -> bool {
    let Some(b) = budget else { return true };
    let promised: u64 = a.in_flight.iter().map(|j| j.unused()).sum();
    l.gpus[gpu].budgeted().saturating_add(promised).saturating_add(reserve) <= b
}

impl Job {
    /// Counts the device allocations this thread makes, until the guard drops, towards
    /// this job.
    pub fn enter(&self) -> Entered {
        let before = CURRENT.with(|c| c.borrow_mut().replace(self.state.clone()));
        Entered { before }
    }

    /// The bytes this job's allocations hold now.
    pub fn used(&self) -> u64 {
        self.state.used.load(Ordering::SeqCst)
    }

    /// The most this job's allocations held at once: what a job like it should reserve.
    pub fn peak(&self) -> u64 {
        self.state.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let mut a = ledger().admissions.lock().unwrap_or_else(|p| p.into_inner());
        a[self.gpu].in_flight.retain(|j| !Arc::ptr_eq(j, &self.state));
        drop(a);
        wake();
    }
}

/// While alive, this thread's allocations count towards a job (see [`Job::enter`]).
pub struct Entered {
    before: Option<Arc<JobState>>,
}

impl std::fmt::Debug for Entered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Entered")
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let before = self.before.take();
        CURRENT.with(|c| *c.borrow_mut() = before);
    }
}

/// What an engine that keeps memory only for reuse (parked decoders) registers, to let it
/// go on GPU `device` when a job must wait for room ([`add_reclaimer`]).
pub type Reclaim = fn(u32);

fn reclaimers() -> &'static Mutex<Vec<Reclaim>> {
    static RECLAIMERS: Mutex<Vec<Reclaim>> = Mutex::new(Vec::new());
    &RECLAIMERS
}

/// Registers `f`, called (without any lock of the ledger held) when a job on a GPU finds
/// no room: memory kept for reuse goes before work waits. Registering twice is once.
pub fn add_reclaimer(f: Reclaim) {
    let mut list = reclaimers().lock().unwrap_or_else(|p| p.into_inner());
    if !list.iter().any(|g| std::ptr::fn_addr_eq(*g, f)) {
        list.push(f);
    }
}

fn reclaim(device: u32) {
    let list = reclaimers().lock().unwrap_or_else(|p| p.into_inner()).clone();
    for f in list {
        f(device);
    }
}

/// Whether GPU `device` holds more than its budget now: pools of reusable memory (parked
/// decoders, kept frame buffers) give theirs back rather than keep it.
pub fn over_budget(device: u32) -> bool {
    limit(device).is_some_and(|b| ledger().gpus[slot(device)].budgeted() > b)
}

#[cfg(test)]
mod tests;
