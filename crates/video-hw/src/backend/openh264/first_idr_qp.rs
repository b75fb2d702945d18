//! The first IDR picture under rate control. OpenH264 has no measure of the first
//! picture's cost, so it takes its QP from a table by bits per pixel (at most 36-40).
//! On detailed camera content at low rates that picture alone is larger than the
//! one-second buffer a stream is expected to fit (640x360 at 150 kb/s: 1.58 times it),
//! and the first seconds run far over the target; at 1280x720 and 300 kb/s the whole
//! 5-second clip ended 23% over.
//!
//! So before the first frame is encoded, a trial encoder codes it at a fixed QP, twice at
//! most, and the QP at which it fills half the buffer (where x264 puts its first picture
//! under the same buffer: 45-55% in our runs) becomes the floor of the session's first
//! IDR QP (OpenH264 patch 0012). The buffer is one second at the peak rate: the bitrate
//! for CBR, the maximum for VBR, as the other engines are configured. A picture's bits
//! halve roughly every 6 QP; the second trial corrects the estimate.

use std::ffi::c_int;

use video_hw_openh264_sys as sys;

use super::encoder::apply_config;
use super::ffi::{RawEncoder, SourcePicture};
use crate::config::{EncoderConfig, RateControl};
use crate::error::Result;

/// Share of the one-second buffer the first picture may fill.
const SHARE: f64 = 0.5;
/// QP of the first trial.
const TRIAL_QP: i32 = 32;

/// The lowest QP for the first IDR picture `pic` of a session configured as `config`,
/// or `None` when the rate control is not a bitrate mode.
pub(super) fn qp_floor(config: &EncoderConfig, pic: &SourcePicture<'_>) -> Result<Option<c_int>> {
    let buffer_bits = match config.rate_control {
        RateControl::Cbr { bitrate } => bitrate,
        RateControl::Vbr { max, .. } => max,
        RateControl::ConstQp { .. } | RateControl::ConstQuality { .. } => return Ok(None),
    } as f64;
    let budget = (buffer_bits * SHARE).max(1.0);
    let (lo, hi) = config.qp_range.map_or((0, 51), |(lo, hi)| (i32::from(lo), i32::from(hi)));
    let mut qp = TRIAL_QP;
    for _ in 0..2 {
        let bits = trial_bits(config, pic, qp)? as f64;
        let step = (6.0 * (bits / budget).log2()).ceil() as i32;
        let next = (qp + step).clamp(lo.max(1), hi.min(51));
        if next == qp {
            break;
        }
        qp = next;
    }
    Ok(Some(qp))
}

/// The bits of `pic` coded alone as an IDR picture at `qp` with `config`'s other settings.
fn trial_bits(config: &EncoderConfig, pic: &SourcePicture<'_>, qp: i32) -> Result<u64> {
    let mut raw = RawEncoder::new()?;
    let mut params = raw.default_params()?;
    apply_config(&mut params, config);
    params.iRCMode = sys::RC_OFF_MODE;
    params.bEnableAdaptiveQuant = false;
    params.iMinQp = qp;
    params.iMaxQp = qp;
    params.sSpatialLayers[0].iDLayerQp = qp;
    raw.initialize(&params)?;
    let frame = raw.encode(pic)?;
    let bytes: usize = frame.layers.iter().filter(|l| l.vcl).flat_map(|l| l.nals.iter()).map(|n| n.len()).sum();
    Ok(bytes as u64 * 8)
}
