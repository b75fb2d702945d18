//! Resampling without FFmpeg: rubato's windowed-sinc resampler, with the startup delay
//! trimmed so that output sample `k` is played at `k / out_rate` from the first input
//! sample, as libswresample aligns its output.

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Async, FixedAsync, Resampler as _, SincInterpolationParameters, SincInterpolationType, WindowFunction};

use crate::backend::audio::Planar;
use crate::error::{Error, Result};

/// Taps of the sinc filter: long enough for a -100 dB stop band with the window below.
const SINC_LEN: usize = 128;

/// One resampler for one rate pair.
pub(crate) struct Resampler {
    inner: Async<f32>,
    channels: usize,
    /// Zeros put before the input and outputs dropped after, so that output sample `k` is
    /// exactly at input position `k * from / to` (see [`alignment`]).
    pad: usize,
    skip: usize,
}

fn sinc(from: u32, to: u32, channels: usize) -> Result<Async<f32>> {
    let params = SincInterpolationParameters {
        sinc_len: SINC_LEN,
        f_cutoff: None,
        oversampling_factor: 256,
        interpolation: SincInterpolationType::Cubic,
        window: WindowFunction::BlackmanHarris2,
    };
    Async::<f32>::new_sinc(f64::from(to) / f64::from(from), 1.0, &params, 1024, channels, FixedAsync::Input)
        .map_err(|e| Error::invalid_input(format!("resampling {from} Hz to {to} Hz: {e}")))
}

/// Where rubato's trimmed output lies: output `k` is at input position `k * from / to + f`,
/// `f` measured on a ramp (which a windowed sinc reproduces as it is). Then the zeros to put
/// before the input (`pad`) and the outputs to drop (`skip`) that make `f` zero:
/// `pad - skip * from / to = f`, both whole. `(0, 0)` where no such pair is near (rates
/// whose grids meet only far apart), leaving `f` as it is.
fn alignment(from: u32, to: u32) -> Result<(usize, usize)> {
    let step = f64::from(from) / f64::from(to);
    let n = (SINC_LEN as f64 * step.max(1.0) * 8.0) as usize;
    let ramp: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let mut r = sinc(from, to, 1)?;
    let out = run(&mut r, &Planar { channels: vec![ramp] }, 1)?;
    let o = &out.channels[0];
    let (lo, hi) = (o.len() / 3, 2 * o.len() / 3);
    if hi <= lo {
        return Ok((0, 0));
    }
    // A line through the middle: `out[k] = g * (k * step + f)`, the filter's gain `g` near 1.
    let m = (hi - lo) as f64;
    let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
    for (k, &v) in o.iter().enumerate().take(hi).skip(lo) {
        let (x, y) = (k as f64 * step, f64::from(v));
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let g = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    let f = (sy - g * sx) / m / g;
    // `f` lies on the grid of `1 / p_out` input samples (rubato's delay is a whole number of
    // output samples, its filter centred on a whole input sample): round it there, then solve
    // `pad * p_out - skip * p_in = F` in whole numbers.
    let g = gcd(from, to);
    let (p_in, p_out) = (i64::from(from / g), i64::from(to / g));
    let big = (f * p_out as f64).round() as i64;
    if big == 0 {
        return Ok((0, 0));
    }
    for skip in 0..p_out.min(1 << 16) {
        let num = big + skip * p_in;
        if num >= 0 && num % p_out == 0 {
            return Ok(((num / p_out) as usize, skip as usize));
        }
    }
    Ok((0, 0))
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

/// Resamples all of `input` with `r`, its startup delay trimmed.
fn run(r: &mut Async<f32>, input: &Planar, channels: usize) -> Result<Planar> {
    let frames = input.len();
    let mut out = Planar::with_channels(channels);
    if frames == 0 {
        return Ok(out);
    }
    let need = r.process_all_needed_output_len(frames);
    let mut bufs: Vec<Vec<f32>> = vec![vec![0.0; need]; channels];
    let src = SequentialSliceOfVecs::new(&input.channels, channels, frames)
        .map_err(|e| Error::invalid_input(format!("resampler input: {e}")))?;
    let mut dst = SequentialSliceOfVecs::new_mut(&mut bufs, channels, need)
        .map_err(|e| Error::invalid_input(format!("resampler output: {e}")))?;
    let (_, n) = r
        .process_all_into_buffer(&src, &mut dst, frames, None)
        .map_err(|e| Error::invalid_input(format!("resampling: {e}")))?;
    for (o, mut b) in out.channels.iter_mut().zip(bufs) {
        b.truncate(n);
        *o = b;
    }
    Ok(out)
}

impl Resampler {
    /// A resampler from `from` to `to` samples per second for `channels` channels.
    pub(crate) fn new(from: u32, to: u32, channels: usize) -> Result<Self> {
        let (pad, skip) = alignment(from, to)?;
        Ok(Resampler { inner: sinc(from, to, channels)?, channels, pad, skip })
    }

    /// Input samples on each side of a range that the filter reads: what a cut range must be
    /// decoded with so that its edges come out as in a whole-track resample.
    pub(crate) fn margin(from: u32, to: u32) -> usize {
        let scale = (f64::from(from) / f64::from(to)).max(1.0);
        (SINC_LEN as f64 * scale).ceil() as usize + 16
    }

    /// Resamples all of `input` (the filter's tail flushed at its end).
    pub(crate) fn process_all(&mut self, input: &Planar, _at_end: bool) -> Result<Planar> {
        let frames = input.len();
        if frames == 0 {
            return Ok(Planar::with_channels(self.channels));
        }
        let padded;
        let input = if self.pad > 0 {
            padded = Planar {
                channels: input
                    .channels
                    .iter()
                    .map(|c| std::iter::repeat_n(0.0, self.pad).chain(c.iter().copied()).collect())
                    .collect(),
            };
            &padded
        } else {
            input
        };
        let mut out = run(&mut self.inner, input, self.channels)?;
        // As many samples as the input's duration holds, to the nearest (libswresample's
        // count: 62464 at 48 kHz is 20821 at 16 kHz).
        let want = ((frames as f64 * self.inner.resample_ratio()) + 0.5).floor() as usize;
        for c in &mut out.channels {
            c.drain(..self.skip.min(c.len()));
            c.truncate(want);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lands_on_the_input_grid() {
        for (from, to) in
            [(48000, 16000), (48000, 44100), (44100, 16000), (8000, 48000), (48000, 22050), (44100, 48000)]
        {
            let (pad, skip) = alignment(from, to).unwrap();
            // A ramp comes out as the positions of the output samples.
            let step = f64::from(from) / f64::from(to);
            let n = 4000;
            let ramp: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let mut r = Resampler::new(from, to, 1).unwrap();
            let out = r.process_all(&Planar { channels: vec![ramp] }, true).unwrap();
            let o = &out.channels[0];
            // Two points of the middle: the gain cancels.
            let (k0, k1) = (o.len() / 3, 2 * o.len() / 3);
            let g = f64::from(o[k1] - o[k0]) / ((k1 - k0) as f64 * step);
            let k = k0;
            let f = f64::from(o[k]) / g - k as f64 * step;
            eprintln!("{from} -> {to}: pad {pad} skip {skip}, residual {f:.4}");
            assert!(f.abs() < 0.01, "{from} -> {to}: output {k} at input {}", f64::from(o[k]));
        }
    }
}
