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
}

impl Resampler {
    /// A resampler from `from` to `to` samples per second for `channels` channels.
    pub(crate) fn new(from: u32, to: u32, channels: usize) -> Result<Self> {
        let params = SincInterpolationParameters {
            sinc_len: SINC_LEN,
            f_cutoff: None,
            oversampling_factor: 256,
            interpolation: SincInterpolationType::Cubic,
            window: WindowFunction::BlackmanHarris2,
        };
        let inner =
            Async::<f32>::new_sinc(f64::from(to) / f64::from(from), 1.0, &params, 1024, channels, FixedAsync::Input)
                .map_err(|e| Error::invalid_input(format!("resampling {from} Hz to {to} Hz: {e}")))?;
        Ok(Resampler { inner, channels })
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
        let mut out = Planar::with_channels(self.channels);
        if frames == 0 {
            return Ok(out);
        }
        let need = self.inner.process_all_needed_output_len(frames);
        let mut bufs: Vec<Vec<f32>> = vec![vec![0.0; need]; self.channels];
        let src = SequentialSliceOfVecs::new(&input.channels, self.channels, frames)
            .map_err(|e| Error::invalid_input(format!("resampler input: {e}")))?;
        let mut dst = SequentialSliceOfVecs::new_mut(&mut bufs, self.channels, need)
            .map_err(|e| Error::invalid_input(format!("resampler output: {e}")))?;
        let (_, n) = self
            .inner
            .process_all_into_buffer(&src, &mut dst, frames, None)
            .map_err(|e| Error::invalid_input(format!("resampling: {e}")))?;
        for (o, mut b) in out.channels.iter_mut().zip(bufs) {
            b.truncate(n);
            *o = b;
        }
        Ok(out)
    }
}
