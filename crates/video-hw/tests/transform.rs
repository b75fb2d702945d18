//! Transforms on the CPU against a float64 reference written from the definitions in
//! `video_hw::pixels::transform`'s documentation: within 1 LSB for uint8 and 1e-3 for float, for
//! every matrix × range × bit depth, odd sizes, crops, both filters, letterboxes, chroma
//! sitings and YUV renditions; and bad options refused at configuration by name.

use crate::common;

use video_hw::pixels::transform::{Filter, Transform};
use video_hw::{
    Channels, ChromaLocation, ColorInfo, ColorMatrix, ColorRange, Error, Frame, FrameData, MatrixCoefficients,
    PixelFormat, SampleType,
};

mod transform_ref;

use transform_ref::*;

#[test]
fn every_matrix_range_and_depth_matches_the_reference() {
    // Odd source and output sizes; downscale on one axis, upscale on the other.
    let (w, h) = (37, 23);
    let spec = Spec { crop: (0, 0, w, h), out: (19, 31), filter: Filter::Bilinear, letterbox: None };
    let mut worst = (0.0f64, 0.0f64);
    for (format, depth) in
        [(PixelFormat::Nv12, 8), (PixelFormat::Yuv420p, 8), (PixelFormat::P010, 10), (PixelFormat::Yuv420p10, 10)]
    {
        let src = Source::new(w, h, depth, 7 + u64::from(depth));
        for matrix in MATRICES {
            for range in [ColorRange::Limited, ColorRange::Full] {
                let color = ColorInfo { matrix: MatrixCoefficients(matrix), range, ..ColorInfo::default() };
                let what = format!("{format} matrix {matrix} {range:?}");
                let t = Transform::new().resize(19, 31).rgb(Channels::Rgb, false, SampleType::U8);
                worst.0 =
                    worst.0.max(check_rgb(&what, &src, format, color, &t, &spec, ([0.0; 3], [1.0; 3], 1.0 / 255.0)));
                let t = Transform::new().resize(19, 31).rgb(Channels::Rgb, true, SampleType::F32);
                worst.1 =
                    worst.1.max(check_rgb(&what, &src, format, color, &t, &spec, ([0.0; 3], [1.0; 3], 1.0 / 255.0)));
            }
        }
    }
    println!("largest difference: uint8 {} LSB, float32 {:.2e}", worst.0, worst.1);
}

#[test]
fn crop_area_letterbox_normalise_and_siting_match_the_reference() {
    let src = Source::new(121, 67, 8, 3);
    crop_area_letterbox_and_siting(&|f| f, "", &src, PixelFormat::Yuv420p, PixelFormat::Nv12);
}

#[test]
fn rgba_and_bgra_are_opaque_and_full_size_without_resize() {
    let src = Source::new(16, 10, 8, 9);
    for channels in [Channels::Rgba, Channels::Bgra] {
        let t = Transform::new().rgb(channels, false, SampleType::U8);
        let spec = Spec { crop: (0, 0, 16, 10), out: (16, 10), filter: Filter::Bilinear, letterbox: None };
        check_rgb(
            &format!("{channels:?}"),
            &src,
            PixelFormat::Nv12,
            ColorInfo::default(),
            &t,
            &spec,
            ([0.0; 3], [1.0; 3], 1.0),
        );
        let out = t.apply(&src.frame(PixelFormat::Nv12, ColorInfo::default())).unwrap();
        let FrameData::Host(h) = &out.data else { panic!() };
        assert!(h.as_bytes().chunks_exact(4).all(|px| px[3] == 255));
    }
}

/// The reference for one plane of a YUV rendition (code values at the source depth).
fn reference_yuv_plane(src: &Source, spec: &Spec, plane: usize, siting: ChromaLocation) -> Vec<Option<f64>> {
    let (cw, ch) = (src.w.div_ceil(2), src.h.div_ceil(2));
    let (ow, oh) = if plane == 0 { spec.out } else { (spec.out.0.div_ceil(2), spec.out.1.div_ceil(2)) };
    let off = siting.offset();
    let mut out = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            out.push(if plane == 0 {
                sample(spec, &src.planes[0], src.w, src.h, 1.0, (0.0, 0.0), ox, oy, 1.0, (0.0, 0.0))
            } else {
                sample(spec, &src.planes[plane], cw, ch, 2.0, off, ox, oy, 2.0, off)
            });
        }
    }
    out
}

#[test]
fn yuv_renditions_match_the_reference_and_convert_depth() {
    for (from, to, siting) in [
        (PixelFormat::Nv12, PixelFormat::Yuv420p, ChromaLocation::Left),
        (PixelFormat::Yuv420p, PixelFormat::Nv12, ChromaLocation::Center),
        (PixelFormat::P010, PixelFormat::Yuv420p10, ChromaLocation::TopLeft),
        (PixelFormat::Yuv420p10, PixelFormat::Nv12, ChromaLocation::Left),
        (PixelFormat::Nv12, PixelFormat::P010, ChromaLocation::Left),
    ] {
        let src = Source::new(53, 31, from.bit_depth(), 11);
        let color = ColorInfo { chroma_location: siting, ..ColorInfo::default() };
        for filter in [Filter::Bilinear, Filter::Area, Filter::Triangle] {
            let t = Transform::new().crop(1, 2, 50, 27).resize(22, 14).filter(filter).letterbox([0, 0, 0]).format(to);
            let out = t.apply(&src.frame(from, color)).unwrap();
            assert_eq!((out.format, out.width, out.height), (to, 22, 14));
            let spec = Spec { crop: (1, 2, 50, 27), out: (22, 14), filter, letterbox: Some([0, 0, 0]) };
            let FrameData::Host(h) = &out.data else { panic!() };
            let gain = 2f64.powi(i32::from(to.bit_depth()) - i32::from(from.bit_depth()));
            let unit = f64::from(1u32 << (to.bit_depth() - 8));
            for plane in 0..3 {
                let reference = reference_yuv_plane(&src, &spec, plane, siting);
                let ow = if plane == 0 { 22 } else { 11 };
                for (k, want) in reference.iter().enumerate() {
                    let (x, y) = (k % ow, k / ow);
                    let interleaved = matches!(to, PixelFormat::Nv12 | PixelFormat::P010);
                    let (p, col) = match (plane, interleaved) {
                        (0, _) => (0, x),
                        (c, true) => (1, 2 * x + c - 1),
                        (c, false) => (c, x),
                    };
                    let layout = h.plane(p);
                    let at = layout.offset + y * layout.stride + col * to.bytes_per_sample();
                    let got = match to {
                        PixelFormat::Nv12 | PixelFormat::Yuv420p => f64::from(h.as_bytes()[at]),
                        PixelFormat::P010 => {
                            f64::from(u16::from_le_bytes([h.as_bytes()[at], h.as_bytes()[at + 1]]) >> 6)
                        }
                        _ => f64::from(u16::from_le_bytes([h.as_bytes()[at], h.as_bytes()[at + 1]])),
                    };
                    // Letterbox bars are black: Y at 16, chroma at 128 (limited range).
                    let want = want.map_or(if plane == 0 { 16.0 * unit } else { 128.0 * unit }, |v| (v * gain).round());
                    assert!(
                        (got - want).abs() <= 1.0,
                        "{from}->{to} {filter:?} plane {plane} ({x}, {y}): {got} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn identity_and_pure_crop_are_exact() {
    let src = Source::new(30, 20, 8, 5);
    let frame = src.frame(PixelFormat::Nv12, ColorInfo::default());
    let out = Transform::new().apply(&frame).unwrap();
    let (FrameData::Host(a), FrameData::Host(b)) = (&frame.data, &out.data) else { panic!() };
    assert_eq!(a.as_bytes(), b.as_bytes());
    // A crop at even offsets copies samples exactly (chroma included).
    let out = Transform::new().crop(4, 2, 10, 8).format(PixelFormat::Yuv420p).apply(&frame).unwrap();
    let FrameData::Host(h) = &out.data else { panic!() };
    for y in 0..8 {
        for x in 0..10 {
            assert_eq!(f64::from(h.as_bytes()[y * 10 + x]), src.planes[0][(y + 2) * 30 + x + 4]);
        }
    }
    for y in 0..4 {
        for x in 0..5 {
            let at = h.plane(1).offset + y * h.plane(1).stride + x;
            assert_eq!(f64::from(h.as_bytes()[at]), src.planes[1][(y + 1) * 15 + x + 2]);
        }
    }
}

#[test]
fn unspecified_matrix_is_bt601_unless_a_rule_says_otherwise() {
    let untagged = ColorInfo::default();
    let tagged = ColorInfo { matrix: MatrixCoefficients::BT709, ..untagged };
    let matrix = |t: Transform, h: u32, c: &ColorInfo| t.plan(PixelFormat::Nv12, 1280, h, c).unwrap().color.matrix;
    // The default is FFmpeg's: BT.601 at every size; tags are kept.
    assert_eq!(matrix(Transform::new(), 719, &untagged), MatrixCoefficients::SMPTE170M);
    assert_eq!(matrix(Transform::new(), 720, &untagged), MatrixCoefficients::SMPTE170M);
    assert_eq!(matrix(Transform::new(), 720, &tagged), MatrixCoefficients::BT709);
    // auto-hd: the players' size rule for untagged streams, tags kept.
    let hd = Transform::new().color_matrix(ColorMatrix::AutoHd);
    assert_eq!(matrix(hd, 719, &untagged), MatrixCoefficients::SMPTE170M);
    assert_eq!(matrix(hd, 720, &untagged), MatrixCoefficients::BT709);
    let sd_tagged = ColorInfo { matrix: MatrixCoefficients::BT2020_NCL, ..untagged };
    assert_eq!(matrix(hd, 480, &sd_tagged), MatrixCoefficients::BT2020_NCL);
    // A named matrix overrides tags too (swscale's in_color_matrix).
    let named = Transform::new().color_matrix("bt601".parse().unwrap());
    assert_eq!(matrix(named, 1080, &tagged), MatrixCoefficients::SMPTE170M);
    assert!("bt2021".parse::<ColorMatrix>().is_err());
    let forced = Transform::new().matrix(MatrixCoefficients::BT2020_NCL).range(ColorRange::Full);
    let p = forced.plan(PixelFormat::Nv12, 64, 64, &ColorInfo::default()).unwrap();
    assert_eq!((p.color.matrix, p.color.range), (MatrixCoefficients::BT2020_NCL, ColorRange::Full));
}

/// The option an error names.
fn option_of(e: Error) -> String {
    match e {
        Error::InvalidOption { option, .. } => option,
        other => panic!("expected InvalidOption, got {other}"),
    }
}

#[test]
fn bad_options_are_refused_at_configuration_by_name() {
    let cases: Vec<(Transform, &str)> = vec![
        (Transform::new().resize(0, 10), "transform.size"),
        (Transform::new().resize(10, 20000), "transform.size"),
        (Transform::new().crop(0, 0, 0, 5), "transform.crop"),
        (Transform::new().letterbox([0; 3]), "transform.letterbox"),
        (Transform::new().rgb(Channels::Rgba, false, SampleType::F32), "transform.format"),
        (Transform::new().rgb(Channels::Rgba, true, SampleType::U8), "transform.format"),
        (
            Transform::new().rgb(Channels::Rgb, true, SampleType::U8).normalize([0.5; 3], [0.5; 3]),
            "transform.normalize",
        ),
        (Transform::new().normalize([0.5; 3], [0.5; 3]), "transform.normalize"),
        (
            Transform::new().rgb(Channels::Rgb, true, SampleType::F32).normalize([0.5; 3], [0.0, 1.0, 1.0]),
            "transform.std",
        ),
        (
            Transform::new().rgb(Channels::Rgb, true, SampleType::F32).normalize([f32::NAN; 3], [1.0; 3]),
            "transform.mean",
        ),
        (Transform::new().rgb(Channels::Rgb, true, SampleType::F32).scale(0.0), "transform.scale"),
        (Transform::new().matrix(MatrixCoefficients(8)), "transform.matrix"),
    ];
    for (t, option) in cases {
        assert_eq!(option_of(t.validate().unwrap_err()), option, "{t:?}");
        assert_eq!(Error::invalid_option(option, "x").exit_code(), 2);
    }
    // A crop outside the picture is refused as soon as the picture's size is known,
    // before any pixel is touched.
    let t = Transform::new().crop(100, 0, 30, 10);
    t.validate().unwrap();
    assert_eq!(option_of(t.output_size(120, 50).unwrap_err()), "transform.crop");
    assert_eq!(option_of(t.plan(PixelFormat::Nv12, 120, 50, &ColorInfo::default()).unwrap_err()), "transform.crop");
    let t = Transform::new().crop(u32::MAX, 0, 30, 10);
    assert_eq!(option_of(t.output_size(120, 50).unwrap_err()), "transform.crop");
    // RGB sources are refused (transforms read 4:2:0 YUV).
    let rgb = Transform::new().plan(PixelFormat::Rgb24, 8, 8, &ColorInfo::default()).unwrap_err();
    assert!(matches!(rgb, Error::Unsupported { .. }), "{rgb}");
}

/// Decodes a whole Annex-B file with `config` into frames.
fn decode_all(path: &std::path::Path, config: video_hw::DecoderConfig) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap();
    let mut dec = video_hw::Decoder::open(config).unwrap();
    let mut frames = Vec::new();
    for chunk in data.chunks(64 * 1024) {
        dec.submit(video_hw::Input::annexb(chunk, None)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    frames
}

fn bytes(f: &Frame) -> &[u8] {
    let FrameData::Host(h) = &f.data else { panic!("host frame") };
    h.as_bytes()
}

#[test]
fn decoders_apply_the_configured_transform_to_every_frame() {
    use video_hw::{Codec, DecoderConfig, EnginePreference, Output};
    let fixture =
        common::fixtures().into_iter().find(|f| f.codec == "h264" && f.bit_depth == 8).expect("an H.264 fixture");
    let base = DecoderConfig::new(Codec::H264).engine(EnginePreference::Auto);
    let plain = decode_all(&fixture.path, base.clone().output(Output::HOST_NV12));
    assert_eq!(plain.len() as u64, fixture.frames);
    let cases = [
        // RGB from `output`, size from the transform.
        (Output::HOST_RGB24, Transform::new().resize(64, 48), PixelFormat::Rgb24),
        // The transform's own format wins.
        (
            Output::HOST_NV12,
            Transform::new().resize(33, 17).rgb(Channels::Bgr, true, SampleType::F32),
            PixelFormat::BgrPlanarF32,
        ),
        // A YUV rendition in `output`'s format.
        (Output::HOST_YUV420P, Transform::new().crop(2, 2, 40, 30).resize(20, 14), PixelFormat::Yuv420p),
    ];
    for (output, t, want) in cases {
        let got = decode_all(&fixture.path, base.clone().output(output).transform(t));
        assert_eq!(got.len(), plain.len(), "{want}: every frame comes out");
        for (g, p) in got.iter().zip(&plain) {
            let expect = t.format(want).apply(p).unwrap();
            assert_eq!((g.format, g.width, g.height, g.pts), (want, expect.width, expect.height, p.pts));
            assert_eq!(bytes(g), bytes(&expect), "{want}: the same pixels as transforming the plain output");
        }
    }
    // Refused at configuration: a bad option. Every output format is taken with CUDA
    // output (the GPU path makes them: tests/gpu_transform.rs).
    let e = video_hw::Decoder::open(base.clone().transform(Transform::new().resize(0, 5))).unwrap_err();
    assert!(matches!(e, Error::InvalidOption { .. }), "{e}");
    let cuda = base.output(Output::CUDA_NV12);
    let planar = Transform::new().resize(8, 8).format(PixelFormat::Yuv420p);
    assert!(cuda.clone().transform(planar).validate().is_ok(), "planar YUV with CUDA output");
    let rgb = Transform::new().resize(8, 8).rgb(Channels::Rgb, true, SampleType::F32);
    assert!(cuda.clone().transform(rgb).validate().is_ok(), "RGB with CUDA output");
    assert!(cuda.transform(Transform::new().resize(8, 8)).validate().is_ok(), "NV12 with CUDA output");
}

/// A packed `w` × `h` plane of `size`-byte samples turned `q` quarter turns counter-
/// clockwise (numpy's `rot90(a, q)`), written from the definition.
fn turned(p: &[u8], w: usize, h: usize, size: usize, q: u8) -> Vec<u8> {
    let (dw, dh) = if q % 2 == 1 { (h, w) } else { (w, h) };
    let mut out = Vec::with_capacity(p.len());
    for y in 0..dh {
        for x in 0..dw {
            let (sx, sy) = match q {
                1 => (w - 1 - y, x),
                2 => (w - 1 - x, h - 1 - y),
                3 => (y, h - 1 - x),
                _ => (x, y),
            };
            out.extend_from_slice(&p[(sy * w + sx) * size..][..size]);
        }
    }
    out
}

#[test]
fn rotation_turns_the_output_and_crop_and_size_are_of_the_turned_picture() {
    let (w, h) = (37u32, 23u32);
    let src = Source::new(w as usize, h as usize, 8, 5);
    let frame = src.frame(PixelFormat::Nv12, ColorInfo::default());
    let bytes = |f: &Frame| {
        let FrameData::Host(h) = &f.data else { panic!("host frame") };
        let mut out = Vec::new();
        h.write_packed(&mut out);
        out
    };
    for q in 1..4u8 {
        let (dw, dh) = if q % 2 == 1 { (h, w) } else { (w, h) };
        // A crop of the turned picture, and the same rectangle of the coded one.
        let (x, y, cw, ch) = (3u32, 2u32, dw - 7, dh - 4);
        let coded_crop = match q {
            1 => (w - y - ch, x, ch, cw),
            2 => (w - x - cw, h - y - ch, cw, ch),
            _ => (y, h - x - cw, ch, cw),
        };
        let turn_size = |(a, b): (u32, u32)| if q % 2 == 1 { (b, a) } else { (a, b) };
        for (format, size, resize) in
            [(PixelFormat::Rgb24, 3, None), (PixelFormat::Rgb24, 3, Some((19, 29))), (PixelFormat::Yuv420p, 1, None)]
        {
            let mut t = Transform::new().format(format).crop(x, y, cw, ch);
            let c = coded_crop;
            let mut coded = Transform::new().format(format).crop(c.0, c.1, c.2, c.3);
            if let Some(s) = resize {
                t = t.resize(s.0, s.1);
                let (a, b) = turn_size(s);
                coded = coded.resize(a, b);
            }
            let what = format!("{} degrees, {format}, resize {resize:?}", 90 * u16::from(q));
            let got = t.rotate(90 * u16::from(q)).apply(&frame).unwrap();
            let want = coded.apply(&frame).unwrap();
            let (ow, oh) = resize.unwrap_or((cw, ch));
            assert_eq!((got.width, got.height), (ow, oh), "{what}");
            assert_eq!(t.rotate(90 * u16::from(q)).output_size(w, h).unwrap(), (ow, oh), "{what}");
            let (uw, uh) = (want.width as usize, want.height as usize);
            let want_bytes = bytes(&want);
            let luma = turned(&want_bytes[..uw * uh * size], uw, uh, size, q);
            let got_bytes = bytes(&got);
            assert!(got_bytes[..uw * uh * size] == luma[..], "{what}");
            if format == PixelFormat::Yuv420p {
                let (cw2, ch2) = (uw.div_ceil(2), uh.div_ceil(2));
                let cb = &want_bytes[uw * uh..uw * uh + cw2 * ch2];
                assert!(got_bytes[uw * uh..uw * uh + cw2 * ch2] == turned(cb, cw2, ch2, 1, q)[..], "{what} Cb");
            }
        }
    }
    assert_eq!(option_of(Transform::new().rotate(45).validate().unwrap_err()), "transform.rotate");
    // A crop that fits the coded picture but not the turned one is refused.
    assert!(Transform::new().crop(0, 0, 37, 23).rotate(90).output_size(w, h).is_err());
}
