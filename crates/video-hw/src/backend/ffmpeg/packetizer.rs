//! Encoder packets as the configuration asks for them: parameter sets (SPS/PPS/VPS, or the
//! AV1 sequence header) taken out of what the encoder writes and put back before keyframes,
//! or kept out of band for length-prefixed output. Shared by every FFmpeg encoder
//! (`encoder.rs`), whatever it does with its parameter sets itself.

use crate::bitstream::annexb;
use crate::codec::Codec;
use crate::config::EncoderConfig;
use crate::packet::PacketLayout;

/// Writes packets the way the configuration asks: parameter sets (SPS/PPS/VPS, or the AV1
/// sequence header) taken out of the encoder's output and put back before keyframes
/// (every keyframe, or the first only), or kept out of band (length-prefixed output).
pub(crate) struct Packetizer {
    codec: Codec,
    layout: PacketLayout,
    repeat: bool,
    /// The parameter sets now in force: NAL units without start codes, or AV1 sequence
    /// header OBUs.
    parameter_sets: Vec<Vec<u8>>,
    sent: bool,
}

/// Splits a low-overhead AV1 temporal unit into OBUs (header and payload), or `None`
/// when it is not one.
fn split_obus(mut data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let header = data[0];
        let ext = (header >> 2) & 1;
        let has_size = (header >> 1) & 1 == 1;
        let mut at = 1 + ext as usize;
        let size = if has_size {
            let mut v: u64 = 0;
            let mut i = 0;
            loop {
                let b = *data.get(at)?;
                v |= ((b & 0x7f) as u64) << (7 * i);
                at += 1;
                i += 1;
                if b & 0x80 == 0 || i == 8 {
                    break;
                }
            }
            usize::try_from(v).ok()?
        } else {
            data.len().checked_sub(at)?
        };
        let end = at.checked_add(size).filter(|&e| e <= data.len())?;
        out.push(&data[..end]);
        data = &data[end..];
    }
    Some(out)
}

impl Packetizer {
    /// A packetizer for `config`, with the parameter sets of the encoder's `extradata`.
    pub fn new(config: &EncoderConfig, extradata: &[u8]) -> Self {
        let mut p = Packetizer {
            codec: config.codec,
            layout: config.layout,
            repeat: config.repeat_parameter_sets,
            parameter_sets: Vec::new(),
            sent: false,
        };
        if !extradata.is_empty() {
            p.parameter_sets =
                p.units(extradata).into_iter().filter(|u| p.is_parameter_set(u)).map(<[u8]>::to_vec).collect();
            if p.parameter_sets.is_empty() && config.codec.is_nal_based() && extradata[0] == 1 {
                // avcC / hvcC rather than Annex-B.
                if let Ok(rec) = crate::bitstream::avcc::DecoderConfigRecord::parse(config.codec, extradata) {
                    p.parameter_sets = rec.parameter_sets.into_iter().filter(|u| p.is_parameter_set(u)).collect();
                }
            }
        }
        p
    }

    /// The NAL units (or OBUs) of an encoder packet.
    fn units<'a>(&self, data: &'a [u8]) -> Vec<&'a [u8]> {
        match self.codec {
            Codec::Av1 => split_obus(data).unwrap_or_else(|| vec![data]),
            _ => annexb::split_all(data),
        }
    }

    fn unit_type(&self, unit: &[u8]) -> u8 {
        let b = unit.first().copied().unwrap_or(0);
        match self.codec {
            Codec::H264 => b & 0x1f,
            Codec::Hevc => (b >> 1) & 0x3f,
            _ => (b >> 3) & 0x0f,
        }
    }

    fn is_parameter_set(&self, unit: &[u8]) -> bool {
        let t = self.unit_type(unit);
        match self.codec {
            Codec::H264 => matches!(t, 7 | 8),
            Codec::Hevc => matches!(t, 32..=34),
            Codec::Av1 => t == 1,
            _ => false,
        }
    }

    /// Access unit delimiter / temporal delimiter: stays first.
    fn is_delimiter(&self, unit: &[u8]) -> bool {
        let t = self.unit_type(unit);
        match self.codec {
            Codec::H264 => t == 9,
            Codec::Hevc => t == 35,
            Codec::Av1 => t == 2,
            _ => false,
        }
    }

    fn write_unit(&self, out: &mut Vec<u8>, unit: &[u8]) {
        match (self.codec, self.layout) {
            (Codec::Av1 | Codec::Vp9, _) => out.extend_from_slice(unit),
            (_, PacketLayout::AnnexB) => {
                out.extend_from_slice(&[0, 0, 0, 1]);
                out.extend_from_slice(unit);
            }
            (_, PacketLayout::LengthPrefixed) => {
                out.extend_from_slice(&(unit.len() as u32).to_be_bytes());
                out.extend_from_slice(unit);
            }
        }
    }

    /// One encoder packet, rewritten.
    pub fn packet(&mut self, data: &[u8], keyframe: bool) -> Vec<u8> {
        let units = self.units(data);
        let in_band: Vec<Vec<u8>> = units.iter().filter(|u| self.is_parameter_set(u)).map(|u| u.to_vec()).collect();
        if !in_band.is_empty() {
            self.parameter_sets = in_band;
        }
        let insert = keyframe
            && self.layout == PacketLayout::AnnexB
            && (self.repeat || !self.sent)
            && !self.parameter_sets.is_empty();
        let mut out = Vec::with_capacity(data.len() + 64);
        let mut inserted = false;
        for unit in units.iter().filter(|u| !self.is_parameter_set(u)) {
            if insert && !inserted && !self.is_delimiter(unit) {
                for ps in &self.parameter_sets {
                    self.write_unit(&mut out, ps);
                }
                inserted = true;
            }
            self.write_unit(&mut out, unit);
        }
        if insert && !inserted {
            for ps in &self.parameter_sets {
                self.write_unit(&mut out, ps);
            }
            inserted = true;
        }
        if inserted {
            self.sent = true;
        }
        out
    }

    /// The parameter sets now in force.
    pub fn parameter_sets(&self) -> &[Vec<u8>] {
        &self.parameter_sets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annexb(units: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for u in units {
            v.extend_from_slice(&[0, 0, 0, 1]);
            v.extend_from_slice(u);
        }
        v
    }

    #[test]
    fn parameter_sets_are_reinserted_before_keyframes() {
        let (sps, pps, idr, p, aud) = ([0x67u8, 1, 2], [0x68u8, 3], [0x65u8, 9, 9], [0x41u8, 7], [0x09u8, 0xf0]);
        let extradata = annexb(&[&sps, &pps]);
        let cfg = EncoderConfig::new(Codec::H264, 64, 64);
        let mut pk = Packetizer::new(&cfg, &extradata);
        assert_eq!(pk.parameter_sets(), &[sps.to_vec(), pps.to_vec()]);
        // AUD stays first, then SPS/PPS, then the slice.
        assert_eq!(pk.packet(&annexb(&[&aud, &idr]), true), annexb(&[&aud, &sps, &pps, &idr]));
        assert_eq!(pk.packet(&annexb(&[&p]), false), annexb(&[&p]));
        // In-band parameter sets are not doubled.
        assert_eq!(pk.packet(&annexb(&[&sps, &pps, &idr]), true), annexb(&[&sps, &pps, &idr]));

        let mut once = cfg.clone();
        once.repeat_parameter_sets = false;
        let mut pk = Packetizer::new(&once, &extradata);
        assert_eq!(pk.packet(&annexb(&[&idr]), true), annexb(&[&sps, &pps, &idr]));
        assert_eq!(pk.packet(&annexb(&[&sps, &pps, &idr]), true), annexb(&[&idr]));

        let lp = cfg.layout(PacketLayout::LengthPrefixed);
        let mut pk = Packetizer::new(&lp, &extradata);
        assert_eq!(pk.packet(&annexb(&[&sps, &pps, &idr]), true), [&[0, 0, 0, 3][..], &idr].concat());
    }

    #[test]
    fn av1_sequence_headers_are_obus() {
        // Temporal delimiter, sequence header (3 bytes), frame (2 bytes), all with sizes.
        let td = [0x12u8, 0x00];
        let seq = [0x0au8, 0x03, 1, 2, 3];
        let frame = [0x32u8, 0x02, 7, 7];
        let tu = [&td[..], &seq, &frame].concat();
        assert_eq!(split_obus(&tu).unwrap(), vec![&td[..], &seq[..], &frame[..]]);
        let mut cfg = EncoderConfig::new(Codec::Av1, 64, 64);
        cfg.repeat_parameter_sets = false;
        let mut pk = Packetizer::new(&cfg, &[]);
        assert_eq!(pk.packet(&tu, true), tu);
        assert_eq!(pk.packet(&tu, true), [&td[..], &frame].concat());
        assert_eq!(pk.parameter_sets(), &[seq.to_vec()]);
        assert!(split_obus(&[0x0a, 0x09, 1]).is_none());
    }
}
