//! NVENC on a real GPU. Run with `VIDEO_HW_TEST_GPU=1 cargo test --test gpu_nvenc`;
//! without that variable these tests only print a note.
//!
//! On a GPU without an NVENC unit (the H200 of the project's test machine), the probe and
//! an explicit `nvenc` encode must say "GPU N (name) has no NVENC (NV_ENC_ERR_…)" with exit
//! status 3, and `Auto` must fall back to OpenH264. On a GPU with NVENC, H.264 and HEVC
//! encode (with B-frames and an in-place reconfigure) must decode back with every frame and
//! a PSNR floor, and CUDA frames from NVDEC must encode without a host copy. The tests need
//! no files: their pictures are drawn, and the stream NVDEC decodes is made by OpenH264.

mod common;

use std::time::Duration;

use video_hw::frame::HostFrame;
use video_hw::registry::{ProbeReport, probe_all};
use video_hw::{
    Codec, DecoderConfig, Direction, Encoder, EncoderConfig, Engine, EnginePreference, Error, Frame, FrameOptions,
    Input, Output, Packet, PixelFormat, RateControl, SwitchMode,
};

const W: u32 = 352;
const H: u32 = 288;

fn nvenc_report(codec: Codec) -> ProbeReport {
    probe_all(0)
        .into_iter()
        .find(|r| r.engine == Engine::Nvenc && r.direction == Direction::Encode && r.codec == codec)
        .expect("an nvenc row for every codec")
}

/// A moving pattern: frame `i` of `n`, NV12.
fn picture(i: u32) -> Frame {
    let mut f = HostFrame::new_packed(PixelFormat::Nv12, W, H);
    for y in 0..H as usize {
        let row = f.row_mut(0, y);
        for (x, v) in row.iter_mut().enumerate() {
            *v = (((x + 3 * i as usize) ^ (y + 2 * i as usize)) & 0xff) as u8 / 2 + 40;
        }
    }
    for y in 0..(H / 2) as usize {
        let row = f.row_mut(1, y);
        for (x, v) in row.iter_mut().enumerate() {
            *v = (128 + ((x + y + i as usize) % 64)) as u8;
        }
    }
    Frame::host(PixelFormat::Nv12, W, H, f)
}

/// Submits every frame (waiting out backpressure), reconfiguring to `switch` halfway when
/// given, and returns all packets.
fn encode(enc: &mut Encoder, frames: &[Frame], switch: Option<EncoderConfig>) -> Vec<Packet> {
    let mut packets = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if i == frames.len() / 2
            && let Some(cfg) = &switch
        {
            assert_eq!(enc.reconfigure(cfg.clone(), SwitchMode::Immediate).expect("reconfigure"), 1);
        }
        let opts = FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: false };
        loop {
            match enc.submit(f, opts) {
                Ok(()) => break,
                Err(Error::Backpressure(_)) => packets.extend(enc.reap_timeout(Duration::from_secs(5)).expect("reap")),
                Err(e) => panic!("submit: {e}"),
            }
        }
        while let Some(p) = enc.try_reap().expect("reap") {
            packets.push(p);
        }
    }
    packets.extend(enc.flush().expect("flush"));
    packets
}

fn luma_psnr(a: &Frame, b: &Frame) -> f64 {
    let a = a.to_host().expect("pixels");
    let b = b.to_host().expect("pixels");
    let (mut se, mut n) = (0f64, 0f64);
    for (ra, rb) in a.rows(0).zip(b.rows(0)) {
        for (x, y) in ra.iter().zip(rb) {
            se += (*x as f64 - *y as f64).powi(2);
            n += 1.0;
        }
    }
    if se == 0.0 { 99.0 } else { 10.0 * (255.0f64 * 255.0 * n / se).log10() }
}

fn decode(codec: Codec, stream: &[u8], engine: Engine, output: Output) -> Vec<Frame> {
    let cfg = DecoderConfig::new(codec).engine(EnginePreference::Only(engine)).output(output);
    let mut dec = video_hw::Decoder::open(cfg).expect("decoder");
    let mut frames = Vec::new();
    dec.submit(Input::annexb(stream, None)).expect("decode");
    while let Some(f) = dec.try_reap().expect("reap") {
        frames.push(f);
    }
    frames.extend(dec.flush().expect("flush"));
    frames
}

#[test]
fn gpu_nvenc_probe_reports_the_gpu_or_its_absence() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    for codec in Codec::ALL {
        let r = nvenc_report(codec);
        eprintln!("nvenc {codec}: available {} — {} {:?}", r.available, r.reason, r.info);
        match codec {
            Codec::Av1 => assert!(!r.available && r.reason.contains("API 11.1"), "{}", r.reason),
            Codec::Vp9 => assert!(!r.available && r.reason.contains("no VP9"), "{}", r.reason),
            _ if r.available => {
                assert!(r.info.device.as_deref().is_some_and(|d| d.starts_with("GPU 0: ")), "{:?}", r.info);
                assert!(r.reason.contains("B-frames: up to"), "{}", r.reason);
            }
            _ => {
                let why = &r.reason;
                let no_unit = why.starts_with("GPU 0 (") && why.contains(") has no NVENC (NV_ENC_ERR_");
                // The driver and the GPU must be reachable: a missing library or device fails.
                assert!(no_unit || why.contains("driver too old"), "{why}");
            }
        }
    }
}

#[test]
fn gpu_nvenc_explicit_engine_refuses_or_encodes_and_auto_falls_back() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let available = nvenc_report(Codec::H264).available;
    let cfg = EncoderConfig::new(Codec::H264, W, H).input_format(PixelFormat::Nv12);
    let explicit = Encoder::open(cfg.clone().engine(EnginePreference::Only(Engine::Nvenc)));
    match (&explicit, available) {
        (Ok(enc), true) => assert_eq!(enc.engine(), Engine::Nvenc),
        (Err(e), false) => {
            eprintln!("{e}");
            assert_eq!(e.exit_code(), 3, "{e}");
            assert!(e.to_string().starts_with("unsupported: h264 encode with nvenc: "), "{e}");
        }
        (Ok(_), false) => panic!("the probe said no, the open said yes"),
        (Err(e), true) => panic!("the probe said yes, the open failed: {e}"),
    }
    drop(explicit);
    let auto = Encoder::open(cfg.clone()).expect("auto");
    assert_eq!(auto.engine(), if available { Engine::Nvenc } else { Engine::OpenH264 });
    if !available {
        let e = Encoder::open(cfg.require_hardware(true)).expect_err("no hardware encoder here");
        assert_eq!(e.exit_code(), 3, "{e}");
    }
}

#[test]
fn gpu_nvenc_round_trip_with_b_frames_and_reconfigure() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    if !nvenc_report(Codec::H264).available {
        eprintln!("note: this GPU has no NVENC; round trip not run");
        return;
    }
    let frames: Vec<Frame> = (0..48).map(picture).collect();
    for (codec, b_frames) in [(Codec::H264, 2), (Codec::H264, 0), (Codec::Hevc, 0)] {
        let cfg = EncoderConfig::new(codec, W, H)
            .input_format(PixelFormat::Nv12)
            .engine(EnginePreference::Only(Engine::Nvenc))
            .rate_control(RateControl::Cbr { bitrate: 3_000_000 })
            .gop(24)
            .b_frames(b_frames);
        let mut enc = Encoder::open(cfg.clone()).expect("nvenc");
        let switched = cfg.clone().rate_control(RateControl::Cbr { bitrate: 1_500_000 });
        let packets = encode(&mut enc, &frames, Some(switched));
        assert_eq!(packets.len(), frames.len(), "{codec} b={b_frames}");
        assert!(packets[0].keyframe, "{codec}");
        assert_eq!(packets.iter().filter(|p| p.keyframe).count(), 2, "{codec}: GOP of 24");
        for p in &packets {
            let i = p.pts.expect("pts") / 3000;
            let expected = u64::from(i >= frames.len() as i64 / 2);
            assert_eq!(p.generation, expected, "{codec}: frame {i}");
            assert!(p.dts <= p.pts, "{codec}: dts {:?} pts {:?}", p.dts, p.pts);
        }
        assert!(packets.windows(2).all(|w| w[0].dts <= w[1].dts), "{codec}: dts monotonic");
        let stream: Vec<u8> = packets.iter().flat_map(|p| p.data.iter().copied()).collect();
        let decoded = decode(codec, &stream, Engine::Nvdec, Output::HOST_NV12);
        assert_eq!(decoded.len(), frames.len(), "{codec}");
        let worst = frames.iter().zip(&decoded).map(|(a, b)| luma_psnr(a, b)).fold(99.0, f64::min);
        eprintln!("{codec} b={b_frames}: {} bytes, worst luma PSNR {worst:.1} dB", stream.len());
        assert!(worst > 30.0, "{codec}: {worst}");
    }
}

#[test]
fn gpu_nvenc_encodes_cuda_frames_from_nvdec() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    if !nvenc_report(Codec::H264).available {
        eprintln!("note: this GPU has no NVENC; CUDA transcode not run");
        return;
    }
    // Source stream by OpenH264, decoded by NVDEC into CUDA frames.
    let frames: Vec<Frame> = (0..30).map(picture).collect();
    let sw = EncoderConfig::new(Codec::H264, W, H)
        .input_format(PixelFormat::Nv12)
        .engine(EnginePreference::Only(Engine::OpenH264));
    let mut enc = Encoder::open(sw).expect("openh264");
    let source: Vec<u8> = encode(&mut enc, &frames, None).iter().flat_map(|p| p.data.iter().copied()).collect();
    let cuda = decode(Codec::H264, &source, Engine::Nvdec, Output::CUDA_NV12);
    assert_eq!(cuda.len(), frames.len());
    let cfg = EncoderConfig::new(Codec::Hevc, W, H)
        .input_format(PixelFormat::Nv12)
        .engine(EnginePreference::Only(Engine::Nvenc))
        .gop(30);
    let mut enc = Encoder::open(cfg).expect("nvenc");
    let packets = encode(&mut enc, &cuda, None);
    assert_eq!(packets.len(), cuda.len());
    let stream: Vec<u8> = packets.iter().flat_map(|p| p.data.iter().copied()).collect();
    let back = decode(Codec::Hevc, &stream, Engine::Nvdec, Output::HOST_NV12);
    assert_eq!(back.len(), frames.len());
    let worst = cuda.iter().zip(&back).map(|(a, b)| luma_psnr(a, b)).fold(99.0, f64::min);
    eprintln!("CUDA transcode: worst luma PSNR {worst:.1} dB against NVDEC's frames");
    assert!(worst > 30.0, "{worst}");
}
