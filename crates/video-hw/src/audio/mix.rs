//! Mixing to another channel count, with the coefficients libswresample uses by default:
//! centre and surround channels at -3 dB into the fronts, LFE left out. libswresample scales
//! the matrix down only for integer output; for float output (ffmpeg's `-f f32le`,
//! torchcodec) it does not, and neither is it scaled here.

use crate::backend::audio::Planar;

/// `-3 dB`, libswresample's default centre and surround mix level.
const M3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// `p` mixed to `n` channels.
pub(crate) fn mix(p: &Planar, n: usize) -> Planar {
    let from = p.channels.len();
    if from == n || from == 0 {
        return p.clone();
    }
    let m = matrix(from, n);
    let len = p.len();
    let mut out = Planar { channels: vec![vec![0.0; len]; n] };
    for (o, row) in out.channels.iter_mut().zip(&m) {
        for (c, &k) in row.iter().enumerate() {
            if k != 0.0 {
                for (d, s) in o.iter_mut().zip(&p.channels[c]) {
                    *d += k * s;
                }
            }
        }
    }
    out
}

/// The mixing matrix (`out` rows of `from` coefficients) between ffmpeg's default layouts
/// of these channel counts (1 mono, 2 stereo, 6 5.1: FL FR FC LFE BL BR, …).
fn matrix(from: usize, to: usize) -> Vec<Vec<f32>> {
    let mut m = vec![vec![0.0f32; from]; to];
    match (from, to) {
        (1, _) => {
            // Mono goes to the front centre, or to both fronts at -3 dB.
            if to == 1 || to % 2 == 1 {
                m[usize::from(to >= 3) * 2][0] = 1.0;
            } else {
                m[0][0] = M3DB;
                m[1][0] = M3DB;
            }
        }
        (_, 1) => {
            // Everything to the centre: fronts at -3 dB, centre at 0 dB, surrounds at -3 dB
            // twice over (as libswresample folds them first into the fronts).
            for (c, k) in m[0].iter_mut().enumerate() {
                *k = match (from, c) {
                    (2, _) => M3DB,
                    (_, 0 | 1) => M3DB,
                    (_, 2) => 1.0,
                    (_, 3) => 0.0,
                    _ => M3DB * M3DB,
                };
            }
        }
        (_, 2) => {
            let (left, right) = m.split_at_mut(1);
            for (c, (l_k, r_k)) in left[0].iter_mut().zip(right[0].iter_mut()).enumerate() {
                let (l, r) = match c {
                    0 => (1.0, 0.0),
                    1 => (0.0, 1.0),
                    2 if from >= 3 => (M3DB, M3DB),
                    3 if from >= 6 => (0.0, 0.0),
                    c if c % 2 == 0 => (M3DB, 0.0),
                    _ => (0.0, M3DB),
                };
                *l_k = l;
                *r_k = r;
            }
        }
        _ => {
            // Other counts: channel to channel, what is left out dropped.
            for (i, row) in m.iter_mut().enumerate().take(from.min(to)) {
                row[i] = 1.0;
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_to_mono_is_minus_3_db_each() {
        let p = Planar { channels: vec![vec![1.0, 0.0], vec![0.0, 1.0]] };
        let m = mix(&p, 1);
        assert!(m.channels[0].iter().all(|v| (v - M3DB).abs() < 1e-6));
    }

    #[test]
    fn five_one_to_stereo_drops_the_lfe() {
        let mut p = Planar { channels: vec![vec![0.0]; 6] };
        p.channels[3][0] = 1.0;
        assert!(mix(&p, 2).channels.iter().all(|c| c[0] == 0.0));
    }
}
