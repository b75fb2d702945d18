//! Objective quality of a decoded picture against its source, as x264 reports it
//! (`--psnr`, `--ssim`): per-plane PSNR and luma SSIM per frame, and their means over a
//! job. 8-bit 4:2:0 pictures as packed I420 (Y, then U, then V, no padding).
//!
//! * PSNR of a plane: `10 log10(255² · samples / SSE)`, 100 dB for identical planes (as
//!   x264). A frame's "average" is the PSNR of its three planes' SSE together (4:1:1 by
//!   sample count); "global" is the PSNR of every frame's SSE together.
//! * SSIM: luma only, over 8x8 windows every 4 pixels, with the constants of Wang et al.
//!   (K1 = 0.01, K2 = 0.03), computed from 4x4 block sums as x264 and ffmpeg's `ssim`
//!   filter do, so the figures agree with theirs. Also given in dB: `-10 log10(1 - SSIM)`.
//!
//! ```
//! use video_hw::pixels::quality::{FrameQuality, QualitySummary};
//! let a = vec![128u8; 16 * 16 * 3 / 2];
//! let mut b = a.clone();
//! b[0] = 138; // one luma sample 10 off
//! let q = FrameQuality::measure(&a, &b, 16, 16, true);
//! assert!((q.psnr_y() - 10.0 * (255.0f64 * 255.0 * 256.0 / 100.0).log10()).abs() < 1e-9);
//! let mut sum = QualitySummary::default();
//! sum.add(&q);
//! assert_eq!(sum.frames, 1);
//! ```

/// Sum of squared differences and sample count of one plane.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlaneError {
    /// Sum of squared differences.
    pub sse: u64,
    /// Samples compared.
    pub samples: u64,
}

impl PlaneError {
    /// The PSNR in dB (8-bit peak), 100 for no difference.
    pub fn psnr(&self) -> f64 {
        psnr(self.sse, self.samples)
    }
}

/// `10 log10(255² · samples / sse)`, capped at 100 dB (x264's `x264_psnr`).
fn psnr(sse: u64, samples: u64) -> f64 {
    if sse == 0 || samples == 0 {
        return 100.0;
    }
    (10.0 * (255.0f64 * 255.0 * samples as f64 / sse as f64).log10()).min(100.0)
}

/// The quality of one decoded frame against its source.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameQuality {
    /// Y, U and V.
    pub planes: [PlaneError; 3],
    /// Luma SSIM, when measured.
    pub ssim_y: Option<f64>,
}

impl FrameQuality {
    /// Compares two packed I420 pictures of `width` x `height` (odd sizes round the
    /// chroma up); `ssim` also computes the luma SSIM. Slices shorter than the picture
    /// compare what they hold.
    pub fn measure(source: &[u8], decoded: &[u8], width: u32, height: u32, ssim: bool) -> Self {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let sizes = [w * h, cw * ch, cw * ch];
        let mut planes = [PlaneError::default(); 3];
        let mut at = 0;
        for (p, size) in planes.iter_mut().zip(sizes) {
            let end = (at + size).min(source.len()).min(decoded.len());
            let (a, b) = (&source[at.min(end)..end], &decoded[at.min(end)..end]);
            p.sse = a.iter().zip(b).map(|(&x, &y)| (i64::from(x) - i64::from(y)).pow(2) as u64).sum();
            p.samples = a.len() as u64;
            at += size;
        }
        let ssim_y = (ssim && source.len() >= w * h && decoded.len() >= w * h)
            .then(|| ssim_plane(&source[..w * h], &decoded[..w * h], w, h));
        FrameQuality { planes, ssim_y }
    }

    /// Luma PSNR.
    pub fn psnr_y(&self) -> f64 {
        self.planes[0].psnr()
    }

    /// The PSNR of the three planes' errors together.
    pub fn psnr_avg(&self) -> f64 {
        let sse = self.planes.iter().map(|p| p.sse).sum();
        let samples = self.planes.iter().map(|p| p.samples).sum();
        psnr(sse, samples)
    }
}

/// SSIM of two 8-bit planes of `w` x `h` (tightly packed), over 8x8 windows every 4
/// pixels; 1.0 for a plane smaller than one window.
pub fn ssim_plane(a: &[u8], b: &[u8], w: usize, h: usize) -> f64 {
    let (bw, bh) = (w / 4, h / 4);
    if bw < 2 || bh < 2 {
        return 1.0;
    }
    // Sums of each 4x4 block: Σa, Σb, Σa² + Σb², Σab.
    let mut sums = vec![[0u32; 4]; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut s = [0u32; 4];
            for y in by * 4..by * 4 + 4 {
                for x in bx * 4..bx * 4 + 4 {
                    let (p, q) = (u32::from(a[y * w + x]), u32::from(b[y * w + x]));
                    s[0] += p;
                    s[1] += q;
                    s[2] += p * p + q * q;
                    s[3] += p * q;
                }
            }
            sums[by * bw + bx] = s;
        }
    }
    // Each 8x8 window: four neighbouring blocks. With 64 samples, the constants are
    // scaled as the sums are: C1 = (0.01 · 255)² · 64², C2 = (0.03 · 255)² · 64 · 63.
    let c1 = (0.01f64 * 255.0).powi(2) * 64.0 * 64.0;
    let c2 = (0.03f64 * 255.0).powi(2) * 64.0 * 63.0;
    let mut total = 0.0;
    for wy in 0..bh - 1 {
        for wx in 0..bw - 1 {
            let mut s = [0f64; 4];
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let block = sums[(wy + dy) * bw + wx + dx];
                for k in 0..4 {
                    s[k] += f64::from(block[k]);
                }
            }
            let (s1, s2, ss, s12) = (s[0], s[1], s[2], s[3]);
            let vars = ss * 64.0 - s1 * s1 - s2 * s2;
            let covar = s12 * 64.0 - s1 * s2;
            total += (2.0 * s1 * s2 + c1) * (2.0 * covar + c2) / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
        }
    }
    total / ((bw - 1) * (bh - 1)) as f64
}

/// SSIM in dB: `-10 log10(1 - ssim)` (x264's figure), 100 for a perfect match.
pub fn ssim_db(ssim: f64) -> f64 {
    if ssim >= 1.0 { 100.0 } else { (-10.0 * (1.0 - ssim).log10()).min(100.0) }
}

/// The means over a job, as x264 prints them: `PSNR Mean Y:… U:… V:… Avg:… Global:…` and
/// `SSIM Mean Y:… (… dB)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QualitySummary {
    /// Frames measured.
    pub frames: u64,
    /// Sums of the per-frame PSNRs of Y, U, V and of the three together.
    psnr_sums: [f64; 4],
    /// Every frame's errors together, per plane.
    total: [PlaneError; 3],
    /// Sum of the per-frame luma SSIMs, and the frames that had one.
    ssim_sum: f64,
    ssim_frames: u64,
}

impl QualitySummary {
    /// Adds one frame.
    pub fn add(&mut self, q: &FrameQuality) {
        self.frames += 1;
        for (i, p) in q.planes.iter().enumerate() {
            self.psnr_sums[i] += p.psnr();
            self.total[i].sse += p.sse;
            self.total[i].samples += p.samples;
        }
        self.psnr_sums[3] += q.psnr_avg();
        if let Some(s) = q.ssim_y {
            self.ssim_sum += s;
            self.ssim_frames += 1;
        }
    }

    fn mean(&self, i: usize) -> Option<f64> {
        (self.frames > 0).then(|| self.psnr_sums[i] / self.frames as f64)
    }

    /// Mean luma PSNR over the frames.
    pub fn psnr_y(&self) -> Option<f64> {
        self.mean(0)
    }

    /// Mean Cb PSNR.
    pub fn psnr_u(&self) -> Option<f64> {
        self.mean(1)
    }

    /// Mean Cr PSNR.
    pub fn psnr_v(&self) -> Option<f64> {
        self.mean(2)
    }

    /// Mean of the frames' three-plane PSNR (x264's "Avg").
    pub fn psnr_avg(&self) -> Option<f64> {
        self.mean(3)
    }

    /// The PSNR of every frame's errors together (x264's "Global").
    pub fn psnr_global(&self) -> Option<f64> {
        let sse = self.total.iter().map(|p| p.sse).sum();
        let samples: u64 = self.total.iter().map(|p| p.samples).sum();
        (samples > 0).then(|| psnr(sse, samples))
    }

    /// Mean luma SSIM, when it was measured.
    pub fn ssim_y(&self) -> Option<f64> {
        (self.ssim_frames > 0).then(|| self.ssim_sum / self.ssim_frames as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_pictures_are_perfect() {
        let a: Vec<u8> = (0..64 * 48 * 3 / 2).map(|i| (i * 7 % 251) as u8).collect();
        let q = FrameQuality::measure(&a, &a, 64, 48, true);
        assert_eq!((q.psnr_y(), q.psnr_avg()), (100.0, 100.0));
        assert!((q.ssim_y.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(ssim_db(1.0), 100.0);
    }

    #[test]
    fn psnr_of_a_known_error_and_the_means() {
        // Every sample 2 off: MSE 4 in each plane.
        let a = vec![100u8; 32 * 32 * 3 / 2];
        let b = vec![102u8; 32 * 32 * 3 / 2];
        let q = FrameQuality::measure(&a, &b, 32, 32, false);
        let want = 10.0 * (255.0f64 * 255.0 / 4.0).log10();
        for v in [q.psnr_y(), q.planes[1].psnr(), q.planes[2].psnr(), q.psnr_avg()] {
            assert!((v - want).abs() < 1e-9, "{v}");
        }
        let mut s = QualitySummary::default();
        s.add(&q);
        s.add(&FrameQuality::measure(&a, &a, 32, 32, false));
        assert!((s.psnr_y().unwrap() - (want + 100.0) / 2.0).abs() < 1e-9);
        // Global: half the errors over the same samples: MSE 2.
        let global = 10.0 * (255.0f64 * 255.0 / 2.0).log10();
        assert!((s.psnr_global().unwrap() - global).abs() < 1e-9);
        assert_eq!(s.ssim_y(), None);
    }

    #[test]
    fn ssim_falls_with_noise() {
        let w = 64;
        let a: Vec<u8> = (0..w * w).map(|i| ((i % w) * 4 % 256) as u8).collect();
        let noisy: Vec<u8> = a.iter().enumerate().map(|(i, &v)| v.wrapping_add((i * 37 % 23) as u8)).collect();
        let s = ssim_plane(&a, &noisy, w, w);
        assert!(s < 0.99 && s > 0.0, "{s}");
        assert_eq!(ssim_plane(&a[..16], &a[..16], 4, 4), 1.0, "smaller than a window");
    }
}
