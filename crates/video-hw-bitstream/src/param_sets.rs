//! The parameter sets (H.264 SPS/PPS, HEVC VPS/SPS/PPS) a stream has sent so far, kept so
//! a decoder that starts in the middle of the stream can be given them first: cutting a
//! stream into segments ([`super::segments`]) and seeking into raw or transport streams
//! (`media`) both need them.

/// Parameter sets kept at most; past this (a stream that keeps sending new ones) the log
/// stops being able to rebuild the state ([`ParameterSetLog::fits`] turns false), so
/// prefixes stay small.
pub const MAX_SETS: usize = 256;
/// Bytes of parameter sets kept at most.
pub const MAX_BYTES: usize = 1 << 20;

/// Every distinct parameter set seen, in the order of their last appearance: replaying
/// them rebuilds the decoder's parameter-set state at any later point (a later set with
/// the same id replaces an earlier one, as in the stream).
///
/// ```
/// use video_hw::bitstream::param_sets::ParameterSetLog;
/// let mut log = ParameterSetLog::default();
/// log.note(0, &[0x67, 1]);
/// log.note(10, &[0x68, 2]);
/// log.note(20, &[0x67, 1]); // seen again: moves to the end
/// assert_eq!(log.before(15), vec![0, 0, 0, 1, 0x68, 2]);
/// assert_eq!(log.all(), vec![0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x67, 1]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct ParameterSetLog {
    /// (stream offset of its start code, the NAL unit).
    sets: Vec<(u64, Vec<u8>)>,
    bytes: usize,
    /// More sets than a prefix carries came: no later point can rebuild the state.
    overflowed: bool,
}

impl ParameterSetLog {
    /// Notes the parameter-set NAL unit `nal` (no start code) seen at stream offset `at`.
    pub fn note(&mut self, at: u64, nal: &[u8]) {
        if let Some(i) = self.sets.iter().position(|(_, n)| n == nal) {
            let (_, old) = self.sets.remove(i);
            self.bytes -= old.len();
        }
        if self.fits() {
            self.bytes += nal.len();
            self.sets.push((at, nal.to_vec()));
        } else {
            self.overflowed = true;
        }
    }

    /// False once more sets came than the log keeps: it can no longer rebuild the state.
    pub fn fits(&self) -> bool {
        !self.overflowed && self.sets.len() < MAX_SETS && self.bytes < MAX_BYTES
    }

    /// The sets sent before stream offset `at`, in Annex-B form (each after `00 00 00 01`).
    pub fn before(&self, at: u64) -> Vec<u8> {
        annexb(self.sets.iter().filter(|(offset, _)| *offset < at).map(|(_, n)| &n[..]))
    }

    /// Every set noted, in Annex-B form.
    pub fn all(&self) -> Vec<u8> {
        annexb(self.sets.iter().map(|(_, n)| &n[..]))
    }

    /// True when nothing was noted.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

fn annexb<'a>(nals: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    out
}
