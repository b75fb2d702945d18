//! Host frame buffers recycled within the process.
//!
//! Why: a decoder that hands out frames in new memory (NVDEC's copies while the caller
//! holds its page-locked slots, as `FrameReader`'s read-ahead does with thousands of
//! frames) has the kernel fault in and zero every page of every frame, ~3 MB for 1080p,
//! and give it back when the frame drops. A buffer of a dropped frame goes here instead,
//! and the next frame of the same size takes it: its pages are already there.
//!
//! `video-hw decode` on the read-ahead default (7 sessions, host YUV420P to /dev/null, H200,
//! 2026-11-22, 3 runs each, same build, `VIDEO_HW_HOST_RECYCLE=0` against on): 9,090 HEVC
//! frames took 2.75-2.81 s instead of 2.93-2.96 s, with 0.79-0.84 M page faults instead of
//! 1.40-1.54 M, 5.3-5.5 s of CPU instead of 6.2-6.8 s and 3.1-3.2 GiB peak RSS instead of
//! 3.8-3.9; 3,030 frames (HEVC, H.264) took as long as before with ~35-50% fewer faults and
//! ~20% less CPU. The frames the reader holds ahead are still new memory the first time.
//!
//! Bounded: at most [`KEPT_BYTES`] wait here (the rest is freed), and a buffer is taken only
//! by a frame of exactly its size. `VIDEO_HW_HOST_RECYCLE=0` turns recycling off (for
//! same-build comparisons).

use crate::process::ProcessMutex;

/// The most bytes of free buffers kept for reuse.
pub const KEPT_BYTES: usize = 512 << 20;

/// Free buffers by length, and their total.
struct Kept {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

/// Per process: a parent's worker thread takes it for every frame, so at a `fork` it is
/// often held, and a child (a DataLoader worker) that took the parent's copy waited forever.
static KEPT: ProcessMutex<Kept> = ProcessMutex::new(|| Kept { buffers: Vec::new(), bytes: 0 });

fn enabled() -> bool {
    crate::env::settings().host_recycle
}

/// A buffer that goes back to the recycling pool when dropped.
#[derive(Debug, Default)]
pub(crate) struct Recycled(Vec<u8>);

impl Recycled {
    /// A copy of `bytes` in a recycled buffer of exactly that length, or in new memory.
    pub(crate) fn copy_of(bytes: &[u8]) -> Recycled {
        let kept = enabled().then(|| take(bytes.len())).flatten();
        match kept {
            Some(mut v) => {
                v.copy_from_slice(bytes);
                Recycled(v)
            }
            None => Recycled(bytes.to_vec()),
        }
    }

    /// A buffer of `len` bytes for a picture to be written over whole: a recycled one
    /// (holding an earlier picture's bytes), or new zeroed memory.
    pub(crate) fn for_overwrite(len: usize) -> Recycled {
        match enabled().then(|| take(len)).flatten() {
            Some(v) => Recycled(v),
            None => Recycled(vec![0; len]),
        }
    }

    /// The bytes, as a vector of the caller's (no longer recycled).
    pub(crate) fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.is_empty() || !enabled() {
            return;
        }
        let Some(mut kept) = KEPT.lock() else { return };
        if kept.bytes + v.len() <= KEPT_BYTES {
            kept.bytes += v.len();
            kept.buffers.push(v);
        }
    }
}

/// Host memory for a caller to fill whole (a batch of frames stacked into one array, say),
/// taken from the same bounded pool as decoded frames' buffers and given back to it when
/// dropped, so a loop that builds an array of the same size each time writes into pages
/// already mapped instead of having the kernel fault in and zero new ones.
///
/// Why: a batch of 32 RGB 1080p frames is 200 MB, past the allocator's own reuse (glibc
/// maps and unmaps anything over 32 MB), and faulting it in cost about as much CPU as the
/// RGB conversion of its frames. The pool keeps at most 512 MiB of free buffers
/// (shared with the frames'); `VIDEO_HW_HOST_RECYCLE=0` turns it off.
#[derive(Debug)]
pub struct HostBuffer(Recycled);

impl HostBuffer {
    /// `len` bytes to be written over whole: a free buffer of exactly that length from
    /// the pool (holding old bytes), else new zeroed memory.
    pub fn for_overwrite(len: usize) -> HostBuffer {
        HostBuffer(Recycled::for_overwrite(len))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.0.bytes()
    }

    /// The bytes, to write.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.0.bytes_mut()
    }
}

/// A kept buffer of exactly `len` bytes (the most recently kept: its pages are the most
/// likely still cached).
fn take(len: usize) -> Option<Vec<u8>> {
    let mut kept = KEPT.lock()?;
    let at = kept.buffers.iter().rposition(|v| v.len() == len)?;
    let v = kept.buffers.swap_remove(at);
    kept.bytes -= v.len();
    Some(v)
}

/// Frees every kept buffer (leak checks read memory as with nothing kept).
pub(crate) fn release() {
    let Some(mut kept) = KEPT.lock() else { return };
    kept.buffers.clear();
    kept.bytes = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_is_taken_by_the_next_copy_of_its_size_only() {
        // Sizes no other test uses (the pool is process-wide).
        let a = Recycled::copy_of(&[7u8; 12_345]);
        let ptr = a.bytes().as_ptr();
        drop(a);
        let other = Recycled::copy_of(&[1u8; 12_344]);
        assert_ne!(other.bytes().as_ptr(), ptr, "a different size takes new memory");
        let b = Recycled::copy_of(&[9u8; 12_345]);
        assert_eq!(b.bytes().as_ptr(), ptr, "the same size takes the kept buffer");
        assert!(b.bytes().iter().all(|&x| x == 9), "with the new bytes");
        let v = b.into_vec();
        assert_eq!(v.len(), 12_345);
        let c = Recycled::copy_of(&[3u8; 12_345]);
        assert_ne!(c.bytes().as_ptr(), v.as_ptr(), "a buffer given away is not kept");
    }
}
