//! Decoded pictures lent to the caller in the decoder's own output surface.
//!
//! `cuvidMapVideoFrame64` post-processes a decoded picture into one of the decoder's output
//! surfaces (pitch-linear NV12/P016, apart from the decode surfaces the hardware decodes
//! into and predicts from), which stays the caller's until `cuvidUnmapVideoFrame64`. A CUDA
//! NV12/P010 frame can therefore be that surface itself rather than a copy of it: the
//! session maps the picture, waits for the post-processing as it waits for a copy-out,
//! and hands the frame out; dropping the frame unmaps the surface. That saves the two
//! device-to-device copies (luma, chroma) and their driver calls: ~15 µs of CPU per frame
//! lent on an H200 (its raw log is in git history: commit 6f7ea57 added it under bench/results/gpu/).
//!
//! The decoder has a few output surfaces (8 at 1080p, 3 at 4K: `hw::output_surfaces`);
//! one always stays free for the copy-out, so a caller holding more frames than the others
//! gets copies for the rest instead of a stalled decoder. A frame keeps the decoder object
//! alive: the handle is destroyed once its session and every frame lent from it are gone
//! (on the closer thread when the last frame goes). So a frame held after its session closed,
//! or across a resolution change (a decoder with frames lent is not reconfigured: a new one
//! is made), keeps that decoder's surfaces (60-100 MiB at 1080p) until it is dropped.
//!
//! The caller's own GPU work on a lent frame must be finished (its stream synchronised)
//! before the frame is dropped: the surface is unmapped at once and the next picture's
//! post-processing may write it — as a pool buffer given back is reused at once.

use std::sync::Arc;

use super::background_close;
use super::hw::DecoderObject;

/// Whether CUDA frames may be lent in the decoder's output surfaces: on unless
/// `VIDEO_HW_NVDEC_LEND=0`, which copies every picture out (for measuring what lending
/// saves, scripts/nvdec-ablation.sh).
pub(crate) fn lending_enabled() -> bool {
    crate::env::settings().nvdec_lend
}

/// A mapped output surface lent to a CUDA frame; unmapped when dropped.
pub(crate) struct LentSurface {
    obj: Option<Arc<DecoderObject>>,
    ptr: u64,
}

impl LentSurface {
    /// Takes over the mapping of `ptr` (from `cuvidMapVideoFrame64` on `obj`).
    pub fn new(obj: Arc<DecoderObject>, ptr: u64) -> LentSurface {
        obj.add_lent();
        LentSurface { obj: Some(obj), ptr }
    }
}

impl Drop for LentSurface {
    fn drop(&mut self) {
        let Some(obj) = self.obj.take() else { return };
        if background_close::exiting() {
            // A driver call beside the driver's own teardown can hang (see `background_close`): the
            // driver frees what the process leaves.
            std::mem::forget(obj);
            return;
        }
        obj.unmap(self.ptr);
        obj.remove_lent();
        // The last holder of the decoder: its destroy (25-50 ms) runs on the closer thread,
        // not on the caller's thread that dropped the frame. `into_inner`, not `try_unwrap`:
        // of frames dropped at once on several threads, exactly one gets the object.
        if let Some(last) = Arc::into_inner(obj) {
            background_close::close(Box::new(last));
        }
    }
}
