//! The output side of a session: the reaper thread that locks output buffers in order,
//! turning locked outputs into packets, and giving slots back.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use super::super::api::{Api, Bitstream, Handle, Phase};
use super::super::config::b_frames;
use super::super::device::Device;
use super::*;
use crate::bitstream::annexb;
use crate::error::{Error, Result};
use crate::packet::{Packet, PacketLayout};

/// Locks output buffers in order on its own thread (with the CUDA context current).
pub(super) fn reaper(
    api: &'static Api,
    device: Arc<Device>,
    encoder: Handle,
    gpu: String,
    jobs: Receiver<Job>,
    done: Sender<Done>,
) {
    let entered = device.enter();
    let context_error = entered.as_ref().err().map(|e| e.to_string());
    for job in jobs {
        let start = Instant::now();
        let result = match &context_error {
            Some(e) => Err(Error::backend("nvenc", "context", format!("reaper thread: {e}"))),
            None => api
                .read_bitstream(encoder, job.output)
                .map_err(|f| f.into_error(&gpu, api.driver_version(), Phase::Run)),
        };
        if done.send(Done { slot: job.slot, result, lock: start.elapsed() }).is_err() {
            break;
        }
    }
    drop(entered);
}

impl NvencEncoder {
    /// Turns one locked output into a packet.
    pub(super) fn packetize(&mut self, out: Bitstream, submitted_pts: Option<i64>) -> Option<Packet> {
        let meta = self.metas.remove(&out.timestamp);
        if meta.is_none() {
            tracing::warn!(timestamp = out.timestamp, "nvenc returned a picture the session did not submit");
        }
        let meta = meta.unwrap_or(Meta { pts: None, generation: self.last_generation });
        if out.data.is_empty() {
            return None;
        }
        let codec = self.config.codec;
        let data = match self.config.layout {
            PacketLayout::AnnexB => out.data,
            PacketLayout::LengthPrefixed => {
                let nals = annexb::split_all(&out.data);
                let sets: Vec<Vec<u8>> =
                    nals.iter().filter(|n| is_parameter_set(codec, n)).map(|n| n.to_vec()).collect();
                let mut data = Vec::with_capacity(out.data.len() + 4 * nals.len());
                for nal in nals.iter().filter(|n| !is_parameter_set(codec, n)) {
                    data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                    data.extend_from_slice(nal);
                }
                if !sets.is_empty() {
                    self.parameter_sets = sets;
                }
                if data.is_empty() {
                    return None;
                }
                data
            }
        };
        let shift = i64::from(b_frames(&self.nv.0)).saturating_mul(self.frame_ticks());
        Some(Packet {
            codec,
            layout: self.config.layout,
            data,
            pts: meta.pts,
            dts: submitted_pts.map(|p| p.saturating_sub(shift)),
            keyframe: matches!(out.picture_type, NV_ENC_PIC_TYPE_IDR | NV_ENC_PIC_TYPE_I),
            generation: meta.generation,
        })
    }

    /// Takes back one slot from the reaper. Needs the context current.
    pub(super) fn take_done(&mut self, d: Done) -> Result<()> {
        self.in_reaper = self.in_reaper.saturating_sub(1);
        crate::metrics::record_stage(crate::metrics::Stage::Map, d.lock);
        let unmapped = self.release(d.slot);
        let submitted_pts = self.dts.pop_front().flatten();
        let result = d.result.map(|out| {
            if let Some(p) = self.packetize(out, submitted_pts) {
                self.ready.push_back(p);
            }
        });
        result.and(unmapped)
    }

    /// Unmaps a slot's surface (if mapped) and returns the slot to the pool.
    pub(super) fn release(&mut self, slot: usize) -> Result<()> {
        let mut r = Ok(());
        if let Some(m) = self.slots.get_mut(slot).and_then(|s| s.mapped.take()) {
            r = self.api.unmap(self.encoder, m).map_err(|f| self.fail(f));
        }
        if slot < self.slots.len() {
            self.free.push_back(slot);
        }
        r
    }

    /// Takes back every finished slot without waiting; returns the first error.
    pub(super) fn collect_now(&mut self) -> Result<()> {
        let mut first = Ok(());
        loop {
            let msg = match &self.done {
                Some(rx) => rx.try_recv(),
                None => Err(TryRecvError::Disconnected),
            };
            match msg {
                Ok(d) => {
                    let r = self.take_done(d);
                    if first.is_ok() {
                        first = r;
                    }
                }
                Err(TryRecvError::Empty) => return first,
                Err(TryRecvError::Disconnected) => {
                    if self.in_reaper > 0 && first.is_ok() {
                        first = Err(self.reaper_gone());
                    }
                    self.in_reaper = 0;
                    return first;
                }
            }
        }
    }

    /// Waits up to `timeout` for one slot to come back. `Ok(false)` on timeout.
    pub(super) fn wait_one(&mut self, timeout: Duration) -> Result<bool> {
        let msg = match &self.done {
            Some(rx) => rx.recv_timeout(timeout),
            None => Err(RecvTimeoutError::Disconnected),
        };
        match msg {
            Ok(d) => self.take_done(d).map(|()| true),
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => {
                let e = self.reaper_gone();
                self.in_reaper = 0;
                Err(e)
            }
        }
    }

    pub(super) fn reaper_gone(&self) -> Error {
        Error::backend(
            "nvenc",
            "reaper",
            format!("the output thread ended with {} picture(s) in flight", self.in_reaper),
        )
    }

    /// Hands every pending slot to the reaper, in submission order.
    pub(super) fn dispatch_pending(&mut self) -> Result<()> {
        let Some(jobs) = &self.jobs else { return Err(self.reaper_gone()) };
        for slot in self.pending.drain(..) {
            let output = self.slots[slot].output;
            if jobs.send(Job { slot, output }).is_err() {
                return Err(Error::backend("nvenc", "reaper", "the output thread ended"));
            }
            self.in_reaper += 1;
        }
        Ok(())
    }

    /// Waits for every picture with the reaper, up to `DRAIN_TIMEOUT`.
    pub(super) fn drain_reaper(&mut self) -> Result<()> {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        let mut first = Ok(());
        while self.in_reaper > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(DRAIN_TIMEOUT));
            }
            if let Err(e) = self.wait_one(left) {
                first = first.and(Err(e));
            }
        }
        first
    }
}
