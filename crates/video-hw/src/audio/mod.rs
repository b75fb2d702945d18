//! Audio decode: the samples of any audio track this crate demuxes (MP4/MOV, fragmented
//! MP4, Matroska/WebM, MPEG-TS) and of audio-only files (WAV, FLAC, Ogg, MP3, ADTS AAC),
//! as `f32` in [-1, 1], sample-accurate.
//!
//! ```no_run
//! use video_hw::audio::{AudioDecoder, AudioOptions};
//!
//! let mut dec = AudioDecoder::open("clip.mp4", AudioOptions::default())?;
//! println!("{} Hz, {} channels, {}", dec.metadata().sample_rate, dec.metadata().channels, dec.metadata().engine);
//! let all = dec.get_all_samples()?;             // every sample, as ffmpeg gives them
//! let cut = dec.get_samples_played_in_range(1.0, Some(2.5))?; // trimmed inside packets
//! assert_eq!(cut.channels, all.channels);
//! # Ok::<(), video_hw::Error>(())
//! ```
//!
//! Engines: FFmpeg's decoder where FFmpeg is found at run time (every codec it has; its
//! samples are ffmpeg's own), else the built-in ones that need no system library:
//! Symphonia (AAC-LC, MP3, FLAC, Vorbis, PCM) and ropus (Opus). The fallback is visible, and
//! [`AudioOptions::engine`] set to one engine refuses any other. What each engine decodes:
//! docs/audio.md.
//!
//! Priming and padding are dropped as ffmpeg drops them: the MP4 edit list, Opus pre-skip,
//! MP3's encoder delay. Resampling ([`AudioOptions::sample_rate`]) and mixing
//! ([`AudioOptions::channels`]) run after decoding.

mod decoder;
mod memory;
mod mix;
mod resample;
pub mod wav;

pub use decoder::{AudioDecoder, AudioInterrupt};

use crate::engine::{Engine, EnginePreference};

/// How an [`AudioDecoder`] opens its track and what it gives.
#[derive(Debug, Clone, Default)]
pub struct AudioOptions {
    /// The track, by its index in the file ([`Demuxer::tracks`](crate::media::Demuxer::tracks),
    /// ffmpeg's stream index); `None`: the one ffmpeg picks
    /// ([`Demuxer::audio_track`](crate::media::Demuxer::audio_track)).
    pub stream_index: Option<usize>,
    /// Resample to this rate; `None`: the track's own.
    pub sample_rate: Option<u32>,
    /// Mix to this many channels (1 and 2 from any layout, more by the default layout);
    /// `None`: the track's own.
    pub channels: Option<u16>,
    /// Which engine decodes: `Auto` (FFmpeg, else the built-in one, visibly) or one engine
    /// that never falls back.
    pub engine: EnginePreference,
}

/// What a track holds and how it is decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioMetadata {
    /// The codec's short name, as ffprobe gives it (`aac`, `opus`, `mp3`, `flac`, `pcm_s16le`, …).
    pub codec: String,
    /// The track's index in the file.
    pub stream_index: usize,
    /// Samples per second of the decoded track (before any resampling).
    pub sample_rate: u32,
    /// Channels of the decoded track (before any mixing).
    pub channels: u16,
    /// The channel layout, as ffmpeg names it (`mono`, `stereo`, `5.1`, …).
    pub layout: String,
    /// Duration in seconds, from the container's header where it states one.
    pub duration_seconds: Option<f64>,
    /// The time of the first sample shown, in seconds.
    pub begin_stream_seconds: f64,
    /// The engine that decodes it.
    pub engine: Engine,
    /// What runs, e.g. "symphonia aac".
    pub decoder: String,
    /// Rate of the samples this decoder gives (the resampled rate where one was asked).
    pub output_sample_rate: u32,
    /// Channels of the samples this decoder gives (after mixing).
    pub output_channels: u16,
}

/// Decoded samples: planar `f32`, one row a channel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AudioSamples {
    /// `channels` rows of `frames` samples each, row after row.
    pub data: Vec<f32>,
    /// Channels (rows).
    pub channels: usize,
    /// Samples per second.
    pub sample_rate: u32,
    /// The time of the first sample, in seconds.
    pub pts_seconds: f64,
}

impl AudioSamples {
    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.data.len().checked_div(self.channels).unwrap_or(0)
    }

    /// The duration, in seconds.
    pub fn duration_seconds(&self) -> f64 {
        if self.sample_rate == 0 { 0.0 } else { self.frames() as f64 / f64::from(self.sample_rate) }
    }

    /// Channel `c`'s samples.
    pub fn channel(&self, c: usize) -> &[f32] {
        let n = self.frames();
        &self.data[c * n..(c + 1) * n]
    }

    /// The samples interleaved (`ffmpeg -f f32le`'s order).
    pub fn interleaved(&self) -> Vec<f32> {
        let n = self.frames();
        let mut out = Vec::with_capacity(self.data.len());
        for i in 0..n {
            for c in 0..self.channels {
                out.push(self.data[c * n + i]);
            }
        }
        out
    }

    /// The samples interleaved (frame by frame, channels in order) into `buf`, replacing
    /// what it held, as little-endian bytes: signed 16-bit (`s16`, converted as
    /// [`f32_to_s16`]) or 32-bit float. For writers that reuse one buffer for chunk after
    /// chunk: no vector of samples is made on the way.
    pub fn interleave_le_into(&self, s16: bool, buf: &mut Vec<u8>) {
        if s16 {
            self.interleave_with(buf, |v, b: &mut [u8; 2]| *b = f32_to_s16(v).to_le_bytes());
        } else {
            self.interleave_with(buf, |v, b: &mut [u8; 4]| *b = v.to_le_bytes());
        }
    }

    fn interleave_with<const W: usize>(&self, buf: &mut Vec<u8>, put: impl Fn(f32, &mut [u8; W]) + Copy) {
        let (frames, channels) = (self.frames(), self.channels.max(1));
        // Every byte is written below: a buffer already this long (the chunk before) is not
        // cleared first (zeroing it was as long as filling it).
        buf.truncate(frames * channels * W);
        buf.resize(frames * channels * W, 0);
        let planes: Vec<&[f32]> = self.data.chunks_exact(frames.max(1)).take(channels).collect();
        // Mono and stereo as loops over whole frames, which the compiler vectorises; more
        // channels a channel at a time into its column.
        match planes[..] {
            [mono] => {
                for (b, &v) in buf.chunks_exact_mut(W).zip(mono) {
                    put_at(put, v, b);
                }
            }
            [left, right] => {
                for (b, (&l, &r)) in buf.chunks_exact_mut(2 * W).zip(left.iter().zip(right)) {
                    let (bl, br) = b.split_at_mut(W);
                    put_at(put, l, bl);
                    put_at(put, r, br);
                }
            }
            _ => {
                for (c, plane) in planes.iter().enumerate() {
                    for (frame, &v) in buf.chunks_exact_mut(channels * W).zip(plane.iter()) {
                        put_at(put, v, &mut frame[c * W..(c + 1) * W]);
                    }
                }
            }
        }
    }

    /// The samples interleaved as signed 16-bit integers, rounded and clipped as
    /// libswresample converts float to s16.
    pub fn interleaved_s16(&self) -> Vec<i16> {
        self.interleaved().into_iter().map(f32_to_s16).collect()
    }
}

/// Writes sample `v` into `b` (exactly `W` bytes) with `put`.
#[inline(always)]
fn put_at<const W: usize>(put: impl Fn(f32, &mut [u8; W]), v: f32, b: &mut [u8]) {
    if let Ok(b) = <&mut [u8; W]>::try_from(b) {
        put(v, b);
    }
}

/// libswresample's float to s16: `lrintf(x * 32768)` clipped to the range.
pub fn f32_to_s16(x: f32) -> i16 {
    (x * 32768.0).round_ties_even().clamp(-32768.0, 32767.0) as i16
}

/// The engine that would decode `track` (`auto`'s choice: FFmpeg where it has a decoder for
/// the codec, else the built-in one), or why none would; for `video-hw info`.
pub fn engine_for(track: &crate::media::Track) -> crate::error::Result<Engine> {
    use crate::media::TrackCodec;
    let TrackCodec::Audio(codec) = track.codec else {
        return Err(crate::error::Error::invalid_input(format!("track {} is not audio", track.index)));
    };
    crate::registry::audio_engine_for(&crate::backend::audio::AudioParams::of_track(track, codec))
}

/// The channel layout ffmpeg gives a decoded track of `channels` channels by default.
pub(crate) fn layout_name(channels: u16) -> String {
    match channels {
        1 => "mono".into(),
        2 => "stereo".into(),
        3 => "2.1".into(),
        4 => "4.0".into(),
        5 => "5.0".into(),
        6 => "5.1".into(),
        7 => "6.1".into(),
        8 => "7.1".into(),
        n => format!("{n} channels"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_to_bytes_matches_interleaved_for_every_channel_count() {
        for channels in [1usize, 2, 3, 6] {
            let frames = 5;
            let data: Vec<f32> = (0..channels * frames).map(|i| i as f32 / 64.0 - 0.4).collect();
            let s = AudioSamples { data, channels, sample_rate: 8000, pts_seconds: 0.0 };
            let mut buf = vec![7u8; 3];
            s.interleave_le_into(false, &mut buf);
            let want: Vec<u8> = s.interleaved().iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(buf, want, "{channels} channels, f32");
            // Reused, longer than needed: shortened, every byte rewritten.
            buf.resize(want.len() * 3, 9);
            s.interleave_le_into(true, &mut buf);
            let want: Vec<u8> = s.interleaved_s16().iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(buf, want, "{channels} channels, s16");
        }
    }
}
