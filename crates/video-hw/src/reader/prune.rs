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
//!
//! libavcodec leaves such a picture out too (`skip_frame`), but not only its decoding: the
//! picture never enters its decoded picture buffer. For H.264 the decoder fills the
//! picture's `frame_num` as a gap, with a frame of its own order count, which may take
//! another picture's index in a later picture's lists, and the order counts after it
//! count from the reference pictures it did decode. The HEVC decoder (7.1 and later)
//! refuses a later picture whose reference picture set names the picture left out, even
//! among those kept only for later pictures; its order counts count from the last
//! picture of temporal sub-layer 0 decoded.
//! So unless the engine keeps such pictures in its buffer
//! (`EngineDescriptor::keeps_headers_only_references`), the run is followed again as
//! libavcodec would decode it ([`Skipper::leave_out_exactly`]): a picture is fed for its
//! headers only where every decoded picture after it keeps its lists and order count
//! (and, HEVC, no set names it); the others are decoded.

use crate::bitstream::annexb::split_all;
use crate::bitstream::avcc::{DecoderConfigRecord, LengthPrefixedNals};
use crate::bitstream::h264::LIST_END;
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
    fn new(codec: Codec, leaving_out: bool) -> Option<Tracker> {
        match codec {
            Codec::H264 if leaving_out => Some(Tracker::H264(RefTracker::filling_gaps())),
            Codec::H264 => Some(Tracker::H264(RefTracker::new())),
            Codec::Hevc => Some(Tracker::Hevc(hevc::RefTracker::new())),
            _ => None,
        }
    }

    fn access_unit<'a>(&mut self, nals: impl IntoIterator<Item = &'a [u8]>) -> crate::Result<Option<PictureRefs>> {
        match self {
            Tracker::H264(t) => t.access_unit(nals),
            Tracker::Hevc(t) => t.access_unit(nals),
        }
    }

    /// What the picture just taken (`refs`) looked like to a decoder: its reference lists
    /// in packet numbers (`packet_of` maps picture numbers; the frames filling a gap map to
    /// `LIST_END - 1`), and its order count. HEVC: the pictures in its lists, ascending
    /// (its lists are drawn in a fixed order from its reference picture set, which names
    /// pictures by order count).
    fn seen(&self, refs: &PictureRefs, packet_of: &[usize]) -> Seen {
        let packet = |p: usize| match p {
            LIST_END => LIST_END,
            p => packet_of.get(p).copied().unwrap_or(LIST_END - 1),
        };
        match self {
            Tracker::H264(t) => {
                let (lists, poc) = t.last_picture();
                (lists.iter().map(|&p| packet(p)).collect(), poc)
            }
            Tracker::Hevc(t) => (refs.refs.iter().map(|&p| packet(p)).collect(), t.last_poc()),
        }
    }

    /// Whether libavcodec can be given the access unit `nals` for its headers only and
    /// leave it out (see the module docs): a non-IRAP picture of slices, delimiters and SEI.
    fn can_leave_out(&self, nals: &[&[u8]]) -> bool {
        match self {
            Tracker::H264(t) => t.can_leave_out(nals.iter().copied()),
            // Slices 0-9 (not IRAP), 35 delimiter, 39/40 SEI: libavcodec skips every NAL
            // unit of the packet, parameter sets and end of sequence included.
            Tracker::Hevc(_) => {
                nals.iter().any(|n| n.first().is_some_and(|h| (h >> 1) & 0x3f <= 9))
                    && nals.iter().all(|n| n.first().is_some_and(|h| matches!((h >> 1) & 0x3f, 0..=9 | 35 | 39 | 40)))
            }
        }
    }
}

/// A decoded picture's reference lists (in packet numbers) and order count.
type Seen = (Vec<usize>, i32);

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
    /// The engine may leave pictures fed for their headers only out of its decoded
    /// picture buffer (libavcodec): only those whose leaving out changes no decoded
    /// picture are fed so (see the module docs).
    leave_out_exactly: bool,
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
        Skipper { codec, length_size: record.map(|r| r.length_size), headers_only, leave_out_exactly: true }
    }

    /// One that leaves nothing out: every packet of a run is decoded.
    pub(crate) fn decode_all() -> Skipper {
        Skipper { codec: None, length_size: None, headers_only: false, leave_out_exactly: true }
    }

    /// The same for an engine that keeps (`keeps`) the pictures fed for their headers
    /// only in its decoded picture buffer, or may not (the default, and libavcodec).
    pub(crate) fn for_engine_keeping_references(self, keeps: bool) -> Skipper {
        Skipper { leave_out_exactly: !keeps, ..self }
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
        let codec = self.codec?;
        let mut tracker = Tracker::new(codec, false)?;
        if let Some(r) = record {
            tracker.access_unit(r.parameter_sets.iter().map(Vec::as_slice)).ok()?;
        }
        let mut pictures: Vec<Option<PictureRefs>> = Vec::with_capacity(packets.len());
        let mut seen: Vec<Option<Seen>> = Vec::with_capacity(packets.len());
        // The packet of each picture, by picture number.
        let mut packet_of = Vec::with_capacity(packets.len());
        for (i, (_, data)) in packets.iter().enumerate() {
            let refs = tracker.access_unit(self.nals(data)?).ok()?;
            if let Some(p) = &refs {
                debug_assert_eq!(p.picture, packet_of.len());
                packet_of.push(i);
            }
            seen.push(refs.as_ref().map(|r| tracker.seen(r, &packet_of)));
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
        let mut uses: Vec<Use> = uses.collect();
        if self.leave_out_exactly {
            self.leave_out_exactly(record, packets, &mut uses, &seen);
        }
        Some(uses)
    }

    /// The NAL units of a packet.
    fn nals<'a>(&self, data: &'a [u8]) -> Option<Vec<&'a [u8]>> {
        match self.length_size {
            Some(n) => LengthPrefixedNals::new(data, n).collect::<Result<_, _>>().ok(),
            None => Some(split_all(data)),
        }
    }

    /// Turns the [`Use::HeadersOnly`] pictures that a decoder leaving them out (libavcodec)
    /// could not do without into [`Use::Decode`] (see the module docs): the run is followed
    /// again with them left out, and where a decoded picture's lists or order count are
    /// not the stream's (`seen`), the last picture left out before it is decoded instead,
    /// until none differs.
    fn leave_out_exactly(
        &self,
        record: Option<&DecoderConfigRecord>,
        packets: &[(usize, Vec<u8>)],
        uses: &mut [Use],
        seen: &[Option<Seen>],
    ) {
        let mut may_leave: Vec<bool> = uses.iter().map(|u| *u == Use::HeadersOnly).collect();
        // Each failed pass decodes one more picture: at most one pass per picture.
        for _ in 0..=packets.len() {
            match self.pass_leaving_out(record, packets, uses, seen, &may_leave) {
                Ok(left) => {
                    for (u, left) in uses.iter_mut().zip(left) {
                        if *u == Use::HeadersOnly && !left {
                            *u = Use::Decode;
                        }
                    }
                    return;
                }
                Err(at) => match may_leave[..at].iter().rposition(|&m| m) {
                    Some(i) => may_leave[i] = false,
                    None => break,
                },
            }
        }
        for u in uses.iter_mut().filter(|u| **u == Use::HeadersOnly) {
            *u = Use::Decode;
        }
    }

    /// One pass of [`Self::leave_out_exactly`]: which packets were left out, or the packet
    /// where a decoded picture differs from the stream's (or the model stops).
    fn pass_leaving_out(
        &self,
        record: Option<&DecoderConfigRecord>,
        packets: &[(usize, Vec<u8>)],
        uses: &[Use],
        seen: &[Option<Seen>],
        may_leave: &[bool],
    ) -> Result<Vec<bool>, usize> {
        let mut tracker = self.codec.and_then(|c| Tracker::new(c, true)).ok_or(0usize)?;
        if let Some(r) = record {
            tracker.access_unit(r.parameter_sets.iter().map(Vec::as_slice)).map_err(|_| 0usize)?;
        }
        let mut left = vec![false; packets.len()];
        let mut packet_of = Vec::with_capacity(packets.len());
        for (i, (_, data)) in packets.iter().enumerate() {
            if uses[i] == Use::Leave {
                continue;
            }
            let nals = self.nals(data).ok_or(i)?;
            // Left out: the decoder takes nothing of it (HEVC: a later picture naming it
            // is refused, see `hevc::RefTracker::leave_out`).
            if may_leave[i] && tracker.can_leave_out(&nals) {
                if let (Tracker::Hevc(t), Some((_, poc))) = (&mut tracker, &seen[i]) {
                    t.leave_out(*poc);
                }
                left[i] = true;
                continue;
            }
            let Some(refs) = tracker.access_unit(nals).map_err(|_| i)? else { continue };
            packet_of.push(i);
            if uses[i] == Use::Decode && seen[i].as_ref() != Some(&tracker.seen(&refs, &packet_of)) {
                return Err(i);
            }
        }
        Ok(left)
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
