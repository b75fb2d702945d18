//! The session state machine driven by the FAKE NVENC of `fake.rs`: call order, buffer
//! reuse, B-frame reordering and timestamps, generations across switch modes, EOS, error
//! paths, CUDA staging and registration. Nothing is encoded; see `fake.rs`.

use std::sync::Arc;
use std::time::Duration;

use super::super::sys::nvenc::*;
use super::caps::Caps;
use super::device::Device;
use super::fake::{self, Fake, FakeDevice, Script};
use super::session::{NvencEncoder, probe_on};
use crate::backend::EncoderBackend;
use crate::codec::{Codec, PixelFormat};
use crate::config::{EncoderConfig, FrameOptions, Preset, RateControl, SwitchMode};
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::frame::{DeviceApi, DeviceFrame, DeviceFrameOwner, Frame, FrameData, HostFrame};
use crate::packet::{Packet, PacketLayout};

const GPU: &str = "GPU 0 (Fake GPU)";
const W: u32 = 320;
const H: u32 = 240;

fn fake_with(script: Script) -> Arc<Fake> {
    Fake::new(script)
}

fn device(fake: &Arc<Fake>) -> Arc<Device> {
    Arc::new(Device::Fake(FakeDevice::new(fake.clone())))
}

fn open(fake: &Arc<Fake>, cfg: &EncoderConfig) -> Result<NvencEncoder> {
    NvencEncoder::open_on(fake::api(), device(fake), GPU.into(), cfg)
}

fn config(codec: Codec) -> EncoderConfig {
    EncoderConfig::new(codec, W, H).input_format(PixelFormat::Nv12).gop(30)
}

fn host_frame(format: PixelFormat, i: u64) -> Frame {
    let mut pixels = HostFrame::new_packed(format, W, H);
    for (k, b) in pixels.as_bytes_mut().iter_mut().enumerate() {
        *b = ((k as u64 + i) % 251) as u8;
    }
    Frame::host(format, W, H, pixels)
}

fn opts(i: u64) -> FrameOptions {
    FrameOptions { pts: Some(i as i64 * 3000), force_keyframe: false }
}

/// The `T<timestamp>` the fake wrote into a packet's last NAL unit.
fn stamp(p: &Packet) -> u64 {
    let at = p.data.iter().rposition(|&b| b == b'T').expect("fake payload");
    std::str::from_utf8(&p.data[at + 1..]).expect("digits").parse().expect("number")
}

/// Submits frames `range`, reaping whatever is ready after each. A `Backpressure` answer
/// (the session holds as many frames as it may: the fake's completions lag behind a loaded
/// machine) is met as the error says: wait for a packet, then submit again.
fn run(enc: &mut dyn EncoderBackend, range: std::ops::Range<u64>, generation: u64, out: &mut Vec<Packet>) {
    for i in range {
        let frame = host_frame(PixelFormat::Nv12, i);
        let mut tries = 0;
        while let Err(e) = enc.submit(&frame, opts(i), generation) {
            tries += 1;
            assert!(matches!(e, crate::Error::Backpressure(_)) && tries < 100, "submit: {e:?}");
            if let Some(p) = enc.reap_timeout(std::time::Duration::from_millis(100)).expect("reap") {
                out.push(p);
            }
        }
        while let Some(p) = enc.try_reap().expect("reap") {
            out.push(p);
        }
    }
}

fn count(fake: &Fake, name: &str) -> usize {
    fake.call_names().iter().filter(|n| *n == name).count()
}

fn position(names: &[String], name: &str) -> usize {
    names.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} never called: {names:?}"))
}

#[test]
fn call_order_from_open_to_destroy() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::H264).preset(Preset::Slow);
    let mut enc = open(&fake, &cfg).unwrap();
    let mut packets = Vec::new();
    run(&mut enc, 0..3, 0, &mut packets);
    packets.extend(enc.flush().unwrap());
    assert_eq!(packets.len(), 3);
    drop(enc);

    let names = fake.call_names();
    let first = |n: &str| position(&names, n);
    let last = |n: &str| names.iter().rposition(|x| x == n).unwrap_or_else(|| panic!("{n}: {names:?}"));
    assert_eq!(names[0], "open");
    assert!(first("open") < first("guids") && first("guids") < first("caps"), "{names:?}");
    assert!(last("caps") < first("preset") && first("preset") < first("initialize"), "{names:?}");
    assert!(first("initialize") < first("create_input") && first("initialize") < first("create_bitstream"));
    assert!(last("create_bitstream") < first("sequence_params") && first("sequence_params") < first("encode"));
    assert!(first("lock_input") < first("unlock_input") && first("unlock_input") < first("encode"));
    assert!(first("encode") < first("lock") && first("lock") < first("unlock"), "{names:?}");
    let eos = fake.state().calls.iter().position(|c| c.starts_with("encode flags=8")).expect("EOS sent");
    assert!(eos > last("lock_input") && eos < first("destroy_input"), "{names:?}");
    assert!(last("destroy_input") < last("destroy") && last("destroy_bitstream") < last("destroy"));
    assert_eq!(names.last().map(String::as_str), Some("destroy"));
    let st = fake.state();
    assert_eq!(st.presets, [(5, NV_ENC_TUNING_INFO_HIGH_QUALITY)], "P5 with high-quality tuning");
    assert_eq!(st.sessions, 0);
    assert_eq!(st.leaked_at_destroy, Some((0, 0, 0, 0)), "every buffer destroyed before the session");
}

#[test]
fn buffers_are_reused_in_a_fixed_pool() {
    let fake = fake_with(Script::default());
    let cfg = EncoderConfig { frames_in_flight: 2, ..config(Codec::H264) };
    let mut enc = open(&fake, &cfg).unwrap();
    let mut packets = Vec::new();
    for i in 0..12 {
        enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i), 0).unwrap();
        packets.extend(enc.reap_timeout(Duration::from_secs(5)).unwrap());
    }
    packets.extend(enc.flush().unwrap());
    assert_eq!(packets.len(), 12);
    assert_eq!((count(&fake, "create_input"), count(&fake, "create_bitstream")), (2, 2));
    let st = fake.state();
    let mut inputs: Vec<usize> = st.encoded.iter().map(|e| e.input).collect();
    let mut outputs: Vec<usize> = st.encoded.iter().map(|e| e.output).collect();
    inputs.sort_unstable();
    inputs.dedup();
    outputs.sort_unstable();
    outputs.dedup();
    assert_eq!((inputs.len(), outputs.len()), (2, 2), "the same two pairs over and over");
    let pts: Vec<Option<i64>> = packets.iter().map(|p| p.pts).collect();
    assert_eq!(pts, (0..12).map(|i| Some(i * 3000)).collect::<Vec<_>>());
    assert!(packets.iter().all(|p| p.dts == p.pts && p.generation == 0));
    assert!(packets[0].keyframe && !packets[1].keyframe);
}

#[test]
fn b_frames_come_out_in_coding_order_with_monotonic_dts() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::H264).b_frames(2);
    let mut enc = open(&fake, &cfg).unwrap();
    let mut packets = Vec::new();
    run(&mut enc, 0..7, 0, &mut packets);
    packets.extend(enc.flush().unwrap());
    let order: Vec<u64> = packets.iter().map(stamp).collect();
    assert_eq!(order, [0, 3, 1, 2, 6, 4, 5], "IDR, then P before the B-frames it anchors");
    for p in &packets {
        assert_eq!(p.pts, Some(stamp(p) as i64 * 3000), "each packet carries its own frame's pts");
    }
    let dts: Vec<i64> = packets.iter().map(|p| p.dts.unwrap()).collect();
    assert_eq!(dts, [-6000, -3000, 0, 3000, 6000, 9000, 12000]);
    assert!(packets.iter().all(|p| p.dts <= p.pts));
    let keys: Vec<bool> = packets.iter().map(|p| p.keyframe).collect();
    assert_eq!(keys, [true, false, false, false, false, false, false]);
    // Frames 1, 2, 4, 5 were held (NEED_MORE_INPUT): their outputs were only locked after
    // a later success, or the fake would have refused the lock.
    assert_eq!(count(&fake, "lock"), 7);
}

#[test]
fn eos_drains_held_frames_and_a_new_stream_starts_after_flush() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::Hevc).b_frames(2);
    let mut enc = open(&fake, &cfg).unwrap();
    let mut packets = Vec::new();
    run(&mut enc, 0..5, 0, &mut packets);
    assert!(packets.len() <= 4, "frame 4 is held for its backward reference");
    packets.extend(enc.flush().unwrap());
    let order: Vec<u64> = packets.iter().map(stamp).collect();
    assert_eq!(order, [0, 3, 1, 2, 4]);
    assert!(fake.state().calls.iter().any(|c| c.starts_with("encode flags=8")));
    assert!(enc.flush().unwrap().is_empty(), "a second flush has nothing");

    // Submitting again opens a fresh NVENC session: the old one is destroyed first.
    enc.submit(&host_frame(PixelFormat::Nv12, 10), opts(10), 3).unwrap();
    let after = enc.flush().unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].keyframe && after[0].generation == 3 && after[0].pts == Some(30_000));
    let names = fake.call_names();
    let destroy = position(&names, "destroy");
    let reopen = names.iter().rposition(|n| n == "open").unwrap();
    assert!(destroy < reopen, "{names:?}");
    assert_eq!(fake.state().sessions, 1);
    drop(enc);
    assert_eq!(fake.state().sessions, 0);
}

#[test]
fn immediate_switch_keeps_the_old_generation_on_frames_submitted_before_it() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::H264).b_frames(2).rate_control(RateControl::Cbr { bitrate: 4_000_000 });
    let backend = open(&fake, &cfg).unwrap();
    let mut enc = Encoder::with_backend(cfg.clone(), Box::new(backend));
    let mut packets = Vec::new();
    for i in 0..3 {
        enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i)).unwrap();
        packets.extend(enc.try_reap().unwrap());
    }
    let g = enc.reconfigure(cfg.clone().rate_control(RateControl::Cbr { bitrate: 2_000_000 }), SwitchMode::Immediate);
    assert_eq!(g.unwrap(), 1);
    for i in 3..6 {
        enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i)).unwrap();
        packets.extend(enc.try_reap().unwrap());
    }
    packets.extend(enc.flush().unwrap());
    let got: Vec<(u64, u64)> = packets.iter().map(|p| (stamp(p), p.generation)).collect();
    assert_eq!(
        got,
        [(0, 0), (3, 1), (1, 0), (2, 0), (5, 1), (4, 1)],
        "frames 1 and 2 come out after 3, as generation 0"
    );
    assert!(fake.state().calls.iter().any(|c| c == "reconfigure reset=0 idr=0"), "bitrate changes without an IDR");
    assert_eq!(fake.state().initialized.as_ref().map(|i| i.average_bitrate), Some(2_000_000));
    assert_eq!(enc.stats().generation, 1);
    assert_eq!(count(&fake, "open"), 1, "in place: no second session");
}

#[test]
fn on_next_keyframe_switch_applies_at_the_gop_boundary() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::H264).gop(4);
    let backend = open(&fake, &cfg).unwrap();
    let mut enc = Encoder::with_backend(cfg.clone(), Box::new(backend));
    let mut packets = Vec::new();
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0)).unwrap();
    let g = enc.reconfigure(cfg.clone().fps(25, 1), SwitchMode::OnNextKeyframe).unwrap();
    assert_eq!(g, 1);
    for i in 1..6 {
        enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i)).unwrap();
        packets.extend(enc.reap_timeout(Duration::from_secs(5)).unwrap());
    }
    packets.extend(enc.flush().unwrap());
    let got: Vec<(u64, u64, bool)> = packets.iter().map(|p| (stamp(p), p.generation, p.keyframe)).collect();
    assert_eq!(got, [(0, 0, true), (1, 0, false), (2, 0, false), (3, 0, false), (4, 1, true), (5, 1, false)]);
    let st = fake.state();
    assert!(st.calls.iter().any(|c| c == "reconfigure reset=1 idr=1"), "a frame-rate change starts a new sequence");
    assert_eq!(st.initialized.as_ref().map(|i| i.fps), Some((25, 1)));
    assert_eq!(st.encoded[4].flags & NV_ENC_PIC_FLAG_FORCEIDR, NV_ENC_PIC_FLAG_FORCEIDR);
}

#[test]
fn what_cannot_change_in_place_asks_for_drain_and_swap() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::H264).b_frames(2).gop(30);
    let mut enc = open(&fake, &cfg).unwrap();
    let cases = [
        ("b-frames", cfg.clone().b_frames(1)),
        ("preset", cfg.clone().preset(Preset::Fastest)),
        ("size", EncoderConfig { width: 640, height: 480, ..cfg.clone() }),
        ("layout", cfg.clone().layout(PacketLayout::LengthPrefixed)),
        ("codec", EncoderConfig { codec: Codec::Hevc, ..cfg.clone() }),
        (
            "rc kind without NV_ENC_CAPS_SUPPORT_DYN_RCMODE_CHANGE",
            cfg.clone().rate_control(RateControl::Vbr { avg: 1, max: 2 }),
        ),
        ("all-intra", cfg.clone().gop(1).b_frames(0)),
    ];
    for (what, new) in cases {
        assert!(!enc.reconfigure(&new).unwrap(), "{what}");
    }
    // A GOP change resets the encoder: not while B-frames are held.
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1), 0).unwrap(); // held
    assert!(!enc.reconfigure(&cfg.clone().gop(60)).unwrap(), "pending B-frame");
    enc.submit(&host_frame(PixelFormat::Nv12, 2), opts(2), 0).unwrap(); // held
    enc.submit(&host_frame(PixelFormat::Nv12, 3), opts(3), 0).unwrap(); // P: releases 1, 2
    assert!(enc.reconfigure(&cfg.clone().gop(60)).unwrap(), "nothing held any more");
    assert_eq!(enc.gop_length(), Some(60));
    assert_eq!(count(&fake, "reconfigure"), 1, "refusals never reached the driver");

    // Without NV_ENC_CAPS_SUPPORT_DYN_BITRATE_CHANGE a bitrate change is a new session too.
    let fake = fake_with(Script { caps: vec![(NV_ENC_CAPS_SUPPORT_DYN_BITRATE_CHANGE, 0)], ..Script::default() });
    let mut enc = open(&fake, &cfg).unwrap();
    assert!(!enc.reconfigure(&cfg.clone().rate_control(RateControl::Cbr { bitrate: 1_000_000 })).unwrap());
    // With NV_ENC_CAPS_SUPPORT_DYN_RCMODE_CHANGE the kind may change, with a reset.
    let fake = fake_with(Script { caps: vec![(NV_ENC_CAPS_SUPPORT_DYN_RCMODE_CHANGE, 1)], ..Script::default() });
    let mut enc = open(&fake, &cfg).unwrap();
    assert!(enc.reconfigure(&cfg.clone().rate_control(RateControl::ConstQp { i: 20, p: 22, b: 24 })).unwrap());
    assert!(fake.state().calls.iter().any(|c| c == "reconfigure reset=1 idr=1"));
    assert_eq!(fake.state().initialized.as_ref().map(|i| i.rc_mode), Some(NV_ENC_PARAMS_RC_CONSTQP));
}

#[test]
fn failed_reconfigure_leaves_the_session_running() {
    let fake = fake_with(Script::default());
    let cfg = config(Codec::H264);
    let backend = open(&fake, &cfg).unwrap();
    let mut enc = Encoder::with_backend(cfg.clone(), Box::new(backend));
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0)).unwrap();
    fake.script().reconfigure.push_back(NV_ENC_ERR_GENERIC);
    let e = enc.reconfigure(cfg.clone().gop(60), SwitchMode::Immediate).unwrap_err();
    match &e {
        Error::Backend { engine, code, message } => {
            assert_eq!((engine.as_str(), code.as_str()), ("nvenc", "NV_ENC_ERR_GENERIC"));
            assert!(message.contains("nvEncReconfigureEncoder: fake: something went wrong"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(enc.stats().generation, 0);
    assert_eq!(enc.config().gop, Some(30));
    enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1)).unwrap();
    let packets = enc.flush().unwrap();
    assert_eq!(packets.len(), 2);
    assert!(packets.iter().all(|p| p.generation == 0));
    assert_eq!(fake.state().initialized.as_ref().map(|i| i.gop), Some(30), "the old configuration stays");

    // NV_ENC_ERR_UNSUPPORTED_PARAM means "not in place": drain and swap.
    let fake = fake_with(Script::default());
    let mut enc = open(&fake, &cfg).unwrap();
    fake.script().reconfigure.push_back(NV_ENC_ERR_UNSUPPORTED_PARAM);
    assert!(!enc.reconfigure(&cfg.clone().gop(60)).unwrap());
}

#[test]
fn backpressure_when_the_session_is_full() {
    let fake = fake_with(Script::default());
    let cfg = EncoderConfig { frames_in_flight: 2, ..config(Codec::H264) };
    let mut enc = open(&fake, &cfg).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1), 0).unwrap();
    let e = enc.submit(&host_frame(PixelFormat::Nv12, 2), opts(2), 0).unwrap_err();
    assert!(matches!(e, Error::Backpressure(_)), "{e}");
    assert_eq!(fake.state().encoded.len(), 2, "the refused frame was not taken");
    let p = enc.reap_timeout(Duration::from_secs(5)).unwrap().expect("a packet");
    assert_eq!(p.pts, Some(0));
    enc.submit(&host_frame(PixelFormat::Nv12, 2), opts(2), 0).unwrap();
    let rest = enc.flush().unwrap();
    assert_eq!(rest.iter().map(|p| p.pts).collect::<Vec<_>>(), [Some(3000), Some(6000)]);
}

#[test]
fn encoder_busy_is_retried_then_reported_as_backpressure() {
    let fake = fake_with(Script::default());
    let mut enc = open(&fake, &config(Codec::H264)).unwrap();
    fake.script().encode.push_back(NV_ENC_ERR_ENCODER_BUSY);
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap();
    fake.script().encode.extend([NV_ENC_ERR_ENCODER_BUSY; 4]);
    let e = enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1), 0).unwrap_err();
    assert!(matches!(&e, Error::Backpressure(m) if m.contains("NV_ENC_ERR_ENCODER_BUSY")), "{e}");
    enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1), 0).unwrap();
    let packets = enc.flush().unwrap();
    assert_eq!(packets.iter().map(|p| p.pts).collect::<Vec<_>>(), [Some(0), Some(3000)]);
    assert_eq!(fake.state().calls.iter().filter(|c| c.starts_with("encode flags=0")).count(), 2 + 4 + 1);
}

#[test]
fn encode_failure_is_a_typed_error_and_the_session_goes_on() {
    let fake = fake_with(Script::default());
    let mut enc = open(&fake, &config(Codec::H264)).unwrap();
    fake.script().encode.push_back(NV_ENC_ERR_OUT_OF_MEMORY);
    match enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap_err() {
        Error::Backend { code, message, .. } => {
            assert_eq!(code, "NV_ENC_ERR_OUT_OF_MEMORY");
            assert!(message.starts_with("nvEncEncodePicture: fake: something went wrong"), "{message}");
        }
        e => panic!("{e}"),
    }
    for i in 0..3 {
        enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i), 0).unwrap();
    }
    assert_eq!(enc.flush().unwrap().len(), 3);
    fake.script().encode.push_back(NV_ENC_ERR_DEVICE_NOT_EXIST);
    let e = enc.submit(&host_frame(PixelFormat::Nv12, 9), opts(9), 0).unwrap_err();
    assert!(matches!(e, Error::DeviceLost(_)), "{e}");
}

#[test]
fn lock_failure_is_reported_and_its_buffers_come_back() {
    let fake = fake_with(Script::default());
    let cfg = EncoderConfig { frames_in_flight: 1, ..config(Codec::H264) };
    let mut enc = open(&fake, &cfg).unwrap();
    fake.script().lock.push_back(NV_ENC_ERR_GENERIC);
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap();
    let mut err = None;
    for _ in 0..50 {
        match enc.reap_timeout(Duration::from_millis(100)) {
            Err(e) => {
                err = Some(e);
                break;
            }
            Ok(Some(p)) => panic!("the lost picture came out: {p:?}"),
            Ok(None) => {}
        }
    }
    match err.expect("the lock failure surfaces") {
        Error::Backend { code, message, .. } => {
            assert_eq!(code, "NV_ENC_ERR_GENERIC");
            assert!(message.starts_with("nvEncLockBitstream"), "{message}");
        }
        e => panic!("{e}"),
    }
    // One slot only: the next frames can use it again.
    let mut packets = Vec::new();
    for i in 1..4 {
        enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i), 0).unwrap();
        packets.extend(enc.reap_timeout(Duration::from_secs(5)).unwrap());
    }
    packets.extend(enc.flush().unwrap());
    assert_eq!(packets.iter().map(|p| p.pts).collect::<Vec<_>>(), [Some(3000), Some(6000), Some(9000)]);
}

#[test]
fn open_failures_are_typed_and_leave_nothing_open() {
    let cases: [(NVENCSTATUS, &str); 6] = [
        (
            NV_ENC_ERR_UNSUPPORTED_DEVICE,
            "unsupported: nvenc: GPU 0 (Fake GPU) has no NVENC (NV_ENC_ERR_UNSUPPORTED_DEVICE)",
        ),
        (
            NV_ENC_ERR_NO_ENCODE_DEVICE,
            "unsupported: nvenc: GPU 0 (Fake GPU) has no NVENC (NV_ENC_ERR_NO_ENCODE_DEVICE)",
        ),
        (NV_ENC_ERR_OUT_OF_MEMORY, "session limit reached"),
        (NV_ENC_ERR_INCOMPATIBLE_CLIENT_KEY, "session limit reached"),
        (NV_ENC_ERR_INVALID_VERSION, "driver too old"),
        (NV_ENC_ERR_GENERIC, "nvenc error NV_ENC_ERR_GENERIC"),
    ];
    for (status, expected) in cases {
        let fake = fake_with(Script { open: status, ..Script::default() });
        let e = open(&fake, &config(Codec::H264)).unwrap_err();
        assert!(e.to_string().starts_with(expected), "{status}: {e}");
        assert_eq!(fake.state().sessions, 0);
    }
    // Failures after the session opened destroy it.
    let init = fake_with(Script { init: NV_ENC_ERR_INVALID_PARAM, ..Script::default() });
    let e = open(&init, &config(Codec::H264)).unwrap_err();
    assert!(matches!(&e, Error::Backend { code, .. } if code == "NV_ENC_ERR_INVALID_PARAM"), "{e}");
    let no_hevc = fake_with(Script { codecs: vec![NV_ENC_CODEC_H264_GUID], ..Script::default() });
    let e = open(&no_hevc, &config(Codec::Hevc)).unwrap_err();
    assert_eq!(e.to_string(), "unsupported: nvenc: GPU 0 (Fake GPU) NVENC cannot encode hevc");
    let no_b = fake_with(Script { caps: vec![(NV_ENC_CAPS_NUM_MAX_BFRAMES, 0)], ..Script::default() });
    let e = open(&no_b, &config(Codec::Hevc).b_frames(2)).unwrap_err();
    assert!(e.to_string().contains("NV_ENC_CAPS_NUM_MAX_BFRAMES is 0"), "{e}");
    let ten_bit = fake_with(Script::default());
    let e = open(&ten_bit, &config(Codec::H264).input_format(PixelFormat::P010)).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    for fake in [init, no_hevc, no_b, ten_bit] {
        let st = fake.state();
        assert_eq!(st.sessions, 0, "{:?}", st.calls);
        assert_eq!(st.calls.last().map(String::as_str), Some("destroy"));
    }
}

#[test]
fn forced_keyframes_and_parameter_sets() {
    let fake = fake_with(Script::default());
    let cfg = EncoderConfig { repeat_parameter_sets: false, ..config(Codec::H264).gop(100) };
    let mut enc = open(&fake, &cfg).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1), 0).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 2), FrameOptions { pts: Some(6000), force_keyframe: true }, 0).unwrap();
    let packets = enc.flush().unwrap();
    let sets = |p: &Packet| {
        crate::bitstream::annexb::split_all(&p.data).iter().filter(|n| matches!(n[0] & 0x1f, 7 | 8)).count()
    };
    assert_eq!(packets.iter().map(|p| p.keyframe).collect::<Vec<_>>(), [true, false, true]);
    assert_eq!(packets.iter().map(sets).collect::<Vec<_>>(), [2, 0, 0], "SPS/PPS once, as asked");
    assert_eq!(fake.state().encoded[2].flags, NV_ENC_PIC_FLAG_FORCEIDR);

    // After a reset (new GOP) the parameter sets are asked for in band again.
    let fake = fake_with(Script::default());
    let mut enc = open(&fake, &cfg).unwrap();
    enc.submit(&host_frame(PixelFormat::Nv12, 0), opts(0), 0).unwrap();
    assert!(enc.reconfigure(&cfg.clone().gop(50)).unwrap());
    enc.submit(&host_frame(PixelFormat::Nv12, 1), opts(1), 1).unwrap();
    let packets = enc.flush().unwrap();
    assert_eq!(fake.state().encoded[1].flags, NV_ENC_PIC_FLAG_OUTPUT_SPSPPS);
    assert_eq!(packets.iter().map(sets).collect::<Vec<_>>(), [2, 2]);
    assert!(packets[1].keyframe);
}

#[test]
fn length_prefixed_output_has_out_of_band_parameter_sets() {
    for codec in [Codec::H264, Codec::Hevc] {
        let fake = fake_with(Script::default());
        let cfg = config(codec).layout(PacketLayout::LengthPrefixed);
        let backend = open(&fake, &cfg).unwrap();
        let expected: Vec<Vec<u8>> = fake::parameter_sets(codec == Codec::H264).iter().map(|s| s.to_vec()).collect();
        assert_eq!(backend.parameter_sets(), expected, "{codec}: from nvEncGetSequenceParams");
        let init = fake.state().initialized.clone().unwrap();
        assert!(init.disable_sps && !init.repeat_sps, "{codec}");
        let mut enc = Encoder::with_backend(cfg, Box::new(backend));
        let record = enc.config_record().expect("record");
        assert_eq!(record.parameter_sets.len(), expected.len());
        for i in 0..3 {
            enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i)).unwrap();
        }
        for p in enc.flush().unwrap() {
            assert_eq!(p.layout, PacketLayout::LengthPrefixed);
            let nals: Vec<&[u8]> =
                crate::bitstream::avcc::LengthPrefixedNals::new(&p.data, 4).map(|n| n.unwrap()).collect();
            assert_eq!(nals.len(), 1, "{codec}: one slice, no parameter sets");
            assert_eq!(nals[0].last(), Some(&b"0123456789"[p.pts.unwrap() as usize / 3000]));
        }
    }
}

#[test]
fn host_frames_are_copied_with_the_buffer_pitch() {
    for format in [PixelFormat::Yuv420p, PixelFormat::Nv12, PixelFormat::Bgra, PixelFormat::P010] {
        let fake = fake_with(Script::default());
        let codec = if format == PixelFormat::P010 { Codec::Hevc } else { Codec::H264 };
        let cfg = config(codec).input_format(format);
        let mut enc = open(&fake, &cfg).unwrap();
        let frame = host_frame(format, 7);
        enc.submit(&frame, opts(0), 0).unwrap();
        enc.flush().unwrap();
        let st = fake.state();
        let e = &st.encoded[0];
        let pitch = e.pitch as usize;
        let expected_format = super::config::buffer_format(format).unwrap();
        assert_eq!(e.format, expected_format, "{format}");
        let host = frame.host_data().unwrap();
        for (r, row) in host.rows(0).enumerate() {
            assert_eq!(&e.bytes[r * pitch..][..row.len()], row, "{format} row {r}");
        }
        if format == PixelFormat::Yuv420p {
            let (luma, cp) = (pitch * H as usize, pitch / 2);
            let v_at = luma + cp * (H as usize / 2);
            assert_eq!(&e.bytes[luma..][..W as usize / 2], host.rows(1).next().unwrap(), "U after Y");
            assert_eq!(&e.bytes[v_at..][..W as usize / 2], host.rows(2).next().unwrap(), "V after U");
        }
    }
}

#[test]
fn host_frames_are_uploads_cuda_frames_are_not_and_output_locks_are_timed() {
    use crate::engine::{Direction, Engine};
    use crate::metrics::{Scope, Stage, Telemetry};
    let fake = fake_with(Script::default());
    let mut enc = open(&fake, &config(Codec::H264)).unwrap();
    let telemetry = Telemetry::new(Direction::Encode, Codec::H264, Engine::Nvenc);
    {
        let _scope = Scope::enter(&telemetry);
        for i in 0..3 {
            enc.submit(&host_frame(PixelFormat::Nv12, i), opts(i), 0).unwrap();
        }
    }
    let t = telemetry.timings();
    assert_eq!(t.stage(Stage::Upload).map(|s| s.count), Some(3), "{t:?}");
    assert_eq!(t.bytes_h2d, 3 * PixelFormat::Nv12.frame_size(W, H) as u64);
    assert_eq!(t.bytes_d2h, 0);
    {
        // Each output lock, timed on the reaper thread, is the session's `map` stage once
        // its slot comes back (what `--stats` and the in-flight experiment read).
        let _scope = Scope::enter(&telemetry);
        assert_eq!(enc.flush().unwrap().len(), 3);
    }
    let t = telemetry.timings();
    assert_eq!(t.stage(Stage::Map).map(|s| s.count), Some(3), "{t:?}");

    // CUDA input is copied device to device: no upload.
    let fake = fake_with(Script::default());
    let mut enc = open(&fake, &config(Codec::H264)).unwrap();
    let telemetry = Telemetry::new(Direction::Encode, Codec::H264, Engine::Nvenc);
    {
        let _scope = Scope::enter(&telemetry);
        enc.submit(&cuda_frame(PixelFormat::Nv12, 0x5000_0000, 0), opts(0), 0).unwrap();
    }
    let t = telemetry.timings();
    assert_eq!((t.stage(Stage::Upload).is_none(), t.bytes_h2d), (true, 0), "{t:?}");
    enc.flush().unwrap();
}

/// A CUDA frame's owner for tests (never downloaded).
struct NoDownload;
impl DeviceFrameOwner for NoDownload {
    fn api(&self) -> DeviceApi {
        DeviceApi::Cuda
    }

    fn download(&self, _: &DeviceFrame) -> Result<HostFrame> {
        Err(Error::unsupported("download", "test frame"))
    }
}

fn cuda_frame(format: PixelFormat, ptr: u64, device_index: u32) -> Frame {
    let pitch = 1024;
    let data = FrameData::Device(DeviceFrame {
        device_index,
        device_ptr: ptr,
        pitch,
        plane_offsets: [0, pitch * H as usize, 0],
        plane_count: format.plane_count(),
        stream: 0,
        event: 0,
        format,
        width: W,
        height: H,
        owner: Arc::new(NoDownload),
        lease: None,
    });
    Frame { data, ..Frame::host(format, W, H, HostFrame::new_packed(format, 2, 2)) }
}

#[test]
fn cuda_frames_are_staged_in_registered_surfaces() {
    let fake = fake_with(Script::default());
    let dev = device(&fake);
    let cfg = EncoderConfig { frames_in_flight: 2, ..config(Codec::H264) };
    let mut enc = NvencEncoder::open_on(fake::api(), dev.clone(), GPU.into(), &cfg).unwrap();
    let mut packets = Vec::new();
    for i in 0..6u64 {
        let frame = cuda_frame(PixelFormat::Nv12, 0x5000_0000 + i * 0x10_0000, 0);
        enc.submit(&frame, opts(i), 0).unwrap();
        drop(frame); // the caller may drop it at once: the session encodes its own copy
        packets.extend(enc.reap_timeout(Duration::from_secs(5)).unwrap());
    }
    packets.extend(enc.flush().unwrap());
    assert_eq!(packets.len(), 6);
    assert_eq!(count(&fake, "register"), 2, "one registration per pool surface, cached by device pointer");
    assert_eq!((count(&fake, "map"), count(&fake, "unmap")), (6, 6));
    {
        let st = fake.state();
        assert!(st.encoded.iter().all(|e| e.format == NV_ENC_BUFFER_FORMAT_NV12 && e.pitch == 512));
        let regs: Vec<_> = st.registered.values().cloned().collect();
        assert!(regs.iter().all(|r| (r.width, r.height, r.pitch, r.format) == (W, H, 512, NV_ENC_BUFFER_FORMAT_NV12)));
    }
    let Device::Fake(fd) = &*dev else { unreachable!() };
    let copies = fd.copies.lock().unwrap().clone();
    assert_eq!(copies.len(), 12, "luma and chroma of each frame");
    let (src_y, dst_y) = copies[0];
    let (src_uv, dst_uv) = copies[1];
    assert_eq!((src_y.ptr, src_y.width_bytes, src_y.height), (0x5000_0000, W as usize, H as usize));
    assert_eq!(src_uv.ptr, 0x5000_0000 + 1024 * H as u64);
    assert_eq!(dst_uv.ptr, dst_y.ptr + 512 * H as u64, "chroma right below luma, where NVENC looks for it");
    assert_eq!(src_uv.height, H as usize / 2);

    // A frame on another GPU is refused before anything is mapped.
    let e = enc.submit(&cuda_frame(PixelFormat::Nv12, 0x9000_0000, 1), opts(9), 0).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    drop(enc);
    let st = fake.state();
    assert_eq!(st.calls.iter().filter(|c| *c == "unregister").count(), 2);
    assert_eq!(st.leaked_at_destroy, Some((0, 0, 0, 0)));
}

#[test]
fn probe_lists_caps_and_closes_the_session() {
    let fake = fake_with(Script::default());
    let dev = device(&fake);
    let caps = probe_on(fake::api(), &dev, GPU, Codec::Hevc).unwrap();
    assert_eq!(caps, Caps { profiles: vec!["autoselect".into(), "main".into(), "main10".into()], ..caps.clone() });
    let notes = caps.notes().join("; ");
    for needle in ["8/10-bit up to 4096x4096", "B-frames: up to 4", "lookahead: yes", "10-bit: yes", "async: no"] {
        assert!(notes.contains(needle), "{needle}: {notes}");
    }
    let h264 = probe_on(fake::api(), &dev, GPU, Codec::H264).unwrap();
    assert!(!h264.ten_bit && h264.profiles.contains(&"high".to_string()));
    assert_eq!(fake.state().sessions, 0);

    let no_nvenc = fake_with(Script { open: NV_ENC_ERR_UNSUPPORTED_DEVICE, ..Script::default() });
    let e = probe_on(fake::api(), &device(&no_nvenc), "GPU 0 (NVIDIA H200)", Codec::H264).unwrap_err();
    match e {
        Error::Unsupported { why, .. } => {
            assert_eq!(why, "GPU 0 (NVIDIA H200) has no NVENC (NV_ENC_ERR_UNSUPPORTED_DEVICE)")
        }
        e => panic!("{e}"),
    }
}

/// On this machine (whatever it has), asking for NVENC explicitly either works or fails
/// with a typed reason, and `Auto` still encodes H.264 (falling back to libx264 where
/// FFmpeg is loaded, else OpenH264, when NVENC is unavailable).
#[test]
fn registry_without_nvenc_falls_back_or_refuses() {
    use crate::engine::{Engine, EnginePreference};
    let cfg = EncoderConfig::new(Codec::H264, W, H);
    let explicit = Encoder::open(cfg.clone().engine(EnginePreference::Only(Engine::Nvenc)));
    let nvenc_works = match &explicit {
        Ok(enc) => {
            assert_eq!(enc.engine(), Engine::Nvenc);
            true
        }
        Err(e @ (Error::Unsupported { .. } | Error::DriverTooOld { .. })) => {
            assert_eq!(e.exit_code(), 3, "{e}");
            assert!(e.to_string().contains("h264 encode with nvenc"), "{e}");
            false
        }
        Err(Error::SessionLimit(_)) => true,
        Err(e) => panic!("unexpected error kind: {e}"),
    };
    drop(explicit);
    let auto = Encoder::open(cfg.clone()).expect("OpenH264 is always there");
    if !nvenc_works {
        // The best software engine: libx264 (FFmpeg) where FFmpeg is loaded, else OpenH264.
        let software = if crate::registry::ffmpeg_runtime().loaded { Engine::Ffmpeg } else { Engine::OpenH264 };
        assert_eq!(auto.engine(), software);
    }
    let e = Encoder::open(cfg.require_hardware(true).engine(EnginePreference::Auto));
    if !nvenc_works {
        let e = e.expect_err("no hardware encoder");
        assert_eq!(e.exit_code(), 3, "{e}");
        assert!(e.to_string().contains("nvenc: "), "{e}");
    }
}
