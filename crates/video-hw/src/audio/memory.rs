//! Memory for decoded samples: large buffers are asked for in huge pages.
//!
//! Why: a whole track is large (10 minutes of 48 kHz stereo is 230 MB of `f32`), and the
//! kernel hands fresh memory over a 4 KiB page at a time: 56,000 page faults, measured at
//! about as much time as FFmpeg's AAC decoder takes for the track. Transparent huge
//! pages (2 MiB), where the kernel offers them for memory that asks (`madvise` mode, a
//! common default), cut the faults 500-fold. Elsewhere the advice is ignored.

/// Buffers from this size on are advised as huge pages (smaller ones gain little). Linux
/// only, as the advice is.
#[cfg(target_os = "linux")]
const HUGE_FROM_BYTES: usize = 8 << 20;

/// A planar result written as it is decoded: `channels` rows of up to `cap` samples in one
/// buffer, row `c` from `c * cap` on. Each channel's samples go straight to where they end
/// up, so a whole track is written once into memory of its size, rather than decoded into
/// one buffer per channel and then joined (half as much memory again, faulted in and
/// copied). The rows close up at the end when fewer samples came than room was made for.
pub(crate) struct PlanarOut {
    data: Vec<f32>,
    cap: usize,
    channels: usize,
    filled: usize,
}

impl PlanarOut {
    /// Room for `cap` samples of `channels` channels (grown if more come).
    pub(crate) fn new(channels: usize, cap: usize) -> PlanarOut {
        PlanarOut { data: zeroed_samples(channels * cap), cap, channels, filled: 0 }
    }

    /// Samples per channel written so far.
    pub(crate) fn frames(&self) -> usize {
        self.filled
    }

    /// Appends samples `a..b` of each of `planes` (a channel missing from them stays
    /// silent).
    pub(crate) fn push(&mut self, planes: &[Vec<f32>], a: usize, b: usize) {
        let n = b.saturating_sub(a);
        if self.filled + n > self.cap {
            self.grow((self.filled + n).max(self.cap.saturating_mul(2)));
        }
        for (c, plane) in planes.iter().enumerate().take(self.channels) {
            let at = c * self.cap + self.filled;
            self.data[at..at + n].copy_from_slice(&plane[a..b]);
        }
        self.filled += n;
    }

    /// Moves the rows into a buffer with room for `cap` samples each (more came than
    /// the track's stated length: a rare copy).
    fn grow(&mut self, cap: usize) {
        let mut data = zeroed_samples(self.channels * cap);
        for c in 0..self.channels {
            data[c * cap..c * cap + self.filled].copy_from_slice(&self.data[c * self.cap..c * self.cap + self.filled]);
        }
        self.data = data;
        self.cap = cap;
    }

    /// The samples, channel after channel (`channels` rows of [`frames`](Self::frames)).
    pub(crate) fn finish(mut self) -> Vec<f32> {
        if self.filled < self.cap {
            for c in 1..self.channels {
                self.data.copy_within(c * self.cap..c * self.cap + self.filled, c * self.filled);
            }
        }
        self.data.truncate(self.channels * self.filled);
        self.data
    }
}

/// `n` zero samples, in memory that is faulted in only as it is written (a large zeroed
/// allocation is fresh pages the kernel zeroes, not a pass over them here), advised as
/// huge pages where large.
fn zeroed_samples(n: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; n];
    let start = v.as_mut_ptr() as usize;
    advise_huge(start, n * std::mem::size_of::<f32>());
    v
}

/// Makes room in `v` for `additional` more samples (the exact amount, as
/// [`Vec::reserve_exact`]); new memory of a large buffer is advised as huge pages.
pub(crate) fn reserve_samples(v: &mut Vec<f32>, additional: usize) {
    let before = v.capacity();
    v.reserve_exact(additional);
    if v.capacity() != before {
        let bytes = (v.capacity() - v.len()) * std::mem::size_of::<f32>();
        advise_huge(v.spare_capacity_mut().as_mut_ptr() as usize, bytes);
    }
}

/// Advises `bytes` bytes of a buffer of ours from address `start` as huge pages, where
/// they are many enough.
#[cfg(target_os = "linux")]
fn advise_huge(start: usize, bytes: usize) {
    const PAGE: usize = 4096;
    if bytes < HUGE_FROM_BYTES {
        return;
    }
    // Whole pages inside the buffer: the advice applies to pages, and none outside this
    // buffer is touched.
    let first = start.next_multiple_of(PAGE);
    let last = (start + bytes) / PAGE * PAGE;
    if last > first {
        // SAFETY: `[first, last)` lies inside a buffer the caller owns and keeps mapped
        // (rounded inward to pages); MADV_HUGEPAGE is advice about how to back those
        // pages, changes no contents and no mapping's validity, and a refusal (a kernel
        // without huge pages) is ignored.
        unsafe {
            libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_start: usize, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserving_keeps_the_samples_and_makes_the_room() {
        let mut v = vec![1.0f32, 2.0];
        reserve_samples(&mut v, 4 << 20);
        assert!(v.capacity() >= 2 + (4 << 20));
        assert_eq!(v, [1.0, 2.0]);
        v.resize(3 << 20, 0.5);
        assert_eq!(v[..3], [1.0, 2.0, 0.5]);
        reserve_samples(&mut v, 1);
        assert_eq!(v.len(), 3 << 20);
    }

    #[test]
    fn planar_out_closes_up_its_rows_and_grows() {
        let planes = vec![vec![1.0f32, 2.0, 3.0], vec![-1.0, -2.0, -3.0]];
        // Fewer samples than room: the rows close up.
        let mut out = PlanarOut::new(2, 10);
        out.push(&planes, 0, 2);
        out.push(&planes, 2, 3);
        assert_eq!(out.frames(), 3);
        assert_eq!(out.finish(), [1.0, 2.0, 3.0, -1.0, -2.0, -3.0]);
        // More than room: grown, nothing lost.
        let mut out = PlanarOut::new(2, 1);
        out.push(&planes, 0, 1);
        out.push(&planes, 1, 3);
        out.push(&planes, 0, 3);
        assert_eq!(out.finish(), [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, -1.0, -2.0, -3.0, -1.0, -2.0, -3.0]);
        // Exactly full; no samples at all.
        let mut out = PlanarOut::new(2, 3);
        out.push(&planes, 0, 3);
        assert_eq!(out.finish(), [1.0, 2.0, 3.0, -1.0, -2.0, -3.0]);
        assert!(PlanarOut::new(2, 0).finish().is_empty());
    }
}
