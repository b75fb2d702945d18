//! Incremental Annex-B byte-stream splitter (H.264 Annex B, HEVC Annex B).
//!
//! Feed it chunks split anywhere — inside a start code too — and it hands out NAL
//! units without their start codes and without trailing zero bytes. A NAL unit that
//! lies wholly inside one chunk is lent straight out of that chunk; only the NAL unit
//! still open at the end of a chunk is copied, so large chunks cost one `memmem`
//! scan and almost no copying.

use memchr::memmem;

use video_hw_types::error::{Error, Result};

/// The default cap on one NAL unit (a 8K intra picture in one slice is far below it).
pub const DEFAULT_MAX_NAL_SIZE: usize = 64 << 20;

/// One NAL unit as handed out by the splitter.
#[derive(Debug, Clone, Copy)]
pub struct NalRef<'a> {
    /// The NAL unit, header included, emulation prevention still in place.
    pub data: &'a [u8],
    /// Stream offset of the NAL unit's first byte (after its start code).
    pub offset: u64,
    /// The timestamp of the chunk this NAL unit started in, given only to the first
    /// NAL unit that starts in a chunk (see [`AnnexBSplitter::push`]).
    pub pts: Option<i64>,
}

/// Splits an Annex-B byte stream into NAL units, incrementally.
///
/// ```
/// use video_hw::bitstream::annexb::AnnexBSplitter;
/// let stream = [0, 0, 0, 1, 0x67, 0xaa, 0, 0, 1, 0x68, 0xbb, 0];
/// let mut nals = Vec::new();
/// let mut s = AnnexBSplitter::new();
/// // split inside the second start code
/// s.push(&stream[..7], None, |n| nals.push(n.data.to_vec())).unwrap();
/// s.push(&stream[7..], None, |n| nals.push(n.data.to_vec())).unwrap();
/// s.finish(|n| nals.push(n.data.to_vec()));
/// assert_eq!(nals, vec![vec![0x67, 0xaa], vec![0x68, 0xbb]]);
/// ```
#[derive(Debug)]
pub struct AnnexBSplitter {
    finder: memmem::Finder<'static>,
    /// Bytes of the NAL unit still open at the end of the last chunk.
    pending: Vec<u8>,
    /// True once a start code has been seen (bytes before the first one are skipped).
    in_nal: bool,
    /// Zero bytes at the very end of everything pushed so far (capped at 2).
    tail_zeros: u8,
    /// Stream offset of the next byte to be pushed.
    offset: u64,
    /// Offset of the first byte of the open NAL unit.
    nal_offset: u64,
    /// Timestamp owed to the open NAL unit.
    nal_pts: Option<i64>,
    /// Bytes skipped before the first start code.
    skipped: u64,
    max_nal_size: usize,
    /// True after an oversized NAL unit: bytes are dropped until the next start code.
    discarding: bool,
}

impl Default for AnnexBSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl AnnexBSplitter {
    /// A splitter with the default NAL size cap ([`DEFAULT_MAX_NAL_SIZE`]).
    pub fn new() -> Self {
        Self::with_max_nal_size(DEFAULT_MAX_NAL_SIZE)
    }

    /// A splitter that refuses NAL units larger than `max` bytes.
    pub fn with_max_nal_size(max: usize) -> Self {
        AnnexBSplitter {
            finder: memmem::Finder::new(&[0u8, 0, 1]).into_owned(),
            pending: Vec::new(),
            in_nal: false,
            tail_zeros: 0,
            offset: 0,
            nal_offset: 0,
            nal_pts: None,
            skipped: 0,
            max_nal_size: max,
            discarding: false,
        }
    }

    /// Total bytes pushed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.offset
    }

    /// Bytes that came before the first start code (not part of any NAL unit).
    pub fn bytes_skipped(&self) -> u64 {
        self.skipped
    }

    /// Feeds one chunk. `emit` is called for every NAL unit completed by this chunk.
    /// `pts` is attached to the first NAL unit that starts inside this chunk.
    ///
    /// Fails only when a NAL unit grows past the size cap; the oversized unit is
    /// dropped and splitting resumes at the next start code, so the caller may go on.
    pub fn push(&mut self, chunk: &[u8], pts: Option<i64>, mut emit: impl FnMut(NalRef<'_>)) -> Result<()> {
        self.push_until(chunk, pts, |nal| {
            emit(nal);
            true
        })
        .0
    }

    /// Like [`push`](Self::push), but `emit` may ask to pause by returning false: the
    /// splitter then stops at the next start code and returns how many bytes of `chunk`
    /// it took (all of them when it did not pause). The rest, `chunk[taken..]`, must be
    /// pushed next (as a chunk of its own, with no timestamp) to go on as if nothing had
    /// happened. [`AccessUnitAssembler`](super::access_unit::AccessUnitAssembler) pauses
    /// this way while its queue is full.
    ///
    /// ```
    /// use video_hw::bitstream::annexb::AnnexBSplitter;
    /// let stream = [0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0xaa, 0, 0, 1, 0x68, 0xbb];
    /// let mut s = AnnexBSplitter::new();
    /// let mut nals = Vec::new();
    /// // Take one NAL unit at a time.
    /// let mut rest = &stream[..];
    /// while !rest.is_empty() {
    ///     let (result, taken) = s.push_until(rest, None, |n| {
    ///         nals.push(n.data.to_vec());
    ///         false
    ///     });
    ///     result.unwrap();
    ///     rest = &rest[taken..];
    /// }
    /// s.finish(|n| nals.push(n.data.to_vec()));
    /// assert_eq!(nals, vec![vec![0x09, 0xf0], vec![0x67, 0xaa], vec![0x68, 0xbb]]);
    /// ```
    pub fn push_until(
        &mut self,
        chunk: &[u8],
        pts: Option<i64>,
        mut emit: impl FnMut(NalRef<'_>) -> bool,
    ) -> (Result<()>, usize) {
        let go_on = std::cell::Cell::new(true);
        let mut emit = |nal: NalRef<'_>| {
            if !emit(nal) {
                go_on.set(false);
            }
        };
        let base = self.offset;
        self.offset += chunk.len() as u64;
        let mut pts = pts;
        let mut pos = 0usize;
        let mut result = Ok(());

        // A start code split over the previous chunk and this one.
        let boundary_end = match (self.tail_zeros, chunk) {
            (2.., [1, ..]) => Some(1),
            (1.., [0, 1, ..]) => Some(2),
            _ => None,
        };
        if let Some(end) = boundary_end {
            self.close_pending(&mut emit);
            pos = end;
            self.open_nal(base + end as u64, &mut pts);
        }

        // Whole start codes inside this chunk.
        let mut from = pos;
        while let Some(rel) = self.finder.find(&chunk[from..]) {
            let sc = from + rel; // index of the first 00 of 00 00 01
            let body = &chunk[pos..sc];
            if self.in_nal {
                if self.pending.is_empty() && !self.discarding {
                    let nal = strip_trailing_zeros(body);
                    if !nal.is_empty() {
                        if nal.len() > self.max_nal_size {
                            result = Err(self.oversize(self.nal_offset));
                        } else {
                            emit(NalRef { data: nal, offset: self.nal_offset, pts: self.nal_pts.take() });
                        }
                    }
                } else {
                    if let Err(e) = self.append(body) {
                        result = Err(e);
                    }
                    self.close_pending(&mut emit);
                }
            } else {
                self.skipped += sc as u64;
            }
            pos = sc + 3;
            from = pos;
            self.open_nal(base + pos as u64, &mut pts);
            if !go_on.get() && pos < chunk.len() {
                // Pause here: a NAL unit has just opened, nothing is pending, and what
                // was taken ends in `00 00 01`, so no start code straddles the cut.
                self.offset = base + pos as u64;
                self.tail_zeros = 0;
                return (result, pos);
            }
        }

        // The rest of the chunk belongs to the open NAL unit.
        let rest = &chunk[pos..];
        if self.in_nal {
            if let Err(e) = self.append(rest) {
                result = Err(e);
            }
        } else {
            self.skipped += rest.len() as u64;
        }
        self.tail_zeros = trailing_zero_count(chunk, self.tail_zeros);
        // A timestamp whose chunk started no NAL unit is dropped, as ffmpeg's parsers do.
        (result, chunk.len())
    }

    /// Ends the stream: hands out the last open NAL unit, if any.
    pub fn finish(&mut self, mut emit: impl FnMut(NalRef<'_>)) {
        self.close_pending(&mut emit);
        self.in_nal = false;
        self.tail_zeros = 0;
    }

    /// Drops any partial NAL unit and waits for a start code again; the byte count
    /// (and so the offsets of later NAL units) goes on.
    pub fn reset(&mut self) {
        self.pending.clear();
        self.in_nal = false;
        self.tail_zeros = 0;
        self.nal_pts = None;
        self.discarding = false;
    }

    /// Starts a new NAL unit whose first byte is at stream offset `offset`.
    fn open_nal(&mut self, offset: u64, pts: &mut Option<i64>) {
        self.in_nal = true;
        self.discarding = false;
        self.nal_offset = offset;
        self.nal_pts = pts.take();
    }

    /// Appends bytes to the open NAL unit, enforcing the size cap.
    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        if self.discarding {
            return Ok(());
        }
        if self.pending.len() + bytes.len() > self.max_nal_size {
            // Trailing zeros do not count: they may be the next start code's.
            let effective = self.pending.len() + strip_trailing_zeros(bytes).len();
            if effective > self.max_nal_size {
                self.pending = Vec::new();
                self.discarding = true;
                return Err(self.oversize(self.nal_offset));
            }
        }
        self.pending.extend_from_slice(bytes);
        Ok(())
    }

    fn oversize(&self, offset: u64) -> Error {
        Error::invalid_bitstream(
            offset,
            format!("NAL unit larger than the {} byte limit (missing start codes?)", self.max_nal_size),
        )
    }

    /// Emits the pending NAL unit (if any) and clears it.
    fn close_pending(&mut self, emit: &mut impl FnMut(NalRef<'_>)) {
        if self.in_nal && !self.discarding {
            let nal = strip_trailing_zeros(&self.pending);
            if !nal.is_empty() {
                emit(NalRef { data: nal, offset: self.nal_offset, pts: self.nal_pts.take() });
            }
        }
        self.pending.clear();
        self.discarding = false;
    }
}

/// `data` without its trailing zero bytes (never part of a NAL unit).
fn strip_trailing_zeros(data: &[u8]) -> &[u8] {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &data[..end]
}

/// Zero bytes at the end of `previous ++ chunk`, capped at 2.
fn trailing_zero_count(chunk: &[u8], previous: u8) -> u8 {
    let mut n = 0u8;
    for &b in chunk.iter().rev().take(2) {
        if b != 0 {
            return n;
        }
        n += 1;
    }
    if n as usize == chunk.len() { (n + previous).min(2) } else { n }
}

/// Splits a whole in-memory Annex-B stream, collecting the NAL units (borrowed).
///
/// ```
/// let nals = video_hw::bitstream::annexb::split_all(&[0, 0, 1, 9, 0xf0, 0, 0, 0, 1, 0x67]);
/// assert_eq!(nals, vec![&[9u8, 0xf0][..], &[0x67][..]]);
/// ```
pub fn split_all(stream: &[u8]) -> Vec<&[u8]> {
    let finder = memmem::Finder::new(&[0u8, 0, 1]);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for sc in finder.find_iter(stream) {
        if let Some(s) = start {
            let nal = strip_trailing_zeros(&stream[s..sc]);
            if !nal.is_empty() {
                out.push(nal);
            }
        }
        start = Some(sc + 3);
    }
    if let Some(s) = start {
        let nal = strip_trailing_zeros(&stream[s.min(stream.len())..]);
        if !nal.is_empty() {
            out.push(nal);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_chunks(chunks: &[&[u8]]) -> Vec<(Vec<u8>, u64)> {
        let mut out = Vec::new();
        let mut s = AnnexBSplitter::new();
        for c in chunks {
            s.push(c, None, |n| out.push((n.data.to_vec(), n.offset))).unwrap();
        }
        s.finish(|n| out.push((n.data.to_vec(), n.offset)));
        out
    }

    #[test]
    fn three_and_four_byte_start_codes_and_trailing_zeros() {
        let s = [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3, 0, 0];
        let got = split_chunks(&[&s]);
        assert_eq!(got, vec![(vec![0x67, 1], 4), (vec![0x68, 2], 12), (vec![0x65, 3], 17)]);
    }

    #[test]
    fn every_split_point_gives_the_same_nals() {
        let s = [9u8, 9, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 0, 0, 3, 2, 0, 0, 1, 0x65, 3];
        let whole = split_chunks(&[&s]);
        assert_eq!(whole.len(), 3);
        for i in 0..=s.len() {
            for j in i..=s.len() {
                assert_eq!(split_chunks(&[&s[..i], &s[i..j], &s[j..]]), whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn single_byte_chunks() {
        let s = [0u8, 0, 1, 0x67, 0, 0, 0, 1, 0x68, 0, 0, 1, 0, 0, 1, 0x41];
        let chunks: Vec<&[u8]> = s.chunks(1).collect();
        assert_eq!(split_chunks(&chunks), split_chunks(&[&s]));
    }

    #[test]
    fn garbage_before_first_start_code_is_skipped() {
        let mut s = AnnexBSplitter::new();
        let mut n = 0;
        s.push(&[1, 2, 3, 0, 0, 1, 0x67], None, |_| n += 1).unwrap();
        s.finish(|_| n += 1);
        assert_eq!(n, 1);
        assert_eq!(s.bytes_skipped(), 3);
    }

    #[test]
    fn start_codes_only_give_nothing() {
        assert!(split_chunks(&[&[0, 0, 1, 0, 0, 1, 0, 0, 0, 1]]).is_empty());
        assert!(split_chunks(&[&[]]).is_empty());
    }

    #[test]
    fn oversized_nal_is_an_error_then_recovers() {
        let mut s = AnnexBSplitter::with_max_nal_size(4);
        let mut got = Vec::new();
        let r = s.push(&[0, 0, 1, 1, 2, 3, 4, 5, 6], None, |n| got.push(n.data.to_vec()));
        assert!(r.is_err() || s.push(&[7], None, |n| got.push(n.data.to_vec())).is_err());
        s.push(&[0, 0, 1, 0x67, 0xaa], None, |n| got.push(n.data.to_vec())).unwrap();
        s.finish(|n| got.push(n.data.to_vec()));
        assert_eq!(got, vec![vec![0x67, 0xaa]]);
    }

    #[test]
    fn pts_goes_to_first_nal_starting_in_chunk() {
        let mut s = AnnexBSplitter::new();
        let mut got = Vec::new();
        s.push(&[0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67], Some(10), |n| got.push(n.pts)).unwrap();
        s.push(&[0x11, 0, 0, 1, 0x68], Some(20), |n| got.push(n.pts)).unwrap();
        s.finish(|n| got.push(n.pts));
        assert_eq!(got, vec![Some(10), None, Some(20)]);
    }

    #[test]
    fn pausing_and_resuming_gives_the_same_nals() {
        let s = [9u8, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 0, 0, 3, 2, 0, 0, 1, 0, 0, 1, 0x65, 3, 0, 0];
        let whole = split_chunks(&[&s]);
        for pause_after in 0..4 {
            let mut s2 = AnnexBSplitter::new();
            let mut got = Vec::new();
            let mut rest: &[u8] = &s;
            let mut pts = Some(5);
            loop {
                let (r, taken) = s2.push_until(rest, pts.take(), |n| {
                    got.push((n.data.to_vec(), n.offset));
                    got.len() != pause_after
                });
                r.unwrap();
                rest = &rest[taken..];
                if rest.is_empty() {
                    break;
                }
            }
            s2.finish(|n| got.push((n.data.to_vec(), n.offset)));
            assert_eq!(got, whole, "pause after {pause_after}");
            assert_eq!(s2.bytes_seen(), s.len() as u64);
        }
    }

    #[test]
    fn split_all_matches_incremental() {
        let s = [0u8, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0];
        let inc: Vec<Vec<u8>> = split_chunks(&[&s]).into_iter().map(|x| x.0).collect();
        let all: Vec<Vec<u8>> = split_all(&s).into_iter().map(|x| x.to_vec()).collect();
        assert_eq!(inc, all);
    }
}
