//! Audio facts the containers hold, read without decoding: channel layouts in FFmpeg's
//! terms ([`ChannelLayout`]), AAC's AudioSpecificConfig and ADTS headers, Opus's
//! identification header, and iTunes gapless information.
//!
//! The demuxers use these to report each audio track's rate, channels and layout as
//! ffprobe does ([`AudioInfo`](super::AudioInfo)); the audio decode session reads the
//! same structures to configure its engines. Everything here is safe and never panics:
//! bad input is an [`Error::InvalidBitstream`](crate::Error::InvalidBitstream) with the
//! byte offset of the bad field inside the bytes given.
//!
//! ```
//! use video_hw::media::audio::{AudioSpecificConfig, ChannelLayout};
//!
//! let asc = AudioSpecificConfig::parse(&[0x11, 0x90])?; // AAC LC, 48 kHz, stereo
//! assert_eq!((asc.sample_rate, asc.channels), (48000, 2));
//! assert_eq!(asc.layout, ChannelLayout::STEREO);
//! assert_eq!(ChannelLayout::default_for(6).name(), "5.1");
//! # Ok::<(), video_hw::Error>(())
//! ```

mod aac;
mod ac3;
mod bits;
mod itunes;
mod layout;
mod opus;
mod track;

pub use aac::{ADTS_MIN_HEADER, AdtsHeader, AudioSpecificConfig, SAMPLE_RATES, layout_of_config};
pub use ac3::Ac3Header;
pub use itunes::ItunSmpb;
pub use layout::{ChannelLayout, ch, vorbis_order};
pub use opus::OpusHead;
pub(crate) use track::{facts, wav_layout};

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No input panics any parser; what parses describes itself consistently.
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(c) = AudioSpecificConfig::parse(&bytes) {
                prop_assert_eq!(c.layout.channels, c.channels);
                let again = AudioSpecificConfig::parse(&c.to_bytes());
                prop_assert!(again.is_ok(), "{:?} -> {:?}", c, c.to_bytes());
            }
            if let Ok(h) = AdtsHeader::parse(&bytes) {
                prop_assert!(h.frame_len > h.header_len);
                let asc = AudioSpecificConfig::parse(&h.audio_specific_config());
                prop_assert!(asc.is_ok() || h.object_type == 4 + 1 || h.channel_config == 0 || h.object_type >= 3);
            }
            let mut head = b"OpusHead".to_vec();
            head.extend(&bytes);
            for b in [&bytes[..], &head[..]] {
                if let Ok(h) = OpusHead::parse(b) {
                    prop_assert_eq!(h.mapping.len(), usize::from(h.channels));
                    prop_assert_eq!(OpusHead::parse(&h.to_bytes()).ok(), Some(h.clone()));
                    prop_assert_eq!(h.layout().channels, h.channels);
                }
            }
            let _ = ItunSmpb::parse(&String::from_utf8_lossy(&bytes));
        }

        /// A core config written and read back is the same config.
        #[test]
        fn asc_round_trip(object_type in 1u8..=4, index in 0usize..13, config in 1u8..=7, short in any::<bool>()) {
            let mut w = bits::BitWriter::default();
            for (n, v) in [(5, u32::from(object_type)), (4, index as u32), (4, u32::from(config)), (3, u32::from(short) << 2)] {
                w.put(n, v);
            }
            let bytes = w.finish();
            let c = AudioSpecificConfig::parse(&bytes).unwrap();
            prop_assert_eq!(c.sample_rate, SAMPLE_RATES[index]);
            prop_assert_eq!(c.to_bytes(), bytes);
        }
    }
}
