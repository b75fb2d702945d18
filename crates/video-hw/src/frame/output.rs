//! Engines writing straight into a frame ring: while a pipeline's worker thread holds an
//! [`OutputScope`] for its ring's slots, the engines it calls build their output frames
//! in free slots of that ring instead of fresh memory.
//!
//! The scope holds the ring's [`FrameSlots`], not the ring: engines reach it through the
//! frame types (`HostFrame::for_output`, [`take_output_device_slot`])
//! and know nothing of the pipelines that set it.

use std::cell::RefCell;
use std::sync::Arc;

use super::HostFrame;
use super::pool::{DeviceSlot, FrameSlots};
use crate::codec::PixelFormat;

thread_local! {
    /// The slots of the ring the current thread's engine output goes to, if any.
    static OUTPUT: RefCell<Option<Arc<FrameSlots>>> = const { RefCell::new(None) };
}

/// While alive, engines on this thread build their host output frames in free slots of
/// a ring (see [`take_output_slot`]).
pub(crate) struct OutputScope {
    previous: Option<Arc<FrameSlots>>,
}

impl OutputScope {
    /// Engine output on this thread goes to `slots` (a ring's) until the scope drops.
    pub(crate) fn enter(slots: &Arc<FrameSlots>) -> OutputScope {
        let previous = OUTPUT.with(|o| o.borrow_mut().replace(slots.clone()));
        OutputScope { previous }
    }
}

impl Drop for OutputScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        OUTPUT.with(|o| *o.borrow_mut() = previous);
    }
}

/// A free slot of the current thread's output ring as a packed `format` picture, or
/// `None` (no ring, a device-memory ring, or every slot lent out: the engine then
/// allocates, so a slow consumer never blocks an engine in the middle of a call).
pub(crate) fn take_output_slot(format: PixelFormat, width: u32, height: u32) -> Option<HostFrame> {
    let slots = OUTPUT.with(|o| o.borrow().clone())?;
    slots.acquire_host(format, width, height, None).ok().flatten()
}

/// Whether the current thread produces into a frame ring (engines then write their
/// frames into its slots).
pub(crate) fn has_output_ring() -> bool {
    OUTPUT.with(|o| o.borrow().is_some())
}

/// A free device slot of at least `width_bytes` x `rows` of the current thread's output
/// ring, for an engine on GPU `device`; `None` as in [`FrameSlots::lease_device`] (the
/// engine then uses a buffer of its own, which the pipeline copies into a slot later).
pub(crate) fn take_output_device_slot(device: u32, width_bytes: usize, rows: usize) -> Option<DeviceSlot> {
    let slots = OUTPUT.with(|o| o.borrow().clone())?;
    slots.lease_device(device, width_bytes, rows)
}
