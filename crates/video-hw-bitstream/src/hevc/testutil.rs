//! Test helpers: a bit writer for hand-made NAL units.

use crate::rbsp::escape;

/// Writes bits most significant first, with exp-Golomb codes.
#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the low `n` bits of `v`.
    pub fn u(&mut self, n: u32, v: u64) -> &mut Self {
        for i in (0..n).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if (v >> i) & 1 == 1 {
                *self.bytes.last_mut().unwrap() |= 0x80 >> (self.bits % 8);
            }
            self.bits += 1;
        }
        self
    }

    pub fn flag(&mut self, b: bool) -> &mut Self {
        self.u(1, b as u64)
    }

    pub fn ue(&mut self, v: u32) -> &mut Self {
        let x = v as u64 + 1;
        let len = 64 - x.leading_zeros();
        self.u(len - 1, 0).u(len, x)
    }

    pub fn se(&mut self, v: i32) -> &mut Self {
        let k = if v > 0 { 2 * v as i64 - 1 } else { -2 * v as i64 };
        self.ue(k as u32)
    }

    /// Bits written so far.
    pub fn len(&self) -> usize {
        self.bits
    }

    /// rbsp_trailing_bits(), then the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.u(1, 1);
        while !self.bits.is_multiple_of(8) {
            self.u(1, 0);
        }
        self.bytes
    }

    /// The bytes, padded with zero bits, no stop bit.
    pub fn raw(self) -> Vec<u8> {
        self.bytes
    }

    /// A NAL unit of type `nal_type` (layer 0, TemporalId 0) carrying this payload with
    /// rbsp_trailing_bits() and emulation prevention.
    pub fn nal(self, nal_type: u8) -> Vec<u8> {
        let mut out = vec![nal_type << 1, 1];
        out.extend_from_slice(&escape(&self.finish()));
        out
    }
}

// Real NAL units from the shared corpus (slices cut after their first 16 bytes).

/// VPS of cros-codecs/64x64-I*.h265 (x265, Main, level 2.1).
pub const VPS_64: [u8; 24] = [
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x3f, 0x95, 0x98, 0x09,
];
/// SPS of cros-codecs/64x64-I-P-B-P.h265: 64x64, POC lsb 8 bits, DPB 4, reorder 1, BT.601 colour, 30 fps.
pub const SPS_64: [u8; 48] = [
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0,
    0x20, 0x81, 0x05, 0x96, 0x44, 0xe4, 0x93, 0x2b, 0xff, 0xc0, 0x00, 0x40, 0x00, 0x5a, 0x83, 0x03, 0x03, 0x02, 0x00,
    0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x10,
];
/// PPS of cros-codecs/64x64-I-P-B-P.h265.
pub const PPS_64: [u8; 7] = [0x44, 0x01, 0xc1, 0x72, 0xb4, 0x22, 0x40];
/// IDR_N_LP slice of cros-codecs/64x64-I-P-B-P.h265.
pub const SLICE_64_IDR: [u8; 16] =
    [0x28, 0x01, 0xaf, 0x05, 0x38, 0xc0, 0xe4, 0x11, 0x1e, 0xed, 0x95, 0x4f, 0x12, 0x34, 0x0d, 0x99];
/// TRAIL_R P slice (POC 2) of cros-codecs/64x64-I-P-B-P.h265.
pub const SLICE_64_P: [u8; 16] =
    [0x02, 0x01, 0xd0, 0x11, 0x57, 0x84, 0x31, 0x82, 0xb4, 0xa1, 0x23, 0xaa, 0xe5, 0x91, 0xef, 0x12];
/// TRAIL_N B slice (POC 1) of cros-codecs/64x64-I-P-B-P.h265.
pub const SLICE_64_B: [u8; 16] =
    [0x00, 0x01, 0xe0, 0x24, 0xbf, 0x86, 0x09, 0x70, 0xfb, 0xb8, 0xfe, 0x83, 0x6d, 0x10, 0xac, 0x11];
/// SPS of cros-codecs/bear.h265: 320x184 with a conformance window to 320x180, 29.97 fps.
pub const SPS_BEAR: [u8; 39] = [
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0,
    0x0a, 0x08, 0x0b, 0x9f, 0x79, 0x65, 0x79, 0x24, 0xca, 0xe0, 0x10, 0x00, 0x00, 0x06, 0x40, 0x00, 0x00, 0xbb, 0x50,
    0x80,
];
/// SPS of fate-suite/hdr10tags-both.h265: Main 10, 560x320, BT.2020 PQ, 30000/1001.
pub const SPS_HDR10: [u8; 44] = [
    0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0,
    0x04, 0x62, 0x01, 0x41, 0x36, 0x59, 0x58, 0xa9, 0x24, 0x49, 0xae, 0x6a, 0x12, 0x20, 0x12, 0x08, 0x00, 0x00, 0x1f,
    0x48, 0x00, 0x03, 0xa9, 0x80, 0x40,
];
/// SPS of hevc.js/i_64x64_10bit.265: general_profile_idc 4 (RExt), 10-bit.
pub const SPS_REXT: [u8; 36] = [
    0x42, 0x01, 0x01, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00, 0x9d, 0xb8, 0x00, 0x00, 0x03, 0x00, 0x00, 0x1e, 0xa0, 0x20,
    0x81, 0x04, 0xd9, 0x6e, 0x92, 0x93, 0x0b, 0x80, 0x40, 0x00, 0x00, 0xfa, 0x00, 0x00, 0x18, 0x6a, 0x02,
];
/// SPS of fate-suite/dv84.h265: Main 10 1920x1088 cropped to 1080, default scaling lists, HLG.
pub const SPS_DV84: [u8; 36] = [
    0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0xb0, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x78, 0xa0,
    0x03, 0xc0, 0x80, 0x11, 0x07, 0xca, 0xd8, 0x81, 0x5e, 0xe4, 0x59, 0x54, 0xd4, 0x24, 0x48, 0x24, 0x02,
];

/// Writes a profile_tier_level(1, 0) for Main profile, level 4.0.
pub fn ptl_main(w: &mut BitWriter) {
    w.u(8, 0x01).u(32, 0x6000_0000).u(48, 0).u(8, 120);
}

/// A minimal SPS payload writer with the fields tests vary.
pub struct SpsSpec {
    pub id: u32,
    pub width: u32,
    pub height: u32,
    pub log2_max_poc_lsb: u32,
    pub conf_win: Option<[u32; 4]>,
    pub chroma_format_idc: u32,
    pub bit_depth: u32,
}

impl Default for SpsSpec {
    fn default() -> Self {
        SpsSpec {
            id: 0,
            width: 64,
            height: 64,
            log2_max_poc_lsb: 4,
            conf_win: None,
            chroma_format_idc: 1,
            bit_depth: 8,
        }
    }
}

impl SpsSpec {
    /// The SPS NAL unit (CTB 64, min CB 8, one explicit short-term RPS, no VUI).
    pub fn nal(&self) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.u(4, 0).u(3, 0).flag(true);
        ptl_main(&mut w);
        w.ue(self.id).ue(self.chroma_format_idc);
        if self.chroma_format_idc == 3 {
            w.flag(false);
        }
        w.ue(self.width).ue(self.height);
        match self.conf_win {
            Some([l, r, t, b]) => w.flag(true).ue(l).ue(r).ue(t).ue(b),
            None => w.flag(false),
        };
        w.ue(self.bit_depth - 8).ue(self.bit_depth - 8).ue(self.log2_max_poc_lsb - 4);
        w.flag(true).ue(4).ue(2).ue(0); // ordering
        w.ue(0).ue(3).ue(0).ue(3).ue(1).ue(1); // CB 8..64, TB 4..32, depths
        w.flag(false).flag(false).flag(true).flag(false); // scaling, amp, sao, pcm
        w.ue(1).ue(1).ue(0).ue(0).flag(true); // one RPS: S0 = {-1}
        w.flag(false).flag(true).flag(true).flag(false).flag(false); // lt, tmvp, strong, vui, ext
        w.nal(33)
    }
}

/// A PPS NAL unit with the given id, SPS id and output_flag_present_flag.
pub fn pps_nal(id: u32, sps_id: u32, output_flag_present: bool) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.ue(id).ue(sps_id).flag(false).flag(output_flag_present).u(3, 0);
    w.flag(false).flag(false).ue(0).ue(0).se(0); // sdh, cabac init, ref idx, init qp
    w.flag(false).flag(false).flag(false).se(0).se(0); // cip, ts, cu qp delta, cb, cr
    w.flag(false).flag(false).flag(false).flag(false).flag(false).flag(false); // .. tiles, wpp
    w.flag(true).flag(false).flag(false).flag(false).ue(0).flag(false).flag(false);
    w.nal(34)
}

/// A slice segment NAL unit (layer 0, TemporalId `tid`): `first` flag, PPS 0, no
/// dependent segments; `poc_lsb` is written unless the type is IDR.
pub fn slice_nal(nal_type: u8, tid: u8, first: bool, slice_type: u32, poc_lsb: u32, lsb_bits: u32) -> Vec<u8> {
    slice_nal_ext(nal_type, tid, first, slice_type, poc_lsb, lsb_bits, None)
}

/// [`slice_nal`] with an optional pic_output_flag (for a PPS with output_flag_present_flag).
pub fn slice_nal_ext(
    nal_type: u8,
    tid: u8,
    first: bool,
    slice_type: u32,
    poc_lsb: u32,
    lsb_bits: u32,
    pic_output_flag: Option<bool>,
) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.flag(first);
    if (16..=23).contains(&nal_type) {
        w.flag(false);
    }
    w.ue(0);
    // (64x64 pictures have one CTB: slice_segment_address has 0 bits.)
    w.ue(slice_type);
    if let Some(f) = pic_output_flag {
        w.flag(f);
    }
    if !matches!(nal_type, 19 | 20) {
        w.u(lsb_bits, poc_lsb as u64);
    }
    w.u(16, 0xabcd);
    let mut out = vec![nal_type << 1, tid + 1];
    out.extend_from_slice(&escape(&w.finish()));
    out
}
