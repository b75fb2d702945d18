//! Where a [`Transcode`](super::Transcode)'s packets go: the [`TranscodeOutput`] a caller
//! gives (a muxer, a file, a socket), fed on the encoder's thread with the encoded video
//! and the packets of the tracks copied from the source ([`CopySender`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};

use parking_lot::Mutex;

use crate::config::EncoderConfig;
use crate::error::{Error, Result};
use crate::media::MediaPacket;
use crate::packet::Packet;

/// The destination of a [`Transcode`](super::Transcode): told when the encoder has opened,
/// then handed every encoded packet and every packet of a copied track, then finished.
/// All calls but [`finish`](Self::finish) are made on the encoder's thread.
///
/// Its errors come back from [`Transcode::wait`](super::Transcode::wait) as they are (no
/// context is added, so a typed I/O error keeps its type); the first one stops the
/// transcode.
///
/// ```
/// use video_hw::media::MediaPacket;
/// use video_hw::pipeline::TranscodeOutput;
/// use video_hw::{EncoderConfig, Packet};
///
/// /// Counts what would be written.
/// #[derive(Default)]
/// struct Tally { video: u64, audio: u64, size: (u32, u32) }
///
/// impl TranscodeOutput for Tally {
///     fn start(&mut self, config: &EncoderConfig) -> video_hw::Result<()> {
///         self.size = (config.width, config.height); // open the container here
///         Ok(())
///     }
///     fn packet(&mut self, packet: Packet) -> video_hw::Result<()> {
///         self.video += packet.data.len() as u64;
///         Ok(())
///     }
///     fn copied(&mut self, packet: MediaPacket) -> video_hw::Result<()> {
///         self.audio += packet.data.len() as u64;
///         Ok(())
///     }
/// }
/// ```
pub trait TranscodeOutput: Send {
    /// The encoder opened with `config` (the first frame's size and format, the rate and
    /// time base as configured): open the destination. Called once, before any packet.
    fn start(&mut self, config: &EncoderConfig) -> Result<()>;

    /// One encoded packet, in decode order.
    fn packet(&mut self, packet: Packet) -> Result<()>;

    /// One packet of a track copied from the source, in the order it was sent to a
    /// [`CopySender`]: after each encoded packet, the copied packets that arrived since
    /// are handed over; at the end, the rest. Dropped by default.
    fn copied(&mut self, packet: MediaPacket) -> Result<()> {
        drop(packet);
        Ok(())
    }

    /// Every packet has been handed over: write indexes, flush. Called by
    /// [`Transcode::wait`](super::Transcode::wait) on the caller's thread when both sides
    /// succeeded and the output was started; not after an error or a cancel.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A [`TranscodeOutput`] that hands each encoded packet to a function (what
/// [`Transcode::start`](super::Transcode::start) takes); copied packets are dropped. The
/// function's errors come back with the context `encode pipeline, packet sink`.
pub struct PacketFn<F>(pub F);

impl<F: FnMut(Packet) -> Result<()> + Send> PacketFn<F> {
    /// The output calling `f` (the closure's types inferred from it).
    pub fn new(f: F) -> Self {
        PacketFn(f)
    }
}

impl<F: FnMut(Packet) -> Result<()> + Send> TranscodeOutput for PacketFn<F> {
    fn start(&mut self, _config: &EncoderConfig) -> Result<()> {
        Ok(())
    }

    fn packet(&mut self, packet: Packet) -> Result<()> {
        (self.0)(packet).map_err(|e| e.context("encode pipeline, packet sink"))
    }
}

/// Sends packets of tracks copied from the source (audio, subtitles, data) to a
/// [`Transcode`](super::Transcode)'s output, which receives them in the order sent,
/// interleaved with the encoded video as they come (see [`TranscodeOutput::copied`]).
/// Clone it for several producers; the transcode's end waits for every clone to be
/// dropped (after [`Transcode::stop`](super::Transcode::stop), only for what was sent).
#[derive(Debug, Clone)]
pub struct CopySender(Channel);

#[derive(Debug, Clone)]
enum Channel {
    Unbounded(Sender<MediaPacket>),
    Bounded(SyncSender<MediaPacket>),
}

impl CopySender {
    /// Sends `packet` to the output (waiting, for a channel made with a bound, while that
    /// many wait). Gives the packet back when the transcode is gone.
    pub fn send(&self, packet: MediaPacket) -> std::result::Result<(), MediaPacket> {
        match &self.0 {
            Channel::Unbounded(tx) => tx.send(packet).map_err(|e| e.0),
            Channel::Bounded(tx) => tx.send(packet).map_err(|e| e.0),
        }
    }

    /// A channel: at most `ahead` packets wait for the output (`None`: no bound).
    pub(super) fn channel(ahead: Option<usize>) -> (CopySender, Receiver<MediaPacket>) {
        match ahead {
            Some(n) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(n);
                (CopySender(Channel::Bounded(tx)), rx)
            }
            None => {
                let (tx, rx) = std::sync::mpsc::channel();
                (CopySender(Channel::Unbounded(tx)), rx)
            }
        }
    }
}

/// The output, shared by the encoder's thread (packets) and the caller's (finish).
pub(super) struct Shared {
    state: Mutex<State>,
    bytes: AtomicU64,
    copied: AtomicU64,
}

struct State {
    output: Box<dyn TranscodeOutput>,
    copies: Option<Receiver<MediaPacket>>,
    /// The configuration the encoder opened with, once started.
    config: Option<EncoderConfig>,
    /// The output's own error, kept as it is (the encoder sees a stand-in).
    failed: Option<Error>,
}

/// What the encoder's worker gets for an error of the output (the error itself is kept).
fn stand_in() -> Error {
    Error::Closed("the transcode's output failed".into())
}

impl Shared {
    pub(super) fn new(output: Box<dyn TranscodeOutput>, copies: Option<Receiver<MediaPacket>>) -> Arc<Shared> {
        let state = State { output, copies, config: None, failed: None };
        Arc::new(Shared { state: Mutex::new(state), bytes: AtomicU64::new(0), copied: AtomicU64::new(0) })
    }

    /// The encoder opened with `config`.
    pub(super) fn start(&self, config: &EncoderConfig) -> Result<()> {
        let mut s = self.state.lock();
        s.config = Some(config.clone());
        let r = s.output.start(config);
        s.keep(r)
    }

    /// One encoded packet, then the copied packets that came meanwhile.
    pub(super) fn packet(&self, packet: Packet) -> Result<()> {
        let mut s = self.state.lock();
        self.bytes.fetch_add(packet.data.len() as u64, Ordering::Relaxed);
        let r = s.output.packet(packet).and_then(|()| self.copies(&mut s, false));
        s.keep(r)
    }

    /// Hands the copied packets over: those waiting (`all`: every one still to come,
    /// until every sender is gone).
    fn copies(&self, s: &mut State, all: bool) -> Result<()> {
        let Some(rx) = s.copies.take() else { return Ok(()) };
        let r = if all {
            rx.iter().try_for_each(|p| self.copy(s, p))
        } else {
            rx.try_iter().try_for_each(|p| self.copy(s, p))
        };
        s.copies = Some(rx);
        r
    }

    fn copy(&self, s: &mut State, p: MediaPacket) -> Result<()> {
        self.copied.fetch_add(1, Ordering::Relaxed);
        s.output.copied(p)
    }

    /// The end: the rest of the copied packets (`stopped`: only those sent already),
    /// then the output's own finish. Nothing when it never started.
    pub(super) fn finish(&self, stopped: bool) -> Result<()> {
        let mut s = self.state.lock();
        if s.config.is_none() || s.failed.is_some() {
            return Ok(());
        }
        let r = self.copies(&mut s, !stopped).and_then(|()| s.output.finish());
        // Senders still there may go on: they find the channel gone.
        s.copies = None;
        r
    }

    /// The output's error, if it failed (taken).
    pub(super) fn take_error(&self) -> Option<Error> {
        self.state.lock().failed.take()
    }

    pub(super) fn config(&self) -> Option<EncoderConfig> {
        self.state.lock().config.clone()
    }

    pub(super) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn copied(&self) -> u64 {
        self.copied.load(Ordering::Relaxed)
    }
}

impl State {
    /// `r`, an output call's result: an error is kept, and the worker gets a stand-in.
    fn keep(&mut self, r: Result<()>) -> Result<()> {
        r.map_err(|e| {
            self.failed.get_or_insert(e);
            stand_in()
        })
    }
}
