//! NVDEC decoder objects kept for reuse after their session closed.
//!
//! Creating a `CUvideodecoder` takes ~37 ms on an H200 (~49 ms while other sessions decode,
//! and the driver creates one at a time) and destroying one ~25 ms: most of a warm open's
//! 41 ms to first frame, and a cost a service pays again at every stream restart. A
//! session that ends cleanly (no call failed, every picture it decoded was displayed)
//! parks its decoder here; the next session on the same GPU and context whose stream has
//! the same codec, chroma format and bit depth, fits the decoder's maximum size and needs
//! no more surfaces takes it and, if the size differs, moves it there with
//! `cuvidReconfigureDecoder` (what NVIDIA's `AppDecMultiFiles` sample does to decode many
//! files with one decoder).
//!
//! Bounded: at most [`kept_per_gpu`] decoders per GPU (`VIDEO_HW_NVDEC_KEEP`; by default as
//! many as the most sessions open at once on the GPU so far, and at least one per NVDEC
//! engine and 4; 0 turns parking off, as does a closer thread that could not be started),
//! each destroyed after [`IDLE`] unused (the closer
//! thread checks every second), and all of them by
//! `diagnostics::release_parked_nvdec_decoders`, so leak checks read sessions and memory as
//! with nothing open.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::super::cuda::Context;
use super::hw::{HwDecoder, Shape};

/// How long a parked decoder waits for a new session before it is destroyed.
pub(crate) const IDLE: Duration = Duration::from_secs(5);

/// What a parked item offers to a new session.
pub(crate) trait Reusable {
    /// The GPU and CUDA context (raw handle as an integer) it belongs to.
    fn home(&self) -> (u32, usize);
    /// Whether it can decode a sequence of `shape` at `width` x `height` with `surfaces`
    /// decode surfaces.
    fn fits(&self, shape: Shape, width: u32, height: u32, surfaces: u32) -> bool;
}

/// The GPU ordinal and context handle (as an integer) that identify where a decoder of
/// `ctx` can be reused.
pub(crate) fn home_of(ctx: &Context) -> (u32, usize) {
    (ctx.device().ordinal(), ctx.raw() as usize)
}

impl Reusable for HwDecoder {
    fn home(&self) -> (u32, usize) {
        home_of(self.ctx())
    }

    fn fits(&self, shape: Shape, width: u32, height: u32, surfaces: u32) -> bool {
        self.shape == shape && width <= self.max_width && height <= self.max_height && surfaces <= self.surfaces
    }
}

/// Parked items, most recently parked last.
pub(crate) struct Pool<T> {
    parked: Vec<(Instant, T)>,
}

impl<T: Reusable> Pool<T> {
    pub(crate) const fn new() -> Self {
        Pool { parked: Vec::new() }
    }

    /// Parks `item` unless its GPU already has `limit` parked; gives it back then.
    pub(crate) fn park(&mut self, item: T, limit: usize, now: Instant) -> Option<T> {
        let gpu = item.home().0;
        if self.parked.iter().filter(|(_, p)| p.home().0 == gpu).count() >= limit {
            return Some(item);
        }
        self.parked.push((now, item));
        None
    }

    /// The most recently parked item of `home` that fits, taken out.
    pub(crate) fn take(
        &mut self,
        home: (u32, usize),
        shape: Shape,
        width: u32,
        height: u32,
        surfaces: u32,
    ) -> Option<T> {
        let i = self.parked.iter().rposition(|(_, p)| p.home() == home && p.fits(shape, width, height, surfaces))?;
        Some(self.parked.remove(i).1)
    }

    /// Takes out the items parked for `idle` or longer at `now`.
    pub(crate) fn expired(&mut self, now: Instant, idle: Duration) -> Vec<T> {
        let (old, young): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.parked).into_iter().partition(|(t, _)| now.saturating_duration_since(*t) >= idle);
        self.parked = young;
        old.into_iter().map(|(_, p)| p).collect()
    }

    /// Takes out every item.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        std::mem::take(&mut self.parked).into_iter().map(|(_, p)| p).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.parked.len()
    }
}

static PARKED: Mutex<Pool<HwDecoder>> = Mutex::new(Pool::new());

fn pool() -> std::sync::MutexGuard<'static, Pool<HwDecoder>> {
    PARKED.lock().unwrap_or_else(|p| p.into_inner())
}

/// The most NVDEC sessions seen open at once on each GPU (GPUs past the table are not
/// counted: 64 is more than any machine has).
static PEAK_SESSIONS: [AtomicUsize; 64] = [const { AtomicUsize::new(0) }; 64];

/// Notes that `open` sessions are open on GPU `gpu` now (called as each session opens).
pub(crate) fn note_open_sessions(gpu: u32, open: usize) {
    if let Some(peak) = PEAK_SESSIONS.get(gpu as usize) {
        peak.fetch_max(open, Ordering::Relaxed);
    }
}

/// Decoders kept for GPU `gpu` with `engines` NVDEC engines: `VIDEO_HW_NVDEC_KEEP` when set
/// (0 turns parking off); 0 when there is no closer thread to retire them; else
/// [`default_keep`].
pub(crate) fn kept_per_gpu(gpu: u32, engines: u8) -> usize {
    let set = crate::env::settings().nvdec_keep;
    if !super::background_close::running() {
        return 0;
    }
    let peak = PEAK_SESSIONS.get(gpu as usize).map_or(0, |p| p.load(Ordering::Relaxed));
    set.unwrap_or_else(|| default_keep(engines, peak))
}

/// As many decoders as the most sessions open at once so far (`peak`): a caller that
/// closes that many sessions and opens as many again (`decode_many`'s two files per engine,
/// file after file) finds a decoder for each, where keeping fewer made every new file
/// past them wait ~40 ms for a creation and slowed the sessions decoding. At least one
/// per engine and [`DEFAULT_KEEP`], so that a service restarting as many streams as the GPU
/// has engines finds one for each. A 1080p decoder holds ~60-100 MiB, for at most [`IDLE`].
fn default_keep(engines: u8, peak: usize) -> usize {
    usize::from(engines).max(DEFAULT_KEEP).max(peak)
}

/// Fewest decoders kept per GPU by default (GPUs with fewer NVDEC engines).
const DEFAULT_KEEP: usize = 4;

/// Parks `dec` for a later session, or destroys it (here) when its GPU, which has
/// `engines` NVDEC engines, has enough parked (or parking is off).
pub(crate) fn park(dec: HwDecoder, engines: u8) {
    // Dropped after the lock is released: a destroy takes ~25 ms.
    drop(try_park(dec, engines));
}

/// Parks `dec` for a later session; gives it back when its GPU, which has `engines` NVDEC
/// engines, has enough parked (or parking is off), for the caller to destroy where it
/// likes (a closing session: on the closer thread).
pub(crate) fn try_park(dec: HwDecoder, engines: u8) -> Option<HwDecoder> {
    // Past the GPU memory budget a decoder is not kept: its surfaces go back now. And a
    // job that finds no room under the budget has the parked ones let go first.
    if crate::gpu_memory::over_budget(dec.home().0) {
        return Some(dec);
    }
    crate::gpu_memory::add_reclaimer(release_on_gpu);
    let limit = kept_per_gpu(dec.home().0, engines);
    pool().park(dec, limit, Instant::now())
}

/// A parked decoder for a sequence of `shape` at `width` x `height` needing `surfaces`
/// decode surfaces on the GPU and context `home`, if one fits.
pub(crate) fn take(home: (u32, usize), shape: Shape, width: u32, height: u32, surfaces: u32) -> Option<HwDecoder> {
    pool().take(home, shape, width, height, surfaces)
}

/// Held while parked decoders are being destroyed, so that [`release_all`] returns only
/// once an expiry running beside it has finished too (leak checks count right after it).
static RELEASING: Mutex<()> = Mutex::new(());

fn releasing() -> std::sync::MutexGuard<'static, ()> {
    RELEASING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Destroys the decoders parked for [`IDLE`] or longer (called by the closer thread).
pub(crate) fn release_expired() {
    let _releasing = releasing();
    let expired = pool().expired(Instant::now(), IDLE);
    drop(expired);
}

/// Parked this long unused, a decoder is no longer waiting for the next file of a
/// running job (`decode_many` takes one back within milliseconds): under memory pressure it
/// goes.
const PRESSURE_IDLE: Duration = Duration::from_millis(500);

/// Destroys the decoders parked on GPU `gpu` for [`PRESSURE_IDLE`] or longer (a job there
/// found no room under the GPU memory budget; `crate::gpu_memory::add_reclaimer`). Those
/// parked just now stay: the files in flight take them back.
fn release_on_gpu(gpu: u32) {
    let _releasing = releasing();
    let mine = {
        let mut p = pool();
        let now = Instant::now();
        let idle = p.expired(now, PRESSURE_IDLE);
        let (mine, others): (Vec<_>, Vec<_>) = idle.into_iter().partition(|d| d.home().0 == gpu);
        for d in others {
            // Another GPU's: parked again (its idle clock restarts, which only keeps it longer).
            let _ = p.park(d, usize::MAX, now);
        }
        mine
    };
    if super::background_close::forked_child() {
        std::mem::forget(mine);
    } else {
        drop(mine);
    }
}

/// Destroys every parked decoder (after any expiry under way); how many there were.
pub(crate) fn release_all() -> usize {
    let _releasing = releasing();
    let all = pool().drain();
    let n = all.len();
    if n > 0 && super::background_close::forked_child() {
        // A child forked after its parent parked these: they are the parent's, and the
        // driver does not work here. Forgotten, not destroyed.
        std::mem::forget(all);
        return n;
    }
    drop(all);
    n
}

/// Decoders parked now.
pub(crate) fn parked() -> usize {
    pool().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::nvidia::sys::cuvid::*;

    #[derive(Debug, PartialEq)]
    struct Fake {
        gpu: u32,
        ctx: usize,
        shape: Shape,
        max: (u32, u32),
        surfaces: u32,
        id: u32,
    }

    impl Reusable for Fake {
        fn home(&self) -> (u32, usize) {
            (self.gpu, self.ctx)
        }
        fn fits(&self, shape: Shape, width: u32, height: u32, surfaces: u32) -> bool {
            self.shape == shape && width <= self.max.0 && height <= self.max.1 && surfaces <= self.surfaces
        }
    }

    fn shape(codec: cudaVideoCodec, depth: u32) -> Shape {
        Shape {
            codec,
            chroma: cudaVideoChromaFormat_420,
            bit_depth_minus8: depth - 8,
            surface_format: if depth > 8 { cudaVideoSurfaceFormat_P016 } else { cudaVideoSurfaceFormat_NV12 },
        }
    }

    fn fake(gpu: u32, id: u32) -> Fake {
        Fake { gpu, ctx: 7, shape: shape(cudaVideoCodec_HEVC, 8), max: (1920, 1088), surfaces: 12, id }
    }

    #[test]
    fn takes_the_latest_fitting_decoder_of_the_same_gpu_and_context() {
        let mut pool = Pool::new();
        let t = Instant::now();
        assert!(pool.park(fake(0, 1), 4, t).is_none());
        assert!(pool.park(fake(0, 2), 4, t).is_none());
        assert!(pool.park(fake(1, 3), 4, t).is_none());
        let hevc = shape(cudaVideoCodec_HEVC, 8);
        // Other codec, bit depth, context, larger size, more surfaces: nothing fits.
        assert!(pool.take((0, 7), shape(cudaVideoCodec_H264, 8), 1920, 1080, 10).is_none());
        assert!(pool.take((0, 7), shape(cudaVideoCodec_HEVC, 10), 1920, 1080, 10).is_none());
        assert!(pool.take((0, 8), hevc, 1920, 1080, 10).is_none());
        assert!(pool.take((0, 7), hevc, 3840, 2160, 10).is_none());
        assert!(pool.take((0, 7), hevc, 1920, 1080, 13).is_none());
        // Smaller fits (reconfigured down); the most recently parked first.
        assert_eq!(pool.take((0, 7), hevc, 1280, 720, 12).map(|f| f.id), Some(2));
        assert_eq!(pool.take((0, 7), hevc, 1920, 1080, 8).map(|f| f.id), Some(1));
        assert!(pool.take((0, 7), hevc, 1920, 1080, 8).is_none());
        assert_eq!(pool.take((1, 7), hevc, 1920, 1080, 8).map(|f| f.id), Some(3));
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn parks_at_most_the_limit_per_gpu_and_gives_the_rest_back() {
        let mut pool = Pool::new();
        let t = Instant::now();
        assert!(pool.park(fake(0, 1), 2, t).is_none());
        assert!(pool.park(fake(0, 2), 2, t).is_none());
        assert_eq!(pool.park(fake(0, 3), 2, t).map(|f| f.id), Some(3));
        assert!(pool.park(fake(1, 4), 2, t).is_none(), "another GPU has its own room");
        assert_eq!(pool.park(fake(0, 5), 0, t).map(|f| f.id), Some(5), "limit 0: parking off");
        assert_eq!(pool.len(), 3);
        assert_eq!(pool.drain().len(), 3);
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn releases_what_waited_too_long() {
        let mut pool = Pool::new();
        let t0 = Instant::now();
        assert!(pool.park(fake(0, 1), 4, t0).is_none());
        assert!(pool.park(fake(0, 2), 4, t0 + Duration::from_secs(3)).is_none());
        assert!(pool.expired(t0 + Duration::from_secs(4), IDLE).is_empty());
        let gone: Vec<u32> = pool.expired(t0 + Duration::from_secs(6), IDLE).into_iter().map(|f| f.id).collect();
        assert_eq!(gone, vec![1]);
        assert_eq!(pool.expired(t0 + Duration::from_secs(9), IDLE).len(), 1);
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn as_many_kept_as_sessions_were_open_at_once() {
        assert_eq!(default_keep(7, 0), 7);
        assert_eq!(default_keep(2, 1), DEFAULT_KEEP);
        assert_eq!(default_keep(7, 14), 14, "two files per engine at once: fourteen kept");
    }
}
