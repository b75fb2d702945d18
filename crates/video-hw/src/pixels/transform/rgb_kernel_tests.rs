//! The explicit kernels (`rgb_kernel.rs`) against the portable loops (`rgb_pairs.rs`), bit
//! for bit, on random planes: on x86-64 the AVX2 kernel (`rgb_avx2.rs`) and the AVX-512 one
//! (`rgb_avx512.rs`, where the CPU has it), on aarch64 the NEON one (`rgb_neon.rs`, run
//! under QEMU user emulation by `scripts/test-aarch64-qemu.sh`). The conversion is run with
//! and without the kernel on the same picture, for 8-bit planar and NV12 sources (and
//! 10-bit ones, which the kernels leave to the loops), odd and even sizes (rows shorter
//! than, equal to and longer than the kernels' 16, 32 and 64 pixels, odd heights, odd
//! crops), every matrix and range the kernels take, each siting and every 8-bit output
//! they write; on x86-64 once with the AVX2 kernel alone. `rgb_exact_tests.rs` pins the
//! conversion against a scalar evaluation pixel by pixel.

use super::Rect;
use super::rgb::{self, Src, Store, YuvSource};
use super::rgb_kernel::STEP;
use crate::codec::{ChromaLocation, ColorInfo, ColorRange, MatrixCoefficients, PixelFormat};

/// Random bytes, a run of extremes among them (for the saturation and clamping).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            match x >> 28 {
                0 => 0,
                1 => 255,
                2 => 16,
                3 => 235,
                _ => (x >> 16) as u8,
            }
        })
        .collect()
}

/// The conversion of `rect` with the kernel and without it, byte for byte.
fn same_both_ways(src: &YuvSource<'_>, rect: Rect, color: &ColorInfo, format: PixelFormat, what: &str) {
    let norm = super::Transform::new().normalization();
    let fast = rgb::convert(src, rect, color, format, norm).unwrap();
    let portable = rgb::convert_portable(src, rect, color, format, norm).unwrap();
    assert!(fast.as_bytes() == portable.as_bytes(), "{what} {rect:?} {color:?} {format}");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_avx2_kernel_equals_the_portable_loops_bit_for_bit() {
    super::rgb_avx2::AVX2_ONLY.with(|c| c.set(true));
    kernels_equal_the_portable_loops();
    super::rgb_avx2::AVX2_ONLY.with(|c| c.set(false));
}

/// On a CPU with AVX-512 F, BW and VBMI, the AVX-512 kernel (and the AVX2 one after it for
/// a row's next 32 pixels); elsewhere the AVX2 kernel again.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_avx512_kernel_equals_the_portable_loops_bit_for_bit() {
    if !super::rgb_avx512::available() {
        eprintln!("note: this CPU has no AVX-512 VBMI; the AVX2 kernel was compared instead");
    }
    kernels_equal_the_portable_loops();
}

/// The NEON kernel (aarch64, where every CPU has it).
#[cfg(target_arch = "aarch64")]
#[test]
fn the_neon_kernel_equals_the_portable_loops_bit_for_bit() {
    kernels_equal_the_portable_loops();
}

fn kernels_equal_the_portable_loops() {
    let colors = [
        (1u8, ColorRange::Limited),
        (1, ColorRange::Full),
        (5, ColorRange::Limited),
        (5, ColorRange::Full),
        (6, ColorRange::Limited),
        (9, ColorRange::Limited),
        (9, ColorRange::Full),
        (10, ColorRange::Limited),
        (7, ColorRange::Limited),
        (4, ColorRange::Limited),
        (0, ColorRange::Full),
    ];
    let sitings = [ChromaLocation::Left, ChromaLocation::Center, ChromaLocation::TopLeft, ChromaLocation::Bottom];
    let outputs = [
        PixelFormat::Rgb24,
        PixelFormat::Bgr24,
        PixelFormat::Rgba,
        PixelFormat::Bgra,
        PixelFormat::RgbPlanar,
        PixelFormat::BgrPlanar,
    ];
    let sizes = [
        (15u32, 3u32),
        (16, 2),
        (19, 3),
        (31, 3),
        (32, 2),
        (33, 5),
        (64, 4),
        (95, 7),
        (100, 3),
        (130, 6),
        (200, 4),
        (257, 9),
    ];
    let has_kernel = super::rgb_kernel::cpu_has_one();
    let mut seed = 0;
    // (interleaved chroma, 10-bit samples in the low bits, half the rows)
    for (interleaved, ten, half_height) in
        [(false, false, true), (true, false, true), (false, false, false), (false, true, true), (true, true, true)]
    {
        for (w, h) in sizes {
            seed += 1;
            let (wu, hu, bytes) = (w as usize, h as usize, if ten { 2 } else { 1 });
            let (cw, chh) = (wu.div_ceil(2), if half_height { hu.div_ceil(2) } else { hu });
            // Padded strides, the luma one odd for bytes.
            let (ls, cs) = ((wu + 3) * bytes, (cw * if interleaved { 2 } else { 1 } + 5) * bytes);
            let mut data = noise(ls * hu + 2 * cs * chh, seed);
            if ten {
                data.chunks_exact_mut(2).for_each(|s| s[1] &= 3);
            }
            let store = if ten { Store::U16Low } else { Store::U8 };
            let plane = |offset: usize, stride: usize, step: usize, phase: usize| Src {
                data: &data,
                offset,
                stride,
                store,
                step,
                phase,
            };
            let planes = if interleaved {
                [plane(0, ls, 1, 0), plane(ls * hu, cs, 2, 0), plane(ls * hu, cs, 2, 1)]
            } else {
                [plane(0, ls, 1, 0), plane(ls * hu, cs, 1, 0), plane(ls * hu + cs * chh, cs, 1, 0)]
            };
            let src = YuvSource {
                planes,
                depth: if ten { 10 } else { 8 },
                half_width: true,
                half_height,
                width: w,
                height: h,
            };
            let rects = [
                Rect { x: 0, y: 0, width: w, height: h },
                Rect { x: 2, y: 1, width: w - 2, height: h - 1 },
                Rect { x: 1, y: 0, width: w - 1, height: h },
            ];
            for (matrix, range) in colors {
                for siting in sitings {
                    let color = ColorInfo {
                        matrix: MatrixCoefficients(matrix),
                        range,
                        chroma_location: siting,
                        ..ColorInfo::default()
                    };
                    for rect in rects {
                        for format in outputs {
                            let what = format!("{w}x{h} interleaved {interleaved} 10-bit {ten} 4:2:0 {half_height}");
                            same_both_ways(&src, rect, &color, format, &what);
                            // Where it should, the kernel did run (the comparison is not
                            // of the portable loops with themselves).
                            let expected =
                                has_kernel && !ten && matrix != 0 && rect.x % 2 == 0 && rect.width as usize >= STEP;
                            assert_eq!(
                                rgb::kernel_applies(&src, rect, &color, format),
                                expected,
                                "{what} {rect:?} {matrix}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A 1080p picture in bands of rows on threads, kernel against portable loops.
#[test]
fn the_kernel_in_bands_equals_the_portable_loops() {
    let (w, h) = (1920u32, 1080u32);
    let data = noise(1920 * 1080 * 3 / 2, 99);
    let plane = |offset: usize, stride: usize| Src { data: &data, offset, stride, store: Store::U8, step: 1, phase: 0 };
    let src = YuvSource {
        planes: [plane(0, 1920), plane(1920 * 1080, 960), plane(1920 * 1080 * 5 / 4, 960)],
        depth: 8,
        half_width: true,
        half_height: true,
        width: w,
        height: h,
    };
    let color = ColorInfo { matrix: MatrixCoefficients::BT709, ..ColorInfo::default() };
    for format in [PixelFormat::Rgb24, PixelFormat::Bgr24, PixelFormat::Rgba, PixelFormat::Bgra, PixelFormat::RgbPlanar]
    {
        same_both_ways(&src, Rect { x: 0, y: 0, width: w, height: h }, &color, format, "1080p");
    }
}
