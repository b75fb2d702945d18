//! Length-prefixed (AVCC / HVCC, as in MP4) samples and their decoder configuration
//! records (`avcC`, ISO/IEC 14496-15 5.3.3; `hvcC`, 8.3.3), both ways to and from Annex-B.

use super::annexb;
use super::rbsp;
use video_hw_types::codec::Codec;
use video_hw_types::error::{Error, Result};

/// A decoder configuration record: the NAL length size and the parameter sets that
/// MP4 keeps out of band.
///
/// ```
/// use video_hw::bitstream::avcc::DecoderConfigRecord;
/// let sps = [0x67, 0x42, 0xc0, 0x1e, 0xda];
/// let pps = [0x68, 0xce, 0x3c, 0x80];
/// let rec = DecoderConfigRecord::h264(4, vec![sps.to_vec()], vec![pps.to_vec()]);
/// let bytes = rec.to_avcc().unwrap();
/// assert_eq!(DecoderConfigRecord::parse_avcc(&bytes).unwrap(), rec);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderConfigRecord {
    /// H.264 (`avcC`) or HEVC (`hvcC`).
    pub codec: Codec,
    /// Bytes in each NAL length prefix: 1, 2 or 4.
    pub length_size: u8,
    /// Parameter-set NAL units (header included, emulation prevention in place), in the
    /// order a decoder needs them: VPS (HEVC), SPS, PPS, then any SEI in the record.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// Keeps a parameter set from a record; an empty entry holds no NAL unit and is skipped
/// (kept, a record of 2-byte empty entries would grow a 24-byte `Vec` per entry: 12 times
/// its size, found by the fuzz allocation check).
fn push_nonempty(parameter_sets: &mut Vec<Vec<u8>>, nal: &[u8]) {
    if !nal.is_empty() {
        parameter_sets.push(nal.to_vec());
    }
}

/// Reads big-endian fields out of a record, with the byte offset for errors.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(Error::invalid_bitstream(
                self.pos as u64,
                format!(
                    "{}: truncated reading {field} ({n} bytes wanted, {} left)",
                    self.what,
                    self.data.len() - self.pos
                ),
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }
    fn u16(&mut self, field: &str) -> Result<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

impl DecoderConfigRecord {
    /// An H.264 record from SPS and PPS NAL units.
    pub fn h264(length_size: u8, sps: Vec<Vec<u8>>, pps: Vec<Vec<u8>>) -> Self {
        let mut parameter_sets = sps;
        parameter_sets.extend(pps);
        DecoderConfigRecord { codec: Codec::H264, length_size, parameter_sets }
    }

    /// An HEVC record from VPS, SPS and PPS NAL units.
    pub fn hevc(length_size: u8, vps: Vec<Vec<u8>>, sps: Vec<Vec<u8>>, pps: Vec<Vec<u8>>) -> Self {
        let mut parameter_sets = vps;
        parameter_sets.extend(sps);
        parameter_sets.extend(pps);
        DecoderConfigRecord { codec: Codec::Hevc, length_size, parameter_sets }
    }

    /// Parses a record of the given codec.
    pub fn parse(codec: Codec, record: &[u8]) -> Result<Self> {
        match codec {
            Codec::H264 => Self::parse_avcc(record),
            Codec::Hevc => Self::parse_hvcc(record),
            other => Err(Error::unsupported(format!("decoder configuration record for {other}"), "H.264/HEVC only")),
        }
    }

    /// Parses an `avcC` box payload (AVCDecoderConfigurationRecord). Empty parameter-set
    /// entries are skipped.
    pub fn parse_avcc(record: &[u8]) -> Result<Self> {
        let mut c = Cursor { data: record, pos: 0, what: "avcC" };
        let version = c.u8("configurationVersion")?;
        if version != 1 {
            return Err(Error::invalid_bitstream(0, format!("avcC: configurationVersion {version}, expected 1")));
        }
        c.take(3, "profile/compatibility/level")?;
        let length_size = (c.u8("lengthSizeMinusOne")? & 3) + 1;
        if length_size == 3 {
            return Err(Error::invalid_bitstream(4, "avcC: NAL length size 3 is not allowed"));
        }
        let mut parameter_sets = Vec::new();
        let num_sps = c.u8("numOfSequenceParameterSets")? & 0x1f;
        for _ in 0..num_sps {
            let len = c.u16("sequenceParameterSetLength")? as usize;
            push_nonempty(&mut parameter_sets, c.take(len, "sequenceParameterSetNALUnit")?);
        }
        let num_pps = c.u8("numOfPictureParameterSets")?;
        for _ in 0..num_pps {
            let len = c.u16("pictureParameterSetLength")? as usize;
            push_nonempty(&mut parameter_sets, c.take(len, "pictureParameterSetNALUnit")?);
        }
        // The High-profile extension (chroma format, bit depth, SPS extensions) may follow;
        // decoders read those from the SPS itself, so it is not needed here.
        Ok(DecoderConfigRecord { codec: Codec::H264, length_size, parameter_sets })
    }

    /// Parses an `hvcC` box payload (HEVCDecoderConfigurationRecord). Empty NAL unit
    /// entries are skipped.
    pub fn parse_hvcc(record: &[u8]) -> Result<Self> {
        let mut c = Cursor { data: record, pos: 0, what: "hvcC" };
        let version = c.u8("configurationVersion")?;
        // Some early muxers wrote version 0; the layout is the same.
        if version > 1 {
            return Err(Error::invalid_bitstream(0, format!("hvcC: configurationVersion {version}, expected 1")));
        }
        c.take(20, "profile_tier_level and stream fields")?;
        let length_size = (c.u8("lengthSizeMinusOne")? & 3) + 1;
        if length_size == 3 {
            return Err(Error::invalid_bitstream(21, "hvcC: NAL length size 3 is not allowed"));
        }
        let num_arrays = c.u8("numOfArrays")?;
        let mut parameter_sets = Vec::new();
        for _ in 0..num_arrays {
            c.u8("array_completeness/NAL_unit_type")?;
            let n = c.u16("numNalus")?;
            for _ in 0..n {
                let len = c.u16("nalUnitLength")? as usize;
                push_nonempty(&mut parameter_sets, c.take(len, "nalUnit")?);
            }
        }
        Ok(DecoderConfigRecord { codec: Codec::Hevc, length_size, parameter_sets })
    }

    /// Writes an `avcC` payload. Profile, compatibility and level come from the first
    /// SPS; fails when there is none.
    pub fn to_avcc(&self) -> Result<Vec<u8>> {
        let is = |t: u8| move |n: &&Vec<u8>| n.first().is_some_and(|b| b & 0x1f == t);
        let sps: Vec<&Vec<u8>> = self.parameter_sets.iter().filter(is(7)).collect();
        let pps: Vec<&Vec<u8>> = self.parameter_sets.iter().filter(is(8)).collect();
        let first = sps.first().filter(|s| s.len() >= 4).ok_or_else(|| Error::invalid_input("avcC needs an SPS"))?;
        if sps.len() > 31 || pps.len() > 255 {
            return Err(Error::invalid_input("avcC holds at most 31 SPS and 255 PPS"));
        }
        let mut out = vec![1, first[1], first[2], first[3], 0xfc | (self.length_size.clamp(1, 4) - 1)];
        out.push(0xe0 | sps.len() as u8);
        for s in &sps {
            push_u16_prefixed(&mut out, s)?;
        }
        out.push(pps.len() as u8);
        for p in &pps {
            push_u16_prefixed(&mut out, p)?;
        }
        Ok(out)
    }

    /// Writes an `hvcC` payload. The general profile/tier/level fields are copied from
    /// the first SPS's profile_tier_level; fails when there is no SPS.
    pub fn to_hvcc(&self) -> Result<Vec<u8>> {
        let sps = self
            .parameter_sets
            .iter()
            .find(|n| n.first().is_some_and(|b| (b >> 1) & 0x3f == 33))
            .ok_or_else(|| Error::invalid_input("hvcC needs an SPS"))?;
        let rbsp = rbsp::unescape(sps);
        // NAL header (2) + vps id/max_sub_layers/nesting (1) + general PTL (12).
        if rbsp.len() < 15 {
            return Err(Error::invalid_input("hvcC: SPS too short for profile_tier_level"));
        }
        let ptl = &rbsp[3..15];
        let mut out = Vec::with_capacity(64);
        out.push(1);
        out.extend_from_slice(&ptl[..12]); // profile space/tier/idc, compat flags, constraint flags, level
        out.extend_from_slice(&[0xf0, 0x00]); // min_spatial_segmentation_idc = 0
        out.push(0xfc); // parallelismType unknown
        out.push(0xfc | 1); // chroma format: 4:2:0 (informative; decoders read the SPS)
        out.push(0xf8); // bit depth luma - 8 (informative)
        out.push(0xf8); // bit depth chroma - 8 (informative)
        out.extend_from_slice(&[0, 0]); // avgFrameRate unknown
        out.push(0x0c | (self.length_size.clamp(1, 4) - 1)); // 1 temporal layer, nested
        let mut arrays: Vec<(u8, Vec<&Vec<u8>>)> = Vec::new();
        for nal in &self.parameter_sets {
            let Some(&b) = nal.first() else { continue };
            let t = (b >> 1) & 0x3f;
            match arrays.iter_mut().find(|(ty, _)| *ty == t) {
                Some((_, v)) => v.push(nal),
                None => arrays.push((t, vec![nal])),
            }
        }
        out.push(arrays.len() as u8);
        for (t, nals) in arrays {
            out.push(0x80 | t);
            out.extend_from_slice(&(nals.len() as u16).to_be_bytes());
            for n in nals {
                push_u16_prefixed(&mut out, n)?;
            }
        }
        Ok(out)
    }

    /// Writes the record for its codec (`avcC` or `hvcC`).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        match self.codec {
            Codec::Hevc => self.to_hvcc(),
            _ => self.to_avcc(),
        }
    }

    /// The parameter sets as an Annex-B byte string (each after `00 00 00 01`).
    pub fn parameter_sets_annexb(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for ps in &self.parameter_sets {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(ps);
        }
        out
    }
}

fn push_u16_prefixed(out: &mut Vec<u8>, nal: &[u8]) -> Result<()> {
    let len = u16::try_from(nal.len()).map_err(|_| Error::invalid_input("parameter set longer than 65535 bytes"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(nal);
    Ok(())
}

/// Iterates over the NAL units of a length-prefixed sample.
///
/// Each item is a NAL unit, or an error with the byte offset of a length field that runs
/// past the sample's end (after which iteration stops). Zero-length units are skipped.
///
/// ```
/// use video_hw::bitstream::avcc::LengthPrefixedNals;
/// let sample = [0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 1, 0x06];
/// let nals: Vec<_> = LengthPrefixedNals::new(&sample, 4).collect::<Result<_, _>>().unwrap();
/// assert_eq!(nals, vec![&[0x65, 0x88][..], &[0x06][..]]);
/// ```
pub struct LengthPrefixedNals<'a> {
    data: &'a [u8],
    pos: usize,
    length_size: usize,
    failed: bool,
}

impl<'a> LengthPrefixedNals<'a> {
    /// Reads `sample` with `length_size`-byte big-endian length fields (1, 2 or 4).
    pub fn new(sample: &'a [u8], length_size: u8) -> Self {
        LengthPrefixedNals { data: sample, pos: 0, length_size: length_size as usize, failed: false }
    }

    /// Byte offset of the next length field.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for LengthPrefixedNals<'a> {
    type Item = Result<&'a [u8]>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed || self.pos >= self.data.len() {
                return None;
            }
            if !matches!(self.length_size, 1 | 2 | 4) {
                self.failed = true;
                return Some(Err(Error::invalid_input(format!("NAL length size {} (1, 2 or 4)", self.length_size))));
            }
            let at = self.pos;
            let rest = &self.data[at..];
            if rest.len() < self.length_size {
                self.failed = true;
                return Some(Err(Error::invalid_bitstream(
                    at as u64,
                    format!("{} trailing bytes are too few for a {}-byte NAL length", rest.len(), self.length_size),
                )));
            }
            let len = rest[..self.length_size].iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
            let body = &rest[self.length_size..];
            if len > body.len() {
                self.failed = true;
                return Some(Err(Error::invalid_bitstream(
                    at as u64,
                    format!("NAL length {len} is larger than the {} bytes left in the sample", body.len()),
                )));
            }
            self.pos = at + self.length_size + len;
            if len == 0 {
                continue;
            }
            return Some(Ok(&body[..len]));
        }
    }
}

/// Converts a length-prefixed sample to Annex-B (4-byte start codes), appending to `out`.
///
/// ```
/// let mut out = Vec::new();
/// video_hw::bitstream::avcc::length_prefixed_to_annexb(&[0, 2, 0x65, 0x88], 2, &mut out).unwrap();
/// assert_eq!(out, [0, 0, 0, 1, 0x65, 0x88]);
/// ```
pub fn length_prefixed_to_annexb(sample: &[u8], length_size: u8, out: &mut Vec<u8>) -> Result<()> {
    out.reserve(sample.len() + 16);
    for nal in LengthPrefixedNals::new(sample, length_size) {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal?);
    }
    Ok(())
}

/// Converts Annex-B bytes to a length-prefixed sample with `length_size`-byte lengths.
///
/// ```
/// let s = video_hw::bitstream::avcc::annexb_to_length_prefixed(&[0, 0, 1, 0x65, 0x88], 4).unwrap();
/// assert_eq!(s, [0, 0, 0, 2, 0x65, 0x88]);
/// ```
pub fn annexb_to_length_prefixed(annexb: &[u8], length_size: u8) -> Result<Vec<u8>> {
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(Error::invalid_input(format!("NAL length size {length_size} (1, 2 or 4)")));
    }
    let nals = annexb::split_all(annexb);
    let mut out = Vec::with_capacity(annexb.len() + nals.len() * 4);
    let max = if length_size == 4 { u32::MAX as usize } else { (1usize << (8 * length_size as usize)) - 1 };
    for nal in nals {
        if nal.len() > max {
            return Err(Error::invalid_input(format!(
                "NAL unit of {} bytes does not fit a {length_size}-byte length",
                nal.len()
            )));
        }
        let be = (nal.len() as u32).to_be_bytes();
        out.extend_from_slice(&be[4 - length_size as usize..]);
        out.extend_from_slice(nal);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_past_end_is_an_error_with_offset() {
        let sample = [0, 0, 0, 1, 0x65, 0, 0, 0, 9, 1];
        let items: Vec<_> = LengthPrefixedNals::new(&sample, 4).collect();
        assert_eq!(items.len(), 2);
        match &items[1] {
            Err(Error::InvalidBitstream { offset, .. }) => assert_eq!(*offset, 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_length_field() {
        let items: Vec<_> = LengthPrefixedNals::new(&[0, 0], 4).collect();
        assert!(matches!(items.as_slice(), [Err(Error::InvalidBitstream { offset: 0, .. })]));
    }

    #[test]
    fn hvcc_round_trip() {
        // NAL header 42 01, then vps id etc. and a 12-byte PTL.
        let sps = vec![0x42, 0x01, 0x01, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5d, 0xa0];
        let rec =
            DecoderConfigRecord::hevc(4, vec![vec![0x40, 0x01, 0x0c]], vec![sps.clone()], vec![vec![0x44, 0x01, 0xc1]]);
        let bytes = rec.to_hvcc().unwrap();
        assert_eq!(bytes[1], 0x01); // profile idc 1
        assert_eq!(bytes[12], 0x5d); // level 93
        assert_eq!(DecoderConfigRecord::parse_hvcc(&bytes).unwrap(), rec);
    }

    #[test]
    fn empty_record_entries_are_skipped() {
        // Regression (fuzz allocation check): 32769 empty entries in a 65564-byte hvcC
        // took one 1572864-byte allocation.
        let n = 32769u16;
        let mut hvcc = vec![1u8];
        hvcc.extend_from_slice(&[0; 20]);
        hvcc.extend_from_slice(&[0xff, 2, 0x20]);
        hvcc.extend_from_slice(&n.to_be_bytes());
        hvcc.extend(std::iter::repeat_n(0u8, 2 * n as usize));
        hvcc.extend_from_slice(&[0x21, 0, 2, 0, 0, 0, 3, 0x42, 0x01, 0x01]);
        let rec = DecoderConfigRecord::parse_hvcc(&hvcc).unwrap();
        assert_eq!(rec.parameter_sets, vec![vec![0x42, 0x01, 0x01]]);
        assert!(rec.parameter_sets.capacity() < 16);
        // avcC: an empty SPS entry, then an SPS and a PPS.
        let avcc = [1, 0x64, 0, 0x1f, 0xff, 0xe2, 0, 0, 0, 2, 0x67, 0x64, 1, 0, 1, 0x68];
        let rec = DecoderConfigRecord::parse_avcc(&avcc).unwrap();
        assert_eq!(rec.parameter_sets, vec![vec![0x67, 0x64], vec![0x68]]);
    }

    #[test]
    fn records_reject_garbage_without_panic() {
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 1) as u8).collect();
            let _ = DecoderConfigRecord::parse_avcc(&junk);
            let _ = DecoderConfigRecord::parse_hvcc(&junk);
        }
    }

    #[test]
    fn annexb_length_prefixed_round_trip() {
        let annexb = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 4, 5, 6];
        for ls in [1u8, 2, 4] {
            let lp = annexb_to_length_prefixed(&annexb, ls).unwrap();
            let mut back = Vec::new();
            length_prefixed_to_annexb(&lp, ls, &mut back).unwrap();
            assert_eq!(annexb::split_all(&back), annexb::split_all(&annexb));
        }
    }
}
