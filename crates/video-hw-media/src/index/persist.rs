//! The saved form of a [`FrameIndex`]: what reopening a file needs to skip the scan that
//! built its index (every packet's timestamps, place and flags, the frames in presentation
//! order, the random access points and the parameter sets in force there, the damage that
//! ended the index), and what the demuxer learnt reading the file in order that its seeks
//! need ([`SeekPoints`]).
//!
//! A small binary form of our own rather than a format crate: the index is a few columns
//! of integers, which delta- and varint-coded take 10-20 bytes a frame (a 10-minute file's
//! index is a few hundred KiB, not the megabytes a self-describing form takes), and every
//! count is checked against the bytes left before anything is allocated, so no file can
//! make the reader allocate more than it holds. The library has no serde dependency and
//! this needs none.
//!
//! Layout: [`MAGIC`], [`FORMAT_VERSION`] (u32 LE), the identity (opaque bytes the cache
//! compares whole), the index, and a 64-bit checksum of everything before it. Anything
//! that does not read back exactly — a flipped byte, a truncated file, a different
//! version — is [`Unusable`], and the caller builds the index again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{FrameIndex, IndexedFrame};
use crate::types::{PacketEntry, Track};
use crate::{Container, SeekPoints};

/// The first bytes of a saved index.
const MAGIC: &[u8; 8] = b"VHIDX\r\n\x1a";

/// The version of the saved form and of the index built. Bump it when either changes:
/// the layout here, or what [`FrameIndex::build`] makes of a file (a saved index of an
/// older build is then remade, never used).
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Why a saved index cannot be used (it is then built again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unusable(pub &'static str);

/// The saved form of `index` (and of `seek`, the demuxer's seek points), tagged with
/// `identity`.
pub(crate) fn encode<'a>(identity: &[u8], index: &'a FrameIndex, seek: Option<&'a SeekPoints>) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(64 + index.packets.len() * 16 + index.frames.len() * 8));
    w.0.extend_from_slice(MAGIC);
    w.0.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    w.bytes(identity);

    // Parameter-set blobs, each once (most random access points share the same sets).
    let mut blobs: Vec<&[u8]> = Vec::new();
    let mut blob_of: HashMap<&[u8], u64> = HashMap::new();
    let mut blob = |b: &'a [u8]| -> u64 {
        *blob_of.entry(b).or_insert_with(|| {
            blobs.push(b);
            blobs.len() as u64 - 1
        })
    };

    let n = index.packets.len();
    w.u(n as u64);
    let (mut pts, mut dts, mut pos, mut seek_at) = (0i64, 0i64, 0u64, 0u64);
    for p in &index.packets {
        let flags = u64::from(p.pts.is_some())
            | u64::from(p.dts.is_some()) << 1
            | u64::from(p.duration.is_some()) << 2
            | u64::from(p.keyframe) << 3;
        w.u(flags);
        if let Some(v) = p.pts {
            w.i(v.wrapping_sub(pts));
            pts = v;
        }
        if let Some(v) = p.dts {
            w.i(v.wrapping_sub(dts));
            dts = v;
        }
        if let Some(v) = p.duration {
            w.i(v);
        }
        w.i(p.pos.wrapping_sub(pos) as i64);
        pos = p.pos;
        w.u(u64::from(p.size));
        w.i(p.seek.wrapping_sub(seek_at) as i64);
        seek_at = p.seek;
    }
    w.bits(&index.random_access);
    w.u(index.idr.len() as u64);
    w.bits(&index.idr);

    w.u(index.frames.len() as u64);
    let mut pts = 0i64;
    for (f, &end) in index.frames.iter().zip(&index.frame_end) {
        w.i(f.pts.wrapping_sub(pts));
        pts = f.pts;
        w.i(f.duration);
        w.u(u64::from(f.packet) << 1 | u64::from(f.keyframe));
        w.u(u64::from(end.wrapping_sub(f.packet)));
    }

    let sets: Vec<(u64, u64)> = index.parameter_sets.iter().map(|(&p, s)| (u64::from(p), blob(s.as_slice()))).collect();
    let points: Option<(u64, Vec<(u64, u64)>)> =
        seek.map(|s| (s.known_until, s.at.iter().map(|(at, b)| (*at, blob(b.as_slice()))).collect()));
    w.u(blobs.len() as u64);
    for b in &blobs {
        w.bytes(b);
    }
    w.u(sets.len() as u64);
    for (p, b) in sets {
        w.u(p);
        w.u(b);
    }
    match points {
        None => w.u(0),
        Some((known_until, at)) => {
            w.u(1);
            w.u(known_until);
            w.u(at.len() as u64);
            let mut prev = 0u64;
            for (offset, b) in at {
                w.u(offset.wrapping_sub(prev));
                prev = offset;
                w.u(b);
            }
        }
    }

    w.opt_str(index.damage.as_deref());
    w.opt_str(index.damage_reason.as_deref());
    match index.damage_offset {
        None => w.u(0),
        Some(o) => {
            w.u(1);
            w.u(o);
        }
    }
    let sum = checksum(&w.0);
    w.0.extend_from_slice(&sum.to_le_bytes());
    w.0
}

/// The identity a saved index was tagged with, if `bytes` is one (checked whole first:
/// magic, version, checksum).
pub(crate) fn identity(bytes: &[u8]) -> Result<&[u8], Unusable> {
    let body = checked(bytes)?;
    Reader { b: body, at: MAGIC.len() + 4 }.bytes().ok_or(Unusable("the saved index is damaged"))
}

/// The index saved in `bytes`, for `track` of a `container` file as the demuxer opened it
/// now, with the demuxer's seek points.
pub(crate) fn decode(
    bytes: &[u8],
    track: Track,
    container: Container,
) -> Result<(FrameIndex, Option<SeekPoints>), Unusable> {
    let body = checked(bytes)?;
    let mut r = Reader { b: body, at: MAGIC.len() + 4 };
    read_index(&mut r, track, container).ok_or(Unusable("the saved index is damaged"))
}

/// The bytes before the checksum, once magic, version and checksum hold.
fn checked(bytes: &[u8]) -> Result<&[u8], Unusable> {
    if bytes.len() < MAGIC.len() + 4 + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(Unusable("not a saved index"));
    }
    let version = u32::from_le_bytes(bytes[MAGIC.len()..MAGIC.len() + 4].try_into().unwrap_or_default());
    if version != FORMAT_VERSION {
        return Err(Unusable("saved by another version of the index"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if u64::from_le_bytes(sum.try_into().unwrap_or_default()) != checksum(body) {
        return Err(Unusable("the saved index is damaged (checksum)"));
    }
    Ok(body)
}

fn read_index(r: &mut Reader<'_>, track: Track, container: Container) -> Option<(FrameIndex, Option<SeekPoints>)> {
    r.bytes()?; // the identity, compared by the caller
    // Each packet takes at least 4 bytes (flags, position, size, seek).
    let n = r.count(4)?;
    let mut packets = Vec::with_capacity(n);
    let (mut pts, mut dts, mut pos, mut seek_at) = (0i64, 0i64, 0u64, 0u64);
    for _ in 0..n {
        let flags = r.u()?;
        let pts_v = if flags & 1 != 0 {
            pts = pts.wrapping_add(r.i()?);
            Some(pts)
        } else {
            None
        };
        let dts_v = if flags & 2 != 0 {
            dts = dts.wrapping_add(r.i()?);
            Some(dts)
        } else {
            None
        };
        let duration = if flags & 4 != 0 { Some(r.i()?) } else { None };
        pos = pos.wrapping_add(r.i()? as u64);
        let size = u32::try_from(r.u()?).ok()?;
        seek_at = seek_at.wrapping_add(r.i()? as u64);
        packets.push(PacketEntry {
            pts: pts_v,
            dts: dts_v,
            duration,
            keyframe: flags & 8 != 0,
            pos,
            size,
            seek: seek_at,
        });
    }
    let random_access = r.bits(n)?;
    let idr_len = usize::try_from(r.u()?).ok().filter(|&k| k <= n)?;
    let idr = r.bits(idr_len)?;

    let frames_n = r.count(4)?;
    let mut frames = Vec::with_capacity(frames_n);
    let mut frame_end = Vec::with_capacity(frames_n);
    let mut pts = 0i64;
    for _ in 0..frames_n {
        pts = pts.wrapping_add(r.i()?);
        let duration = r.i()?;
        let p = r.u()?;
        let packet = u32::try_from(p >> 1).ok().filter(|&p| (p as usize) < n)?;
        let end = packet.checked_add(u32::try_from(r.u()?).ok()?).filter(|&e| (e as usize) < n)?;
        frames.push(IndexedFrame { pts, duration, keyframe: p & 1 != 0, packet });
        frame_end.push(end);
    }
    let mut frame_of_packet = vec![None; n];
    for (k, f) in frames.iter().enumerate() {
        frame_of_packet[f.packet as usize] = Some(k as u32);
    }

    let blob_n = r.count(1)?;
    let mut blobs = Vec::with_capacity(blob_n);
    for _ in 0..blob_n {
        blobs.push(Arc::new(r.bytes()?.to_vec()));
    }
    let sets_n = r.count(2)?;
    let mut parameter_sets = BTreeMap::new();
    for _ in 0..sets_n {
        let p = u32::try_from(r.u()?).ok().filter(|&p| (p as usize) < n)?;
        let b = blobs.get(usize::try_from(r.u()?).ok()?)?.clone();
        parameter_sets.insert(p, b);
    }
    let seek = match r.u()? {
        0 => None,
        1 => {
            let known_until = r.u()?;
            let at_n = r.count(2)?;
            let mut at = Vec::with_capacity(at_n);
            let mut prev = 0u64;
            for _ in 0..at_n {
                prev = prev.wrapping_add(r.u()?);
                at.push((prev, blobs.get(usize::try_from(r.u()?).ok()?)?.clone()));
            }
            Some(SeekPoints { known_until, at })
        }
        _ => return None,
    };
    let damage = r.opt_str()?;
    let damage_reason = r.opt_str()?;
    let damage_offset = match r.u()? {
        0 => None,
        1 => Some(r.u()?),
        _ => return None,
    };
    if r.at != r.b.len() {
        return None;
    }
    let index = FrameIndex {
        track,
        container,
        packets,
        frame_of_packet,
        frame_end,
        random_access,
        idr,
        frames,
        parameter_sets,
        damage,
        damage_offset,
        damage_reason,
    };
    Some((index, seek))
}

/// A 64-bit checksum (FNV-1a over 8-byte words, then the tail): catches damage, not
/// tampering — a saved index is the user's own file, and one that reads back wrong gives
/// wrong frames, never unsafety.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().unwrap_or_default())).wrapping_mul(PRIME);
        h ^= h >> 29;
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(PRIME);
    }
    h ^ bytes.len() as u64
}

/// Appends varints (LEB128; signed values zigzag-coded).
struct Writer(Vec<u8>);

impl Writer {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.u(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u(0),
            Some(s) => {
                self.u(1);
                self.bytes(s.as_bytes());
            }
        }
    }

    fn bits(&mut self, v: &[bool]) {
        for chunk in v.chunks(8) {
            self.0.push(chunk.iter().enumerate().fold(0u8, |acc, (i, &b)| acc | u8::from(b) << i));
        }
    }
}

/// Reads what [`Writer`] wrote; `None` on anything short or out of range.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn u(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.at)?;
            self.at += 1;
            v |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn i(&mut self) -> Option<i64> {
        let v = self.u()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A count of items of at least `min_each` bytes each, refused where the bytes left
    /// cannot hold them (nothing is allocated for a count a damaged file claims).
    fn count(&mut self, min_each: usize) -> Option<usize> {
        let n = usize::try_from(self.u()?).ok()?;
        (n.checked_mul(min_each)? <= self.b.len() - self.at).then_some(n)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u()?).ok()?;
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u()? {
            0 => Some(None),
            1 => Some(Some(String::from_utf8(self.bytes()?.to_vec()).ok()?)),
            _ => None,
        }
    }

    fn bits(&mut self, n: usize) -> Option<Vec<bool>> {
        let bytes = self.b.get(self.at..self.at.checked_add(n.div_ceil(8))?)?;
        self.at += bytes.len();
        Some((0..n).map(|i| bytes[i / 8] >> (i % 8) & 1 != 0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Demuxer;

    /// A saved index with its checksum made right again after `change`: what the parser
    /// itself must survive (the checksum stops damage before it gets there).
    fn resealed(good: &[u8], change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut b = good[..good.len() - 8].to_vec();
        change(&mut b);
        let sum = checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    #[test]
    fn damaged_indexes_that_pass_the_checksum_never_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        for name in ["media/h264-aac.ts", "h264/open-gop-cars-320x240.h264"] {
            let mut d = Demuxer::open(root.join(name)).unwrap();
            let track = d.video_track().unwrap().index;
            let index = FrameIndex::build(&mut d, track).unwrap();
            let good = encode(b"id", &index, d.seek_points().as_ref());
            let (back, seek) = decode(&good, index.track().clone(), index.container()).unwrap();
            assert_eq!(back.frames(), index.frames(), "{name}");
            assert_eq!(back.packets(), index.packets(), "{name}");
            assert_eq!(seek, d.seek_points(), "{name}");
            assert_eq!(identity(&good), Ok(&b"id"[..]));
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ good.len() as u64;
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            for _ in 0..2000 {
                let (at, how) = (next() as usize % (good.len() - 8), next());
                let bad = resealed(&good, |b| match how % 4 {
                    0 => b[at] ^= 1 << ((how >> 8) % 8),
                    1 => b[at] = (how >> 8) as u8,
                    2 => b.truncate(at),
                    _ => b.insert(at, (how >> 8) as u8),
                });
                // Either answer is fine; a panic or an allocation past the file is not.
                let _ = decode(&bad, index.track().clone(), index.container());
            }
        }
    }

    #[test]
    fn varints_round_trip() {
        let mut w = Writer(Vec::new());
        let values = [0i64, 1, -1, 127, -128, i64::MAX, i64::MIN, 1 << 40];
        for &v in &values {
            w.i(v);
            w.u(v as u64);
        }
        let mut r = Reader { b: &w.0, at: 0 };
        for &v in &values {
            assert_eq!(r.i(), Some(v));
            assert_eq!(r.u(), Some(v as u64));
        }
        assert_eq!(r.u(), None);
    }

    #[test]
    fn counts_past_the_bytes_left_are_refused() {
        let mut w = Writer(Vec::new());
        w.u(1 << 40);
        assert_eq!(Reader { b: &w.0, at: 0 }.count(4), None);
        let mut w = Writer(Vec::new());
        w.u(2);
        w.0.extend_from_slice(&[0; 8]);
        assert_eq!(Reader { b: &w.0, at: 0 }.count(4), Some(2));
        assert_eq!(Reader { b: &w.0, at: 0 }.count(5), None);
    }
}
