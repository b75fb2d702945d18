//! The transform on the GPU (`transform_rgb`: one kernel launch per frame, reading the CUDA
//! frame's NV12/P010 planes) against the same float64 reference as the CPU path
//! (`tests/transform.rs`): within 1 LSB for uint8 and 1e-3 for float, for every matrix ×
//! range × bit depth, odd sizes, crops, both filters, letterboxes, chroma sitings and
//! channel orders; and decoders that run it on NVDEC's own frames, host or CUDA output
//! (planar YUV in GPU memory too, checked against ffmpeg's bytes).
//! Needs an NVIDIA GPU: `VIDEO_HW_TEST_GPU=1 cargo test -p video-hw --release --test
//! gpu_transform`.

mod common;
mod transform_ref;

use transform_ref::*;
use video_hw::pipeline::{FrameRing, RingConfig, RingMemory};
use video_hw::pixels::pix_fmt::{self, Exact};
use video_hw::pixels::transform::{Filter, Transform};
use video_hw::{
    Channels, Codec, ColorInfo, ColorRange, DecoderConfig, Engine, EnginePreference, Frame, FrameData,
    MatrixCoefficients, Output, PixelFormat, SampleType,
};

/// A device-memory ring to upload source frames into.
fn ring() -> FrameRing {
    FrameRing::with_config(RingConfig::new(2).memory(RingMemory::Cuda { device: 0 })).expect("a CUDA ring on GPU 0")
}

/// The host frame `f` copied into a CUDA slot of `ring` (same format, size, colour, pts).
fn upload(ring: &FrameRing, f: Frame) -> Frame {
    let FrameData::Host(h) = &f.data else { panic!("a host frame") };
    let mut c = ring.acquire_cuda(f.format, f.width, f.height, None).expect("a free slot");
    c.cuda_data_mut().expect("device memory").upload(h).expect("upload");
    c.color = f.color;
    c.pts = f.pts;
    c
}

#[test]
fn gpu_transform_every_matrix_range_and_depth_matches_the_reference() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let ring = ring();
    let place = |f: Frame| upload(&ring, f);
    // Odd source and output sizes; downscale on one axis, upscale on the other.
    let (w, h) = (37, 23);
    let spec = Spec { crop: (0, 0, w, h), out: (19, 31), filter: Filter::Bilinear, letterbox: None };
    let identity = ([0.0; 3], [1.0; 3], 1.0 / 255.0);
    let mut worst = (0.0f64, 0.0f64);
    for (format, depth) in [(PixelFormat::Nv12, 8), (PixelFormat::P010, 10)] {
        let src = Source::new(w, h, depth, 7 + u64::from(depth));
        for matrix in MATRICES {
            for range in [ColorRange::Limited, ColorRange::Full] {
                let color = ColorInfo { matrix: MatrixCoefficients(matrix), range, ..ColorInfo::default() };
                let what = format!("GPU {format} matrix {matrix} {range:?}");
                let t = Transform::new().resize(19, 31).rgb(Channels::Rgb, false, SampleType::U8);
                worst.0 = worst.0.max(check_rgb_on(&place, &what, &src, format, color, &t, &spec, identity));
                let t = Transform::new().resize(19, 31).rgb(Channels::Rgb, true, SampleType::F32);
                worst.1 = worst.1.max(check_rgb_on(&place, &what, &src, format, color, &t, &spec, identity));
            }
        }
    }
    println!("largest difference: uint8 {} LSB, float32 {:.2e}", worst.0, worst.1);
}

#[test]
fn gpu_transform_crop_area_letterbox_normalise_and_siting_match_the_reference() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let ring = ring();
    let place = |f: Frame| upload(&ring, f);
    let mean = [0.485f32, 0.456, 0.406];
    let std = [0.229f32, 0.224, 0.225];
    let norm = (mean.map(f64::from), std.map(f64::from), 1.0 / 255.0);
    for (format, depth) in [(PixelFormat::Nv12, 8), (PixelFormat::P010, 10)] {
        let src = Source::new(121, 67, depth, 3);
        crop_area_letterbox_and_siting(&place, &format!("GPU {format} "), &src, format, format);
    }
    // What ML pipelines ask for: 1080p to 224×224, area or triangle (torchvision's
    // antialiased resize: ~10 taps an axis), planar float32, normalised.
    let src = Source::new(1920, 1080, 8, 11);
    for filter in [Filter::Area, Filter::Triangle] {
        let t = Transform::new()
            .resize(224, 224)
            .filter(filter)
            .rgb(Channels::Rgb, true, SampleType::F32)
            .normalize(mean, std);
        let spec = Spec { crop: (0, 0, 1920, 1080), out: (224, 224), filter, letterbox: None };
        let what = format!("GPU 1080p -> 224x224 {filter:?}");
        let worst = check_rgb_on(&place, &what, &src, PixelFormat::Nv12, ColorInfo::default(), &t, &spec, norm);
        println!("1080p -> 224x224 {filter:?} float32: largest difference {worst:.2e}");
    }
}

#[test]
fn gpu_transform_rgba_and_bgra_are_opaque() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let ring = ring();
    let place = |f: Frame| upload(&ring, f);
    let src = Source::new(16, 10, 8, 9);
    for channels in [Channels::Rgba, Channels::Bgra] {
        let t = Transform::new().rgb(channels, false, SampleType::U8);
        let spec = Spec { crop: (0, 0, 16, 10), out: (16, 10), filter: Filter::Bilinear, letterbox: None };
        let norm = ([0.0; 3], [1.0; 3], 1.0);
        check_rgb_on(
            &place,
            &format!("GPU {channels:?}"),
            &src,
            PixelFormat::Nv12,
            ColorInfo::default(),
            &t,
            &spec,
            norm,
        );
        let out = t.apply(&place(src.frame(PixelFormat::Nv12, ColorInfo::default()))).unwrap();
        let FrameData::Device(c) = &out.data else { panic!("the GPU path gives a CUDA frame") };
        assert!(c.download().unwrap().as_bytes().chunks_exact(4).all(|px| px[3] == 255));
    }
}

/// Every frame of `data` decoded with `config` (NVDEC), in 64 KiB + 1 pieces.
fn decode(data: &[u8], config: DecoderConfig) -> Vec<Frame> {
    let mut dec = video_hw::Decoder::open(config).expect("nvdec opens");
    let mut out = Vec::new();
    for piece in data.chunks(65_537) {
        dec.submit(video_hw::Input::annexb(piece, None)).expect("decodes");
        while let Some(frame) = dec.try_reap().unwrap() {
            out.push(frame);
        }
    }
    out.extend(dec.flush().unwrap());
    out
}

/// A frame's pixels in host memory.
fn host_bytes(f: &Frame) -> Vec<u8> {
    match &f.data {
        FrameData::Host(h) => h.as_bytes().to_vec(),
        FrameData::Device(c) => c.download().unwrap().as_bytes().to_vec(),
        _ => panic!("a frame with pixels"),
    }
}

/// Largest difference between two outputs of `format`, in output units.
fn largest_difference(a: &[u8], b: &[u8], format: PixelFormat) -> f64 {
    assert_eq!(a.len(), b.len());
    match format.sample_type() {
        SampleType::U8 => a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).fold(0.0, f64::max),
        SampleType::F32 => a
            .chunks_exact(4)
            .zip(b.chunks_exact(4))
            .map(|(x, y)| {
                let (x, y) = (f32::from_ne_bytes(x.try_into().unwrap()), f32::from_ne_bytes(y.try_into().unwrap()));
                f64::from((x - y).abs())
            })
            .fold(0.0, f64::max),
        other => panic!("compare {other:?}"),
    }
}

/// The fixtures NVDEC decodes (8-bit H.264, HEVC of both depths), with their codec and bytes.
fn nvdec_fixtures() -> Vec<(common::Fixture, Codec, Vec<u8>)> {
    common::fixtures()
        .into_iter()
        .filter(|f| (f.codec == "h264" && f.bit_depth == 8) || f.codec == "hevc")
        .map(|f| {
            let codec = if f.codec == "h264" { Codec::H264 } else { Codec::Hevc };
            let data = std::fs::read(&f.path).unwrap();
            (f, codec, data)
        })
        .collect()
}

fn nvdec(codec: Codec, output: Output) -> DecoderConfig {
    DecoderConfig::new(codec).engine(EnginePreference::Only(Engine::Nvdec)).output(output)
}

#[test]
fn gpu_decoders_transform_nvdec_frames_on_the_gpu_as_the_cpu_path_does() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let fixtures = nvdec_fixtures();
    assert!(fixtures.iter().any(|(f, ..)| f.bit_depth > 8), "no 10-bit fixture");
    let mean = [0.485f32, 0.456, 0.406];
    let std = [0.229f32, 0.224, 0.225];
    let transforms = [
        Transform::new()
            .resize(224, 224)
            .filter(Filter::Area)
            .rgb(Channels::Rgb, true, SampleType::F32)
            .normalize(mean, std),
        Transform::new().crop(3, 5, 101, 77).resize(57, 33).rgb(Channels::Bgr, false, SampleType::U8),
    ];
    for (f, codec, data) in &fixtures {
        let nvdec = |output: Output| nvdec(*codec, output);
        // The CPU path's input: NVDEC's host NV12 (P010 for 10-bit).
        let plain = decode(data, nvdec(Output::HOST_NV12));
        for t in &transforms {
            let what = format!("{} {:?}", f.rel, t.format_choice());
            let host = decode(data, nvdec(Output::HOST_NV12).transform(*t));
            let cuda = decode(data, nvdec(Output::CUDA_NV12).transform(*t));
            assert_eq!(host.len(), plain.len(), "{what}: frame count, host output");
            assert_eq!(cuda.len(), plain.len(), "{what}: frame count, CUDA output");
            for (k, ((p, h), c)) in plain.iter().zip(&host).zip(&cuda).enumerate() {
                let cpu = t.apply(p).unwrap();
                assert!(matches!(c.data, FrameData::Device(_)), "{what}: CUDA output stays on the GPU");
                assert!(matches!(h.data, FrameData::Host(_)), "{what}: host output");
                assert_eq!(
                    (h.format, h.width, h.height, h.pts),
                    (cpu.format, cpu.width, cpu.height, cpu.pts),
                    "{what} #{k}"
                );
                assert_eq!(
                    (c.format, c.width, c.height, c.pts),
                    (cpu.format, cpu.width, cpu.height, cpu.pts),
                    "{what} #{k}"
                );
                let (hb, cb, pb) = (host_bytes(h), host_bytes(c), host_bytes(&cpu));
                assert_eq!(hb, cb, "{what} #{k}: host and CUDA output are the same kernel's");
                let d = largest_difference(&hb, &pb, cpu.format);
                let tolerance = if cpu.format.sample_type() == SampleType::U8 { 1.0 } else { 1e-3 };
                assert!(d <= tolerance, "{what} #{k}: GPU and CPU paths differ by {d}");
            }
        }
    }
}

/// Largest difference between two 4:2:0 outputs of `format`, in code values.
fn largest_code_difference(a: &[u8], b: &[u8], format: PixelFormat) -> u32 {
    assert_eq!(a.len(), b.len());
    if format.bytes_per_sample() == 1 {
        return a.iter().zip(b).map(|(x, y)| u32::from(x.abs_diff(*y))).max().unwrap_or(0);
    }
    // 16-bit words; P010 holds the value in the high bits.
    let shift = if format == PixelFormat::P010 { 6 } else { 0 };
    let word = |c: &[u8]| u16::from_le_bytes([c[0], c[1]]) >> shift;
    a.chunks_exact(2).zip(b.chunks_exact(2)).map(|(x, y)| u32::from(word(x).abs_diff(word(y)))).max().unwrap_or(0)
}

#[test]
fn gpu_transform_yuv_renditions_equal_the_cpu_path() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let ring = ring();
    // The CPU path is held to the float64 reference by tests/transform.rs; the GPU path sums
    // the same taps in the same order, so the two may differ only where a value rounds at
    // .5 (1 code value).
    for (source, depth) in [(PixelFormat::Nv12, 8), (PixelFormat::P010, 10)] {
        let src = Source::new(121, 67, depth, 5);
        for output in [PixelFormat::Nv12, PixelFormat::Yuv420p, PixelFormat::P010, PixelFormat::Yuv420p10] {
            for (k, t) in [
                Transform::new().resize(57, 33),
                Transform::new().crop(5, 3, 101, 61).resize(150, 40).filter(Filter::Area),
                Transform::new().resize(64, 64).letterbox([200, 30, 90]).filter(Filter::Area),
                Transform::new().crop(1, 1, 119, 65),
            ]
            .into_iter()
            .enumerate()
            {
                let what = format!("{source} -> {output} #{k}");
                let t = t.format(output);
                let host = src.frame(source, ColorInfo::default());
                let cpu = t.apply(&host).unwrap_or_else(|e| panic!("{what}: CPU: {e}"));
                let gpu = t.apply(&upload(&ring, host)).unwrap_or_else(|e| panic!("{what}: GPU: {e}"));
                assert!(matches!(gpu.data, FrameData::Device(_)), "{what}: made on the GPU");
                assert_eq!((gpu.format, gpu.width, gpu.height), (cpu.format, cpu.width, cpu.height), "{what}");
                let d = largest_code_difference(&host_bytes(&gpu), &host_bytes(&cpu), output);
                assert!(d <= 1, "{what}: GPU and CPU differ by {d} code values");
            }
        }
    }
}

#[test]
fn gpu_decoders_make_resized_yuv_on_the_gpu_as_the_cpu_path_does() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    for (f, codec, data) in &nvdec_fixtures() {
        let nvdec = |output: Output| nvdec(*codec, output);
        let plain = decode(data, nvdec(Output::HOST_NV12));
        let t = Transform::new().resize(97, 55);
        // Host YUV420P (planar, of the stream's depth), host NV12 (NV12/P010) and CUDA NV12.
        for output in [Output::HOST_YUV420P, Output::HOST_NV12, Output::CUDA_NV12] {
            let what = format!("{} {output:?}", f.rel);
            let got = decode(data, nvdec(output).transform(t));
            assert_eq!(got.len(), plain.len(), "{what}: frame count");
            for (k, (g, p)) in got.iter().zip(&plain).enumerate() {
                let planar = match p.format {
                    PixelFormat::P010 => PixelFormat::Yuv420p10,
                    _ => PixelFormat::Yuv420p,
                };
                let want = if output == Output::HOST_YUV420P { t.format(planar) } else { t };
                let cpu = want.apply(p).unwrap();
                assert_eq!(matches!(g.data, FrameData::Device(_)), output == Output::CUDA_NV12, "{what} #{k}: where");
                assert_eq!(
                    (g.format, g.width, g.height, g.pts),
                    (cpu.format, cpu.width, cpu.height, cpu.pts),
                    "{what} #{k}"
                );
                let d = largest_code_difference(&host_bytes(g), &host_bytes(&cpu), cpu.format);
                assert!(d <= 1, "{what} #{k}: GPU and CPU paths differ by {d} code values");
            }
        }
    }
}

#[test]
fn gpu_decoders_give_planar_yuv_in_gpu_memory_as_ffmpeg_does() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    // A format with no resize: NVDEC's surface split into planes on the GPU. At the
    // stream's depth the bytes are ffmpeg's (`-pix_fmt yuv420p` / `yuv420p10le`, the
    // fixtures' `yuv` references); across depths they are ffmpeg's names' meaning
    // (video_hw::pixels::pix_fmt: 8 → 10 bits is `x << 2`, equal; 10 → 8 rounds, within 1).
    for (f, codec, data) in &nvdec_fixtures() {
        let want = common::fixture_reference_md5s(f, "yuv");
        let (same, other) = if f.bit_depth > 8 {
            (PixelFormat::Yuv420p10, PixelFormat::Yuv420p)
        } else {
            (PixelFormat::Yuv420p, PixelFormat::Yuv420p10)
        };
        let got = decode(data, nvdec(*codec, Output::CUDA_NV12).transform(Transform::new().format(same)));
        assert_eq!(got.len(), want.len(), "{}: frame count", f.rel);
        for (k, g) in got.iter().enumerate() {
            assert!(matches!(g.data, FrameData::Device(_)), "{} #{k}: in GPU memory", f.rel);
            assert_eq!(g.format, same, "{} #{k}", f.rel);
            assert_eq!(common::frame_md5(g).1, want[k], "{} #{k}: ffmpeg's {same} bytes", f.rel);
        }
        let across = decode(data, nvdec(*codec, Output::CUDA_NV12).transform(Transform::new().format(other)));
        assert_eq!(across.len(), got.len(), "{}: frame count across depths", f.rel);
        let exact = if other == PixelFormat::Yuv420p { Exact::Yuv420p } else { Exact::Yuv420p10 };
        for (k, (a, g)) in across.iter().zip(&got).enumerate() {
            let mut expect = Vec::new();
            let src = host_bytes(g);
            assert!(pix_fmt::convert(g.format, g.width, g.height, &src, exact, &mut expect).unwrap());
            let d = largest_code_difference(&host_bytes(a), &expect, other);
            let tolerance = if other == PixelFormat::Yuv420p { 1 } else { 0 };
            assert!(d <= tolerance, "{} #{k}: {other} differs from ffmpeg's meaning by {d}", f.rel);
        }
    }
}
