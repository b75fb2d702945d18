//! The built-in AV1 encoder (rav1e) through the public [`Encoder`] API, with no FFmpeg
//! needed: real footage (the committed cars clip) encoded and decoded again by the
//! built-in rav1d, every frame back, at a sensible quality; rate control, GOP, forced
//! key frames, 10-bit input, low latency and timestamps.

use crate::common;

use common::clip::{H, W, luma_psnr, rav1d_i420};

use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, HostFrame,
    Packet, PixelFormat, Preset, RateControl, Tuning,
};

/// 90 kHz ticks per frame at 25 fps.
const TICKS: i64 = 3600;

fn rav1e(rc: RateControl) -> EncoderConfig {
    EncoderConfig::new(Codec::Av1, W, H)
        .fps(25, 1)
        .rate_control(rc)
        // The fastest preset: the quality floors hold there, and tests stay quick.
        .preset(Preset::Fastest)
        .engine(EnginePreference::Only(Engine::Rav1e))
}

/// An I420 picture as a frame of `format` (P010 / 10-bit planar from 8-bit samples).
fn frame_of(i420: &[u8], format: PixelFormat) -> Frame {
    let (y, uv) = i420.split_at((W * H) as usize);
    let (u, v) = uv.split_at(uv.len() / 2);
    let wide = |s: &[u8]| -> Vec<u8> { s.iter().flat_map(|&x| (u16::from(x) << 2).to_le_bytes()).collect() };
    let bytes = match format {
        PixelFormat::Yuv420p => i420.to_vec(),
        PixelFormat::Nv12 => {
            let mut out = y.to_vec();
            out.extend(u.iter().zip(v).flat_map(|(a, b)| [*a, *b]));
            out
        }
        PixelFormat::Yuv420p10 => [wide(y), wide(u), wide(v)].concat(),
        PixelFormat::P010 => {
            let mut out: Vec<u8> = y.iter().flat_map(|&s| (u16::from(s) << 8).to_le_bytes()).collect();
            out.extend(u.iter().zip(v).flat_map(|(a, b)| {
                let (a, b) = ((u16::from(*a) << 8).to_le_bytes(), (u16::from(*b) << 8).to_le_bytes());
                [a[0], a[1], b[0], b[1]]
            }));
            out
        }
        other => panic!("{other}"),
    };
    Frame::host(format, W, H, HostFrame::from_packed(format, W, H, bytes).unwrap())
}

fn encode(config: &EncoderConfig, frames: &[Vec<u8>], force: &[usize]) -> Vec<Packet> {
    let mut enc = Encoder::open(config.clone()).unwrap_or_else(|e| panic!("{config:?}: {e}"));
    assert_eq!(enc.engine(), Engine::Rav1e);
    let mut packets = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let options = FrameOptions { pts: Some(i as i64 * TICKS), force_keyframe: force.contains(&i) };
        enc.submit(&frame_of(f, config.input_format), options).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            packets.push(p);
        }
    }
    packets.extend(enc.flush().unwrap());
    packets
}

fn kbps(packets: &[Packet], frames: usize) -> f64 {
    let bits = packets.iter().map(|p| p.data.len() as f64 * 8.0).sum::<f64>();
    bits / (frames as f64 / 25.0) / 1000.0
}

#[test]
fn real_footage_round_trips_with_every_frame_and_good_quality() {
    let frames = common::clip::cars_i420(30);
    let packets = encode(&rav1e(RateControl::Cbr { bitrate: 800_000 }), &frames, &[]);
    assert_eq!(packets.len(), frames.len(), "one temporal unit per frame");
    // Packets come in display order, each with its frame's pts.
    let pts: Vec<Option<i64>> = packets.iter().map(|p| p.pts).collect();
    assert_eq!(pts, (0..30).map(|i| Some(i * TICKS)).collect::<Vec<_>>());
    assert!(packets.iter().all(|p| p.dts == p.pts && p.codec == Codec::Av1));
    assert!(packets[0].keyframe && packets[0].data.starts_with(&[0x12, 0x00]), "a temporal delimiter first");
    let db = luma_psnr(&frames, &rav1d_i420(&packets));
    let rate = kbps(&packets, frames.len());
    eprintln!("rav1e 800 kb/s CBR: {rate:.0} kb/s, {db:.2} dB");
    assert!(db >= 35.0, "{db:.2} dB");
}

#[test]
fn constant_quality_orders_size_and_quality() {
    let frames = common::clip::cars_i420(12);
    let mut last = (0usize, f64::MAX);
    for q in [20u8, 35] {
        let packets = encode(&rav1e(RateControl::ConstQuality { q }), &frames, &[]);
        let size: usize = packets.iter().map(|p| p.data.len()).sum();
        let db = luma_psnr(&frames, &rav1d_i420(&packets));
        eprintln!("rav1e q {q}: {size} bytes, {db:.2} dB");
        if last.0 > 0 {
            assert!(size < last.0 && db < last.1, "q {q}: {size} bytes {db:.2} dB after {last:?}");
        }
        last = (size, db);
    }
}

#[test]
fn gop_and_forced_key_frames() {
    let frames = common::clip::cars_i420(20);
    let mut cfg = rav1e(RateControl::ConstQuality { q: 30 });
    cfg.gop = Some(8);
    let packets = encode(&cfg, &frames, &[5]);
    let keys: Vec<usize> = packets.iter().enumerate().filter(|(_, p)| p.keyframe).map(|(i, _)| i).collect();
    // Forced at 5; the GOP counts on from the last key frame.
    assert!(keys.starts_with(&[0, 5]), "{keys:?}");
    assert!(keys.len() >= 3, "{keys:?}");
    assert_eq!(rav1d_i420(&packets).len(), frames.len());
}

#[test]
fn ten_bit_and_nv12_input_and_low_latency() {
    let frames = common::clip::cars_i420(10);
    for (format, tuning) in [
        (PixelFormat::Yuv420p10, Tuning::HighQuality),
        (PixelFormat::P010, Tuning::UltraLowLatency),
        (PixelFormat::Nv12, Tuning::LowLatency),
    ] {
        let mut cfg = rav1e(RateControl::ConstQuality { q: 25 }).input_format(format).tuning(tuning);
        cfg.threads = Some(2);
        let mut enc = Encoder::open(cfg.clone()).unwrap();
        let mut packets = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            enc.submit(&frame_of(f, format), FrameOptions { pts: Some(i as i64), force_keyframe: false }).unwrap();
            while let Some(p) = enc.try_reap().unwrap() {
                packets.push(p);
            }
            if tuning == Tuning::UltraLowLatency {
                // rav1e's shortest look-ahead: each packet four frames after its frame
                // (scene-cut and rate look-ahead cannot be turned off).
                assert!(packets.len() + 4 > i, "{format}: frame {i}, {} packets", packets.len());
            }
        }
        packets.extend(enc.flush().unwrap());
        let db = luma_psnr(&frames, &rav1d_i420(&packets));
        eprintln!("rav1e {format} {tuning:?}: {db:.2} dB");
        assert!(db >= 35.0, "{format}: {db:.2} dB");
    }
}

#[test]
fn other_codecs_and_outputs_are_refused() {
    let cfg = EncoderConfig::new(Codec::H264, W, H).engine(EnginePreference::Only(Engine::Rav1e));
    assert!(Encoder::open(cfg).is_err());
    let cfg = DecoderConfig::new(Codec::Av1).engine(EnginePreference::Only(Engine::Rav1e));
    assert!(Decoder::open(cfg).is_err(), "rav1e does not decode");
}

/// The bitrate is the one asked for, low targets too: rav1e reads its `quantizer` as the
/// highest quantiser allowed in bitrate mode (100 unless set), which held a 720p stream
/// at 2.9 Mb/s whatever the target until the engine lifted it.
#[test]
fn cbr_meets_low_and_high_targets() {
    let frames = common::clip::cars_i420(50);
    for bitrate in [150_000u64, 1_500_000] {
        let packets = encode(&rav1e(RateControl::Cbr { bitrate }).preset(Preset::Fastest), &frames, &[]);
        let got = kbps(&packets, frames.len()) * 1000.0;
        let error = got / bitrate as f64 - 1.0;
        eprintln!("rav1e CBR {bitrate}: {got:.0} bit/s ({:+.1}%)", error * 100.0);
        assert!(error.abs() < 0.2, "CBR {bitrate}: {got:.0} bit/s");
    }
}

/// A new rate mid-stream: rav1e cannot change in place, so the session drains the
/// running encoder and opens another; every frame comes out once, in order, the new
/// generation starting with a key frame at the switch, and the stream decodes whole.
#[test]
fn a_switch_drains_and_opens_a_new_generation() {
    use video_hw::SwitchMode;
    let frames = common::clip::cars_i420(16);
    let high = rav1e(RateControl::Cbr { bitrate: 1_500_000 }).preset(Preset::Fastest);
    let mut enc = Encoder::open(high.clone()).unwrap();
    let mut packets = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if i == 8 {
            let low = high.clone().rate_control(RateControl::Cbr { bitrate: 200_000 });
            assert_eq!(enc.reconfigure(low, SwitchMode::Immediate).unwrap(), 1);
        }
        let options = FrameOptions { pts: Some(i as i64 * TICKS), force_keyframe: false };
        enc.submit(&frame_of(f, PixelFormat::Yuv420p), options).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            packets.push(p);
        }
    }
    packets.extend(enc.flush().unwrap());
    let pts: Vec<Option<i64>> = packets.iter().map(|p| p.pts).collect();
    assert_eq!(pts, (0..16).map(|i| Some(i * TICKS)).collect::<Vec<_>>());
    let generations: Vec<u64> = packets.iter().map(|p| p.generation).collect();
    assert_eq!(generations, [[0u64; 8], [1; 8]].concat());
    assert!(packets[8].keyframe, "the new encoder starts with a key frame");
    assert_eq!(rav1d_i420(&packets).len(), 16);
}
