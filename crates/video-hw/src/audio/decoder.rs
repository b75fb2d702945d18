//! [`AudioDecoder`]: one audio track of a file, decoded to planar `f32` and cut to the
//! sample.
//!
//! Samples sit on one timeline, counted in the track's own rate from the time of the
//! packet where decoding started: sample `n` is played at `n / rate` seconds. A packet's
//! samples follow the previous packet's (ffmpeg concatenates decoded audio the same way),
//! and a seek re-anchors the count at the timestamp of the packet decoding restarts from.
//! Priming and padding are the samples outside the track's presentation window.

use std::path::Path;

use super::memory::{PlanarOut, reserve_samples};
use super::mix::mix;
use super::resample::Resampler;
use super::{AudioMetadata, AudioOptions, AudioSamples, layout_name};
use crate::backend::audio::{AudioEngine, AudioParams, Planar};
use crate::codec::Rational;
use crate::engine::EnginePreference;
use crate::error::{Error, Result};
use crate::media::{AudioCodec, AudioInfo, CodecConfig, Demuxer, PacketEntry, Track, TrackCodec, TrackKind};
use crate::registry::open_audio_engine;

/// A range starting this far past what is decoded seeks instead of decoding through.
const SEEK_AHEAD_SECONDS: f64 = 8.0;
/// The most samples per channel reserved ahead for a range (an hour at 48 kHz): a range's
/// end is the caller's number, and a track may end long before it.
const MAX_RESERVE_SAMPLES: usize = 48_000 * 3600;
/// A range at least this long (samples per channel; 22 s at 48 kHz) is written to its
/// result as it is decoded, not gathered whole in `pending` first.
const SPILL_FROM_SAMPLES: usize = 1 << 20;
/// How many samples `pending` gathers before they move to such a result (256 KiB a
/// channel: they are still in the caches when copied).
const SPILL_SAMPLES: usize = 1 << 16;
/// Samples reserved past a range's end: its last packet's samples run past it (the
/// longest frames of the codecs here: Vorbis and AAC with SBR, 8192 and 2048).
const PACKET_SLACK: usize = 8192;

/// A long range's result while it is decoded ([`AudioDecoder::spill`]): made at the first
/// samples, when the channel count is known.
struct Sink {
    /// Room per channel.
    cap: usize,
    out: Option<PlanarOut>,
    /// The index of the result's first sample.
    start: Option<i64>,
}

/// Decodes one audio track of a file.
pub struct AudioDecoder {
    demuxer: Demuxer,
    track: Track,
    params: AudioParams,
    engine: Box<dyn AudioEngine>,
    meta: AudioMetadata,
    options: AudioOptions,
    /// The track's packets (made on the first seek).
    table: Option<SeekTable>,
    /// Decoded samples not yet given out, with the index of the first.
    pending: Planar,
    pending_start: i64,
    /// The index the next decoded sample gets (`None`: anchor at the next packet's pts).
    next_index: Option<i64>,
    /// The demuxer has no more packets of the track.
    ended: bool,
    /// The shown window in sample indices: `[start, end)`.
    window: (i64, Option<i64>),
    /// Packets the engine could not decode (damage), counted and skipped.
    damaged: u64,
    /// Samples the decoder gives before a packet's time (Opus pre-skip where the container
    /// has no edit for it).
    anchor_shift: i64,
    /// Decoded samples kept before the end of the last range: what the next range's
    /// resampling reads before its first sample (0 without resampling).
    lookback: i64,
    /// The end of the last range given out (native samples).
    given_to: i64,
    /// After a seek: the timestamp of the packet decoding restarts at and its first
    /// sample's index, where the packet table knows it exactly.
    seek_anchor: Option<(Option<i64>, i64)>,
    /// Asked between packets: true stops the call ([`set_interrupt`](Self::set_interrupt)).
    interrupt: Option<AudioInterrupt>,
}

/// A check an [`AudioDecoder`] asks between the packets it decodes: true stops the call
/// (the Python package runs Ctrl-C's handler in it). The same form as the video reader's
/// `reader::Interrupt`.
pub type AudioInterrupt = Box<dyn FnMut() -> bool + Send>;

impl std::fmt::Debug for AudioDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioDecoder").field("metadata", &self.meta).finish()
    }
}

impl AudioDecoder {
    /// Opens the audio track of the file at `path` that `options` names (by default the one
    /// ffmpeg picks: [`Demuxer::audio_track`]).
    pub fn open(path: impl AsRef<Path>, options: AudioOptions) -> Result<Self> {
        Self::with_demuxer(Demuxer::open(path)?, options)
    }

    /// Opens the audio track of a file held in memory.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, options: AudioOptions) -> Result<Self> {
        Self::with_demuxer(Demuxer::from_bytes(bytes)?, options)
    }

    /// Opens the audio track of an open demuxer.
    pub fn with_demuxer(mut demuxer: Demuxer, options: AudioOptions) -> Result<Self> {
        let track = match options.stream_index {
            Some(i) => {
                let t = demuxer.track(i).ok_or_else(|| {
                    Error::invalid_input(format!("no stream {i}: the file has {} streams", demuxer.tracks().len()))
                })?;
                if t.kind != TrackKind::Audio {
                    return Err(Error::invalid_input(format!("stream {i} is {}, not audio", t.kind.name())));
                }
                t.clone()
            }
            None => {
                let i = demuxer.audio_track().ok_or_else(|| Error::invalid_input("the file has no audio stream"))?;
                demuxer.tracks()[i].clone()
            }
        };
        let TrackCodec::Audio(codec) = track.codec else {
            return Err(Error::Unsupported {
                what: format!("audio stream {} of codec '{}'", track.index, track.codec.name()),
                why: "no engine knows this codec".into(),
            });
        };
        if options.sample_rate == Some(0) || options.channels == Some(0) {
            return Err(Error::invalid_input("sample_rate and num_channels must be positive"));
        }
        let info = track.audio.unwrap_or_default();
        let params = AudioParams::of_track(&track, codec);
        let pcm = params.pcm;
        let engine = open_audio_engine(&params, options.engine)?;
        let (rate, channels) = engine.output();
        let rate = if rate == 0 { info.sample_rate } else { rate };
        let window = match window_in_samples(&track, rate) {
            Some(w) => w,
            // Opus states its priming only in its header where the container has no edit
            // (Matroska, MPEG-TS): the first pre-skip samples are not shown, as in ffmpeg.
            None => (first_index(&mut demuxer, &track, rate)?, None),
        };
        // ...and its samples start that much before the first packet's time: the first one
        // shown is at the packet's time, as ffmpeg places it.
        let anchor_shift = if track.window.is_none() { opus_pre_skip(&track) } else { 0 };
        let codec_name = match (codec, pcm) {
            (AudioCodec::Pcm, Some(f)) => f.ffmpeg_name(),
            _ => codec.name().to_string(),
        };
        let begin = stream_start(&track, &info, window.0, rate);
        let lookback = match options.sample_rate {
            // A range's native samples run a margin past its end, and the next range's start
            // a margin before it (on the grid of `rate / gcd` samples).
            Some(r) if r != rate => 2 * (Resampler::margin(rate, r) as i64 + i64::from(rate / gcd(rate, r)) + 1),
            _ => 0,
        };
        let meta = AudioMetadata {
            codec: codec_name,
            stream_index: track.index,
            sample_rate: rate,
            channels,
            layout: layout_name(channels),
            duration_seconds: track.duration.map(|d| track.seconds(d)).filter(|d| *d > 0.0),
            begin_stream_seconds: begin,
            engine: engine.engine(),
            decoder: engine.describe(),
            output_sample_rate: options.sample_rate.unwrap_or(rate),
            output_channels: options.channels.unwrap_or(channels),
        };
        Ok(AudioDecoder {
            demuxer,
            track,
            params,
            engine,
            meta,
            options,
            table: None,
            pending: Planar::default(),
            pending_start: 0,
            next_index: None,
            ended: false,
            window,
            damaged: 0,
            anchor_shift,
            lookback,
            given_to: i64::MIN,
            seek_anchor: None,
            interrupt: None,
        })
    }

    /// Sets (or with `None` removes) the check asked between packets. A call it stops
    /// returns [`Error::Closed`]; the decoder stays usable, and later ranges hold the same
    /// samples as if nothing had been stopped (the samples decoded so far stay pending,
    /// their indices known; a range behind them seeks).
    pub fn set_interrupt(&mut self, check: Option<AudioInterrupt>) {
        self.interrupt = check;
    }

    /// What the track is and how it is decoded.
    pub fn metadata(&self) -> &AudioMetadata {
        &self.meta
    }

    /// Whether every sample of the track has been given out (the last range reached its
    /// end).
    pub fn at_end(&self) -> bool {
        (self.ended && self.pending.is_empty()) || self.window.1.is_some_and(|w| self.given_to >= w)
    }

    /// Packets that could not be decoded (damage), skipped; their samples are missing.
    pub fn damaged_packets(&self) -> u64 {
        self.damaged
    }

    /// Every sample of the track, as ffmpeg gives them (priming and padding dropped).
    pub fn get_all_samples(&mut self) -> Result<AudioSamples> {
        let begin = self.window.0 as f64 / f64::from(self.meta.sample_rate.max(1));
        self.get_samples_played_in_range(begin, None)
    }

    /// The samples played from `start` up to `stop` seconds (`None`: the end), cut inside
    /// packets: a sample at time `t` is in when `start <= t < stop`. Asking for consecutive
    /// ranges gives the samples one call for the whole would.
    pub fn get_samples_played_in_range(&mut self, start: f64, stop: Option<f64>) -> Result<AudioSamples> {
        if !start.is_finite() || stop.is_some_and(|s| !s.is_finite() || s < start) {
            return Err(Error::invalid_input(format!("invalid range: start {start}, stop {stop:?}")));
        }
        let in_rate = self.meta.sample_rate.max(1);
        let out_rate = self.meta.output_sample_rate.max(1);
        let (samples, first_time) = if out_rate == in_rate {
            // torchcodec's arithmetic: the sample nearest each time.
            let first = sample_at(start, in_rate).max(self.window.0);
            let end = stop.map(|s| sample_at(s, in_rate));
            let (data, channels) = self.take_native_flat(first, end)?;
            let time = start.max(first as f64 / f64::from(in_rate));
            match self.options.channels.map(usize::from) {
                Some(n) if n != channels => (mix(&Planar::from_flat(&data, channels), n), time),
                _ => return Ok(AudioSamples { data, channels, sample_rate: out_rate, pts_seconds: time }),
            }
        } else {
            let (p, time) = self.resampled_range(start, stop, in_rate, out_rate)?;
            match self.options.channels.map(usize::from) {
                Some(n) if n != p.channels.len() => (mix(&p, n), time),
                _ => (p, time),
            }
        };
        let channels = samples.channels.len();
        let mut data = Vec::with_capacity(samples.len() * channels);
        for c in &samples.channels {
            data.extend_from_slice(c);
        }
        Ok(AudioSamples { data, channels, sample_rate: out_rate, pts_seconds: first_time })
    }

    /// A range at another rate: the native samples around it, from a point on the grid where
    /// input and output samples coincide (so that every call resamples with the same phase),
    /// resampled, then cut.
    fn resampled_range(&mut self, start: f64, stop: Option<f64>, in_rate: u32, out_rate: u32) -> Result<(Planar, f64)> {
        let ws = self.window.0;
        let g = gcd(in_rate, out_rate);
        let (p_in, p_out) = (i64::from(in_rate / g), i64::from(out_rate / g));
        let t0 = ws as f64 / f64::from(in_rate);
        // Output indices, counted from the first shown sample.
        let o0 = sample_at(start - t0, out_rate).max(0);
        let o1 = stop.map(|s| sample_at(s - t0, out_rate).max(0));
        let margin = Resampler::margin(in_rate, out_rate) as i64;
        let u0 = ((o0 * p_in / p_out - margin).max(0) / p_in) * p_in;
        let u1 = o1.map(|o| o * p_in / p_out + margin + 1);
        let native = self.take_native(ws + u0, u1.map(|u| ws + u))?;
        let at_end = u1.is_none() || native.len() < (u1.unwrap_or(0) - u0) as usize;
        let mut r = Resampler::new(in_rate, out_rate, native.channels.len().max(1))?;
        let out = r.process_all(&native, at_end)?;
        let base = u0 * p_out / p_in;
        let from = (o0 - base).max(0) as usize;
        let to = o1.map_or(out.len(), |o| ((o - base).max(0) as usize).min(out.len()));
        let cut = Planar { channels: out.channels.iter().map(|c| c[from.min(to)..to].to_vec()).collect() };
        Ok((cut, start.max(t0 + (base + from as i64) as f64 / f64::from(out_rate))))
    }

    /// The range `[first, end)` (`None`: to the end of the track) clipped to the shown
    /// window.
    fn clip(&self, first: i64, end: Option<i64>) -> (i64, Option<i64>) {
        let first = first.max(self.window.0);
        let end = match (end, self.window.1) {
            (Some(e), Some(w)) => Some(e.min(w)),
            (e, w) => e.or(w),
        };
        (first, end)
    }

    /// Decodes until `pending` holds every sample of `[first, end)` that the track has
    /// (`first` and `end` already clipped), seeking first where the range is behind or far
    /// ahead. Decoded samples accumulate in `pending` itself, whose memory is kept from
    /// call to call, and a range is copied out of it once; with a `sink`, they move on to
    /// their place in the result every [`SPILL_SAMPLES`] ([`spill`](Self::spill)).
    fn gather(&mut self, first: i64, end: Option<i64>, mut sink: Option<&mut Sink>) -> Result<()> {
        let rate = f64::from(self.meta.sample_rate.max(1));
        let decoded_to = self.pending_start + self.pending.len() as i64;
        let behind = first < self.pending_start && self.next_index.is_some();
        let far = self.next_index.is_some() && first as f64 - decoded_to as f64 > SEEK_AHEAD_SECONDS * rate;
        // Nothing decoded yet (a new decoder's first range): far into the track seeks too,
        // rather than decoding everything before it (half an hour of a random range in a
        // 1-hour file was most of 1,000 ranges' time).
        let far_first =
            self.next_index.is_none() && !self.ended && first as f64 - self.window.0 as f64 > SEEK_AHEAD_SECONDS * rate;
        if behind || far || far_first || (self.next_index.is_none() && self.ended) {
            self.seek_before(first)?;
        }
        // Room for the whole range at once, not grown packet by packet (a track's end is
        // known from the container's duration where it states one, or its edit); made
        // once the engine's first samples say how many channels there are.
        let mut room = end
            .or_else(|| self.track_end_estimate())
            .and_then(|e| usize::try_from(e - first.max(self.pending_start)).ok())
            .map(|n| n.min(if sink.is_some() { SPILL_SAMPLES } else { MAX_RESERVE_SAMPLES }) + PACKET_SLACK);
        loop {
            if !self.pending.channels.is_empty()
                && let Some(n) = room.take()
            {
                for c in &mut self.pending.channels {
                    reserve_samples(c, n);
                }
            }
            // What is before the range is not needed, but for the look-back a next
            // range's resampling reads.
            self.drop_before(first - self.lookback);
            if let Some(s) = sink.as_deref_mut()
                && self.pending.len() >= SPILL_SAMPLES
            {
                self.spill(s, first, end);
            }
            let p_end = self.pending_start + self.pending.len() as i64;
            if end.is_some_and(|e| p_end >= e) || self.ended {
                return Ok(());
            }
            if self.interrupt.as_mut().is_some_and(|check| check()) {
                return Err(Error::Closed(
                    "interrupted: the caller stopped the call before its samples were all decoded".into(),
                ));
            }
            if !self.decode_next()? {
                self.ended = true;
            }
        }
    }

    /// Moves the pending samples of `[first, end)` to the result `sink` builds: `pending`
    /// stays small (and in the caches), and each sample is copied once, to where it ends
    /// up.
    fn spill(&mut self, sink: &mut Sink, first: i64, end: Option<i64>) {
        let (a, b, lo) = self.pending_part(first, end);
        if b <= a {
            return;
        }
        let channels = self.channel_count();
        let out = sink.out.get_or_insert_with(|| PlanarOut::new(channels, sink.cap));
        sink.start.get_or_insert(lo);
        out.push(&self.pending.channels, a, b);
        self.drop_before(lo + (b - a) as i64);
    }

    /// The sample index the track ends at, as far as the container tells: its edit's end,
    /// or its stated duration (a guess for reserving memory only).
    fn track_end_estimate(&self) -> Option<i64> {
        self.window.1.or_else(|| {
            let d = self.track.duration.filter(|d| *d > 0)?;
            Some(self.window.0 + to_samples(d, self.track.time_base, self.meta.sample_rate))
        })
    }

    /// The part of `pending` in `[first, end)` (clipped): the offsets into it, and the
    /// index its first sample has.
    fn pending_part(&self, first: i64, end: Option<i64>) -> (usize, usize, i64) {
        let p_end = self.pending_start + self.pending.len() as i64;
        // (A range past the end of what there is: empty, at the end.)
        let lo = first.max(self.pending_start).min(p_end);
        let hi = end.map_or(p_end, |e| e.min(p_end)).max(lo);
        ((lo - self.pending_start) as usize, (hi - self.pending_start) as usize, lo)
    }

    /// After a range up to `end` is given out: keep from its end on (and what resampling
    /// the next range reads before it), where the next consecutive range starts.
    fn given_out(&mut self, to: i64, end: Option<i64>) {
        self.given_to = to;
        self.drop_before(end.unwrap_or(to) - self.lookback);
    }

    /// The channels a range has: the engine's, or the metadata's before it gave any.
    fn channel_count(&self) -> usize {
        match self.pending.channels.len() {
            0 => usize::from(self.meta.channels),
            n => n,
        }
    }

    /// Native samples with indices in `[first, end)` (`None`: to the end of the track),
    /// clipped to the shown window, as planar buffers (for resampling and mixing).
    fn take_native(&mut self, first: i64, end: Option<i64>) -> Result<Planar> {
        let (first, end) = self.clip(first, end);
        self.gather(first, end, None)?;
        let (a, b, lo) = self.pending_part(first, end);
        let mut out = Planar { channels: self.pending.channels.iter().map(|c| c[a..b].to_vec()).collect() };
        out.ensure_channels(self.channel_count());
        self.given_out(lo + (b - a) as i64, end);
        Ok(out)
    }

    /// Native samples with indices in `[first, end)` (`None`: to the end of the track),
    /// clipped to the shown window, as one buffer of the channels one after another, and
    /// the channel count. A short range is copied once from `pending`, into memory of its
    /// exact size; a long one (a whole track) goes to its place in the result as it is
    /// decoded ([`PlanarOut`]).
    fn take_native_flat(&mut self, first: i64, end: Option<i64>) -> Result<(Vec<f32>, usize)> {
        let (first, end) = self.clip(first, end);
        // The result's length: exact where the range or the track's edit ends it, else
        // the container's duration with room for a guess a little short.
        let exact = end.is_some();
        let length = end.or_else(|| self.track_end_estimate()).map(|e| e - first);
        // (To the end of a track of unknown length: room for 4M samples, then doubled.)
        let spill = self.lookback == 0 && length.is_none_or(|n| n >= SPILL_FROM_SAMPLES as i64);
        if spill {
            let n = length.map_or(4 * SPILL_FROM_SAMPLES, |n| usize::try_from(n).unwrap_or(0)).min(MAX_RESERVE_SAMPLES);
            let mut sink = Sink { cap: if exact { n } else { n + PACKET_SLACK }, out: None, start: None };
            self.gather(first, end, Some(&mut sink))?;
            self.spill(&mut sink, first, end);
            let channels = self.channel_count();
            let (data, to) = match sink.out {
                Some(out) => {
                    let to = sink.start.unwrap_or(first) + out.frames() as i64;
                    (out.finish(), to)
                }
                None => (Vec::new(), first),
            };
            self.given_out(to, end);
            return Ok((data, channels));
        }
        self.gather(first, end, None)?;
        let channels = self.channel_count();
        let (a, b, lo) = self.pending_part(first, end);
        let mut data = Vec::with_capacity((b - a) * channels);
        for c in &self.pending.channels {
            data.extend_from_slice(&c[a..b]);
        }
        self.given_out(lo + (b - a) as i64, end);
        Ok((data, channels))
    }

    /// Drops pending samples before index `i`.
    fn drop_before(&mut self, i: i64) {
        let n = (i - self.pending_start).clamp(0, self.pending.len() as i64) as usize;
        if n > 0 {
            for c in &mut self.pending.channels {
                c.drain(..n);
            }
            self.pending_start += n as i64;
        }
    }

    /// Decodes the track's next packet into `pending`; false at the end of the track.
    fn decode_next(&mut self) -> Result<bool> {
        loop {
            let packet = match self.demuxer.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                // Damage in the container: the samples before it stand, counted.
                Err(_) => {
                    self.damaged += 1;
                    break;
                }
            };
            if packet.track != self.track.index {
                continue;
            }
            let rate = self.meta.sample_rate;
            if self.next_index.is_none() {
                let idx = match self.seek_anchor.take() {
                    // The packet a seek restarted at, where the table knows its first
                    // sample better than its timestamp does.
                    Some((pts, idx)) if pts == packet.pts => idx,
                    _ => {
                        let idx = packet.pts.map_or(0, |p| to_samples(p, self.track.time_base, rate));
                        // Only the stream's first packet carries the priming.
                        if idx <= self.window.0 { idx - self.anchor_shift } else { idx }
                    }
                };
                self.next_index = Some(idx);
                if self.pending.is_empty() {
                    self.pending_start = idx;
                }
            }
            let before = self.pending.len();
            if self.engine.decode(&packet.data, &mut self.pending).is_err() {
                self.damaged += 1;
                continue;
            }
            self.fix_channels();
            if packet.discard_padding_ns() > 0 {
                // The encoder's padding after the last sample (Matroska's DiscardPadding).
                // To the nearest sample, as FFmpeg's Matroska demuxer rescales it.
                let drop =
                    ((packet.discard_padding_ns() as i128 * i128::from(rate) + 500_000_000) / 1_000_000_000) as usize;
                let keep = self.pending.len().saturating_sub(drop).max(before);
                for c in &mut self.pending.channels {
                    c.truncate(keep);
                }
            }
            let got = (self.pending.len() - before) as i64;
            if got == 0 && self.pending.is_empty() {
                // A header-only packet (Vorbis's first) or a decoder's start-up: the samples
                // start at the first packet that gives some.
                self.next_index = None;
                continue;
            }
            self.next_index = self.next_index.map(|i| i + got);
            if got > 0 {
                return Ok(true);
            }
        }
        let before = self.pending.len();
        self.engine.flush(&mut self.pending)?;
        self.fix_channels();
        self.next_index = self.next_index.map(|i| i + (self.pending.len() - before) as i64);
        Ok(false)
    }

    /// The channel count can change with the first packet (AAC with a PCE, SBR): the
    /// metadata follows what the engine gives.
    fn fix_channels(&mut self) {
        // Damage can leave channels of unequal length (a packet of fewer channels than the
        // last): every channel is held to the first one's length, padded with silence or
        // cut, so that ranges cut every channel alike.
        let len = self.pending.len();
        for c in &mut self.pending.channels {
            c.resize(len, 0.0);
        }
        let n = self.pending.channels.len() as u16;
        if n != 0 && n != self.meta.channels {
            self.meta.channels = n;
            self.meta.layout = layout_name(n);
            if self.options.channels.is_none() {
                self.meta.output_channels = n;
            }
        }
    }

    /// Restarts decoding at a packet early enough that sample `index` comes out as a
    /// continuous decode gives it: pre-roll packets before it prime the decoder.
    fn seek_before(&mut self, index: i64) -> Result<()> {
        if self.table.is_none() {
            let t = self.demuxer.packet_table(self.track.index)?;
            self.table =
                Some(SeekTable::new(t.entries, self.track.time_base, self.meta.sample_rate, self.anchor_shift));
        }
        let table = self.table.as_ref().map_or(&[][..], |t| &t.entries);
        let at = self.table.as_ref().map_or(0, |t| match preroll(self.params.codec, self.meta.sample_rate) {
            Preroll::Packets(n) => t.packets_before(index, n),
            Preroll::Samples(n) => t.last_starting_by(index - n),
        });
        // Back to the start: a new engine rather than a reset one, as decoders keep state a
        // reset leaves (AAC's noise generator for PNS), and a fresh one decodes the start as
        // the first pass did. Into the middle, a reset (a decode from there differs from a
        // continuous one in those last bits either way).
        if at == 0 {
            self.engine = open_audio_engine(&self.params, EnginePreference::Only(self.meta.engine))?;
        } else {
            self.engine.reset();
        }
        self.pending.clear();
        // Nothing decoded yet: the first packet decoded sets where the samples start.
        self.pending_start = i64::MIN / 4;
        self.next_index = None;
        self.ended = false;
        self.seek_anchor = None;
        if at == 0 || table.is_empty() {
            self.demuxer.rewind()?;
        } else {
            let entry = table[at];
            self.demuxer.seek_to(self.track.index, &entry)?;
            let first = self.table.as_ref().and_then(|t| t.first_sample(at));
            self.seek_anchor = first.map(|i| (entry.pts, i));
        }
        Ok(())
    }
}

/// The track's packet table with each packet's first sample, for seeks.
struct SeekTable {
    entries: Vec<PacketEntry>,
    /// `(entry, running maximum of the entries' first samples)` for the entries with a
    /// timestamp, in table order: the maximum makes it sorted, so a seek is a binary search
    /// (a 1-hour AAC track has 170,000 packets, and random ranges seek every time).
    starts: Vec<(usize, i64)>,
    /// The first samples come from the packets' constant length, not their coarse
    /// timestamps ([`SeekTable::on_grid`]).
    grid: bool,
}

impl SeekTable {
    /// The table of `entries`; `shift`: the samples the first packet gives before its
    /// timestamp (Opus pre-skip where the container has no edit for it).
    fn new(entries: Vec<PacketEntry>, time_base: Rational, rate: u32, shift: i64) -> SeekTable {
        let mut high = i64::MIN;
        let mut starts: Vec<(usize, i64)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                high = high.max(to_samples(e.pts?, time_base, rate));
                Some((i, high))
            })
            .collect();
        // Samples per tick of the timestamps: above 1, a timestamp says only roughly where
        // a packet's samples start.
        let tick = (i128::from(rate) * i128::from(time_base.num)).checked_div(i128::from(time_base.den)).unwrap_or(0);
        let grid = tick > 1 && starts.len() == entries.len() && Self::on_grid(&mut starts, tick as i64, shift);
        SeekTable { entries, starts, grid }
    }

    /// Timestamps coarser than a sample (Matroska's milliseconds: 48 samples at 48 kHz,
    /// and its muxers round the Opus codec delay in) place a packet's samples only to a
    /// tick; decoding places them exactly, each packet's after the last's. Where every
    /// packet holds the same number of samples (AAC, Opus, MP3 and AC-3 frames of one
    /// size), every timestamp within a tick of that grid, and a packet is much longer
    /// than a tick, packet `k`'s first sample is the first packet's plus `k` packets':
    /// `starts` is set to that, as a decode from the start counts. Else false.
    fn on_grid(starts: &mut [(usize, i64)], tick: i64, shift: i64) -> bool {
        let (Some(&(_, s0)), Some(&(_, last))) = (starts.first(), starts.last()) else { return false };
        let n = starts.len() as i64;
        if n < 3 {
            return false;
        }
        let d = (last - s0 + (n - 1) / 2) / (n - 1);
        if d <= 4 * (tick + 1) {
            return false;
        }
        let fits = starts.iter().enumerate().all(|(k, &(_, s))| (s - (s0 + k as i64 * d)).abs() <= tick + 1);
        if fits {
            for (k, st) in starts.iter_mut().enumerate() {
                st.1 = s0 - shift + k as i64 * d;
            }
        }
        fits
    }

    /// The first sample of entry `at`, where the table knows it better than the entry's
    /// timestamp (on a grid; with timestamps as fine as samples, the timestamp is exact).
    fn first_sample(&self, at: usize) -> Option<i64> {
        // On a grid every entry has a timestamp: entry `at` is start `at`.
        if self.grid { self.starts.get(at).map(|s| s.1) } else { None }
    }

    /// The entry to decode from for sample `target`: the last with a timestamp before the
    /// first one starting past `target` (0 when none is).
    fn last_starting_by(&self, target: i64) -> usize {
        self.packets_before(target, 0)
    }

    /// The entry `back` packets (with a timestamp) before the one holding sample `target`
    /// (0 when there are not so many).
    fn packets_before(&self, target: i64, back: usize) -> usize {
        let past = self.starts.partition_point(|&(_, s)| s <= target);
        past.checked_sub(1 + back).map_or(0, |k| self.starts[k].0)
    }
}

/// What a restarted decoder decodes before the packet holding the sample asked for.
enum Preroll {
    /// This many packets.
    Packets(usize),
    /// The packets from the one holding the sample this many samples before.
    Samples(i64),
}

/// What a restarted decoder needs before the sample asked for to reproduce it: AAC and
/// AC-3 the previous frame's overlap, so one packet (of any frame size: HE-AAC's are
/// 2048 samples, AAC-LC's 1024); Vorbis one long block (up to 4096 samples, in blocks of
/// two sizes); MP3 its bit reservoir (up to 511 bytes back, several frames at low rates);
/// Opus about 80 ms to converge (RFC 7845 section 4.6). Every packet more is decoded by
/// every seek: a one-second range of AAC is 47 packets.
fn preroll(codec: AudioCodec, rate: u32) -> Preroll {
    match codec {
        AudioCodec::Pcm | AudioCodec::Flac => Preroll::Samples(0),
        AudioCodec::Aac | AudioCodec::Ac3 | AudioCodec::Eac3 => Preroll::Packets(1),
        AudioCodec::Opus => Preroll::Samples(i64::from(rate) * 80 / 1000),
        AudioCodec::Mp3 | AudioCodec::Mp2 => Preroll::Samples(1152 * 10),
        AudioCodec::Vorbis => Preroll::Samples(4096),
    }
}

/// A timestamp in `tb` as a sample index at `rate`.
fn to_samples(ts: i64, tb: Rational, rate: u32) -> i64 {
    Rational::new(1, i64::from(rate.max(1))).rescale(ts, tb)
}

/// The track's shown window in sample indices, where the container states one.
fn window_in_samples(track: &Track, rate: u32) -> Option<(i64, Option<i64>)> {
    let (s, e) = track.window?;
    Some((to_samples(s, track.time_base, rate), e.map(|e| to_samples(e, track.time_base, rate))))
}

/// Where the track starts, in seconds, as ffprobe and torchcodec report it: its first
/// shown sample's time, less the container's CodecDelay (Matroska) rounded to the track's
/// time base, by which FFmpeg's demuxer moves the track's timestamps back (an Opus track
/// ffmpeg wrote starts at -0.007 s; its first sample is still the one at 0).
fn stream_start(track: &Track, info: &AudioInfo, first: i64, rate: u32) -> f64 {
    let rate = rate.max(1);
    if info.codec_delay_ns == 0 || track.window.is_some() {
        return first as f64 / f64::from(rate);
    }
    let nanos = Rational::new(1, 1_000_000_000);
    let delay = track.time_base.rescale(i64::try_from(info.codec_delay_ns).unwrap_or(i64::MAX), nanos);
    let first = track.time_base.rescale(first, Rational::new(1, i64::from(rate)));
    track.seconds(first.saturating_sub(delay))
}

/// The Opus header's pre-skip, in samples at 48 kHz (0 for other codecs).
fn opus_pre_skip(track: &Track) -> i64 {
    match (&track.codec, &track.config) {
        (TrackCodec::Audio(AudioCodec::Opus), CodecConfig::OpusHead(h)) if h.len() >= 12 => {
            i64::from(u16::from_le_bytes([h[10], h[11]]))
        }
        _ => 0,
    }
}

/// The index of the track's first sample: its first packet's timestamp (read, then the
/// demuxer rewound). A track whose packets carry none starts at 0.
fn first_index(demuxer: &mut Demuxer, track: &Track, rate: u32) -> Result<i64> {
    let mut found = 0;
    // Bounded: a file whose first packets are all of other tracks starts at 0.
    for _ in 0..10_000 {
        match demuxer.next_packet() {
            Ok(Some(p)) if p.track == track.index => {
                found = p.pts.map_or(0, |p| to_samples(p, track.time_base, rate));
                break;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    demuxer.rewind()?;
    Ok(found)
}

/// The index of the sample played at `seconds` at `rate`: the nearest, halves up, as
/// torchcodec rounds (`floor(t * rate + 0.5)`).
fn sample_at(seconds: f64, rate: u32) -> i64 {
    (seconds * f64::from(rate) + 0.5).floor() as i64
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}
