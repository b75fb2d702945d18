//! Which packets of a run the decoder must decode, which it needs to see only for their
//! headers, and which it can go without.
//!
//! A run decodes from a random access point to the frames it delivers. Pictures no other
//! picture refers to are left out unless delivered (H.264 `nal_ref_idc` 0; HEVC sub-layer
//! non-reference pictures of a stream with one temporal sub-layer). The pictures each
//! picture predicts from are followed too, through every slice's reference lists (H.264:
//! [`RefTracker`]; HEVC, drawn from the reference picture set: [`hevc::RefTracker`]). A
//! reference picture that no delivered frame reaches through them (in an x264 B-pyramid
//! stream, the B reference pictures of every mini-GOP before the frame asked for) is fed
//! for its headers only, which keeps the decoder's reference marking that of the whole
//! stream, and NVDEC leaves its decoding out. Where the tracker cannot follow the stream,
//! every reference picture is decoded, as before.

use crate::bitstream::annexb::split_all;
use crate::bitstream::avcc::{DecoderConfigRecord, LengthPrefixedNals};
use crate::bitstream::h264::RefTracker;
use crate::bitstream::hevc;
use crate::bitstream::nal::hevc_is_sub_layer_non_reference;
use crate::bitstream::refs::PictureRefs;
use crate::codec::Codec;
use crate::media::FrameIndex;

/// Whether pictures that no delivered frame reaches are fed for their headers only rather
/// than decoded: yes (H.264 and HEVC, the codecs with a tracker) unless
/// `VIDEO_HW_READER_HEADERS_ONLY=0`, for measuring what leaving them undecoded gains.
fn headers_only_enabled(codec: Codec) -> bool {
    crate::env::settings().reader_headers_only && matches!(codec, Codec::H264 | Codec::Hevc)
}

/// The reference tracker of a run's codec.
enum Tracker {
    H264(RefTracker),
    Hevc(hevc::RefTracker),
}

impl Tracker {
    fn access_unit<'a>(&mut self, nals: impl IntoIterator<Item = &'a [u8]>) -> crate::Result<Option<PictureRefs>> {
        match self {
            Tracker::H264(t) => t.access_unit(nals),
            Tracker::Hevc(t) => t.access_unit(nals),
        }
    }
}

/// What a run does with one of its packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Decoded: a frame the run delivers, or one they depend on.
    Decode,
    /// Fed for its headers only (`Decoder::submit_headers_only`).
    HeadersOnly,
    /// Not fed: a picture nothing refers to, not delivered.
    Leave,
}

/// Decides the [`Use`] of each packet of a track's runs (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Skipper {
    codec: Option<Codec>,
    /// Length-prefixed packets' length size (MP4, Matroska); `None` for Annex-B packets.
    length_size: Option<u8>,
    /// Pictures no delivered frame reaches are fed for their headers only (else decoded).
    headers_only: bool,
}

impl Skipper {
    /// For `index`'s track; leaves nothing out for codecs or streams where that is not
    /// known to be safe (AV1, VP9, HEVC with temporal sub-layers or unknown ones).
    pub fn new(index: &FrameIndex) -> Skipper {
        let record = index.track().config.record();
        let codec = match index.track().codec.video() {
            Some(Codec::H264) => Some(Codec::H264),
            Some(Codec::Hevc) => {
                // A sub-layer non-reference picture may be referred to by pictures of higher
                // sub-layers: only a stream of one sub-layer lets them go.
                let in_band =
                    index.parameter_sets_at(0).map(|s| split_all(s).into_iter().map(<[u8]>::to_vec).collect());
                let sets: Vec<Vec<u8>> = record.map(|r| r.parameter_sets.clone()).or(in_band).unwrap_or_default();
                let sps: Vec<_> = sets.iter().filter(|n| n.first().is_some_and(|b| (b >> 1) & 0x3f == 33)).collect();
                let one_layer = !sps.is_empty()
                    && sps
                        .iter()
                        .all(|n| crate::bitstream::hevc::parse_sps(n).is_ok_and(|s| s.max_sub_layers_minus1 == 0));
                one_layer.then_some(Codec::Hevc)
            }
            _ => None,
        };
        let headers_only = codec.is_some_and(headers_only_enabled);
        Skipper { codec, length_size: record.map(|r| r.length_size), headers_only }
    }

    /// One that leaves nothing out: every packet of a run is decoded.
    pub(crate) fn decode_all() -> Skipper {
        Skipper { codec: None, length_size: None, headers_only: false }
    }

    /// The same with feeding for headers only turned on or off whatever the setting.
    pub(crate) fn with_headers_only(self, on: bool) -> Skipper {
        Skipper { headers_only: on, ..self }
    }

    /// The use of each of a run's `packets` (decode order, the first a random access
    /// point with the in-band parameter sets in front; `record` the track's `avcC` where
    /// it has one) so that the packets numbered in `wanted` (ascending) decode to the
    /// pictures they give in the whole stream.
    pub fn uses(
        &self,
        record: Option<&DecoderConfigRecord>,
        packets: &[(usize, Vec<u8>)],
        wanted: &[usize],
    ) -> Vec<Use> {
        let is_wanted = |k: usize| wanted.binary_search(&k).is_ok();
        // Without feeding for headers only, the closure would decode every reference
        // picture anyway: what `droppable` below gives, without reading the slice headers.
        if let Some(uses) = self.headers_only.then(|| self.closure(record, packets, &is_wanted)).flatten() {
            return uses;
        }
        let keep = |i: usize, k: usize, data: &[u8]| i == 0 || is_wanted(k) || !self.droppable(data);
        packets.iter().enumerate().map(|(i, (k, d))| if keep(i, *k, d) { Use::Decode } else { Use::Leave }).collect()
    }

    /// The uses from the pictures the wanted ones reach through their slices' reference
    /// lists; `None` where the tracker cannot follow the stream or nothing is left out.
    fn closure(
        &self,
        record: Option<&DecoderConfigRecord>,
        packets: &[(usize, Vec<u8>)],
        is_wanted: &impl Fn(usize) -> bool,
    ) -> Option<Vec<Use>> {
        if packets.iter().all(|(k, _)| is_wanted(*k)) {
            return None;
        }
        let mut tracker = match self.codec? {
            Codec::H264 => Tracker::H264(RefTracker::new()),
            Codec::Hevc => Tracker::Hevc(hevc::RefTracker::new()),
            _ => return None,
        };
        if let Some(r) = record {
            tracker.access_unit(r.parameter_sets.iter().map(Vec::as_slice)).ok()?;
        }
        let mut pictures: Vec<Option<PictureRefs>> = Vec::with_capacity(packets.len());
        // The packet of each picture, by picture number.
        let mut packet_of = Vec::with_capacity(packets.len());
        for (i, (_, data)) in packets.iter().enumerate() {
            let refs = match self.length_size {
                Some(n) => {
                    let nals: Vec<&[u8]> = LengthPrefixedNals::new(data, n).collect::<Result<_, _>>().ok()?;
                    tracker.access_unit(nals)
                }
                None => tracker.access_unit(split_all(data)),
            }
            .ok()?;
            if let Some(p) = &refs {
                debug_assert_eq!(p.picture, packet_of.len());
                packet_of.push(i);
            }
            pictures.push(refs);
        }
        // References point back in decode order: going backwards, a packet is settled
        // before any it refers to is reached.
        let mut needed = vec![false; packets.len()];
        for i in (0..packets.len()).rev() {
            needed[i] |= is_wanted(packets[i].0) || pictures[i].is_none();
            if let (true, Some(p)) = (needed[i], &pictures[i]) {
                for &r in &p.refs {
                    needed[*packet_of.get(r)?] = true;
                }
            }
        }
        let uses = needed.iter().zip(&pictures).enumerate().map(|(i, (&needed, p))| match needed {
            true => Use::Decode,
            false if i == 0 || p.as_ref().is_some_and(|p| p.reference) => Use::HeadersOnly,
            false => Use::Leave,
        });
        Some(uses.collect())
    }

    /// True when every picture NAL unit of the packet is a non-reference picture.
    pub fn droppable(&self, data: &[u8]) -> bool {
        let Some(codec) = self.codec else { return false };
        let mut vcl = 0;
        let mut check = |nal: &[u8]| -> bool {
            let Some(&h) = nal.first() else { return true };
            match codec {
                Codec::H264 => match h & 0x1f {
                    1..=5 => {
                        vcl += 1;
                        h & 0x60 == 0
                    }
                    _ => true,
                },
                _ => match (h >> 1) & 0x3f {
                    t @ 0..=31 => {
                        vcl += 1;
                        hevc_is_sub_layer_non_reference(t)
                    }
                    _ => true,
                },
            }
        };
        let all = match self.length_size {
            Some(n) => LengthPrefixedNals::new(data, n).all(|nal| nal.is_ok_and(&mut check)),
            None => split_all(data).into_iter().all(&mut check),
        };
        all && vcl > 0
    }
}
