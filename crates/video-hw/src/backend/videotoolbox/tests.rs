//! The VideoToolbox sessions against the fake layer (`fake.rs`): call order, callbacks on
//! another thread, display order, format changes, flush, errors by `OSStatus`, and the
//! encoder's packets, generations and changes in place. Real streams from `testdata/`.

use std::sync::Arc;

use super::api::Layer;
use super::decoder::VtDecoder;
use super::encoder::VtEncoder;
use super::fake::FakeLayer;
use super::properties::Property;
use crate::backend::{DecoderBackend, EncoderBackend};
use crate::bitstream::access_unit::{AccessUnit, AccessUnitAssembler};
use crate::codec::{Codec, PixelFormat};
use crate::config::{DecoderConfig, EncoderConfig, FrameOptions, Output, RateControl};
use crate::error::Error;
use crate::frame::{Frame, HostFrame};
use crate::packet::PacketLayout;

fn units(codec: Codec, files: &[&str]) -> Vec<AccessUnit> {
    let mut asm = AccessUnitAssembler::new(codec).unwrap();
    for f in files {
        let path = format!("{}/../../testdata/{f}", env!("CARGO_MANIFEST_DIR"));
        asm.push_annexb(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")), None);
    }
    asm.finish();
    std::iter::from_fn(|| asm.pop()).map(|r| r.unwrap()).collect()
}

/// Decodes every unit; returns the frames (the first luma byte is the fake's tag) and
/// the errors in the order they were reported.
fn decode_all(dec: &mut VtDecoder, aus: &[AccessUnit]) -> (Vec<Frame>, Vec<Error>) {
    let (mut frames, mut errors) = (Vec::new(), Vec::new());
    for au in aus {
        if let Err(e) = dec.decode(au) {
            errors.push(e);
        }
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    errors.extend(dec.take_stream_error());
    (frames, errors)
}

fn tag_of(f: &Frame) -> u8 {
    f.host_data().unwrap().as_bytes()[0]
}

/// The display order of decode indices: by sequence (a new one at each IDR or reset),
/// then picture order count.
fn display_order(aus: &[AccessUnit]) -> Vec<u8> {
    let mut seq = 0;
    let mut keyed = Vec::new();
    for (i, p) in aus.iter().filter_map(|a| a.picture).enumerate() {
        if p.idr || p.memory_reset {
            seq += 1;
        }
        keyed.push(((seq, p.poc.unwrap()), i as u8));
    }
    keyed.sort();
    keyed.into_iter().map(|(_, i)| i).collect()
}

#[test]
fn h264_b_pyramid_comes_out_in_display_order_from_callbacks_on_another_thread() {
    let fake = FakeLayer::default();
    let aus = units(Codec::H264, &["h264/high-bpyramid-8x8-wp-cars-320x240.h264"]);
    let mut dec =
        VtDecoder::open(Arc::new(fake.clone()), &DecoderConfig::new(Codec::H264).output(Output::HOST_NV12)).unwrap();
    let (frames, errors) = decode_all(&mut dec, &aus);
    assert!(errors.is_empty(), "{errors:?}");
    let pictures = aus.iter().filter(|a| a.picture.is_some()).count();
    assert_eq!(frames.len(), pictures);
    assert_eq!(frames.iter().map(tag_of).collect::<Vec<_>>(), display_order(&aus));
    assert!(frames.iter().all(|f| (f.width, f.height, f.format) == (320, 240, PixelFormat::Nv12)));
    assert_eq!(fake.calls("open_decoder"), ["open_decoder 320x240 sets=2"]);
    assert_eq!(fake.calls("decode").len(), pictures);
    let log = fake.log.lock().clone();
    assert_eq!(&log[log.len() - 2..], ["finish", "invalidate decoder"], "finished, then invalidated");
    assert_eq!(fake.callback_threads.lock().iter().collect::<Vec<_>>(), ["fake-vt-decode"]);
    assert_eq!(dec.sessions_opened(), 1);
}

#[test]
fn hevc_b_frames_and_ten_bit_and_cropping() {
    let aus = units(Codec::Hevc, &["hevc/main-bframes-cars-320x240.h265"]);
    let fake = FakeLayer::default();
    let mut dec =
        VtDecoder::open(Arc::new(fake.clone()), &DecoderConfig::new(Codec::Hevc).output(Output::HOST_NV12)).unwrap();
    let (frames, errors) = decode_all(&mut dec, &aus);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(frames.iter().map(tag_of).collect::<Vec<_>>(), display_order(&aus));
    assert_eq!(fake.calls("open_decoder"), ["open_decoder 320x240 sets=3"], "VPS, SPS, PPS");

    let aus = units(Codec::Hevc, &["hevc/main10-mandelbrot-320x240.h265"]);
    let mut dec =
        VtDecoder::open(Arc::new(FakeLayer::default()), &DecoderConfig::new(Codec::Hevc).output(Output::HOST_YUV420P))
            .unwrap();
    let (frames, errors) = decode_all(&mut dec, &aus);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!frames.is_empty() && frames.iter().all(|f| f.format == PixelFormat::Yuv420p10));

    // The fake gives the coded size (320x192); the frame is the visible 318x178.
    let aus = units(Codec::H264, &["h264/crop-318x178-cars.h264"]);
    let mut dec =
        VtDecoder::open(Arc::new(FakeLayer::default()), &DecoderConfig::new(Codec::H264).output(Output::HOST_NV12))
            .unwrap();
    let (frames, errors) = decode_all(&mut dec, &aus);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!frames.is_empty() && frames.iter().all(|f| (f.width, f.height) == (318, 178)));
}

#[test]
fn a_new_size_finishes_the_session_and_opens_another_nothing_lost() {
    let files = ["h264/crop-318x178-cars.h264", "h264/main-cabac-bframes-testsrc2-320x240.h264"];
    let aus = units(Codec::H264, &files);
    let fake = FakeLayer::default();
    let mut dec =
        VtDecoder::open(Arc::new(fake.clone()), &DecoderConfig::new(Codec::H264).output(Output::HOST_NV12)).unwrap();
    let (frames, errors) = decode_all(&mut dec, &aus);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(frames.len(), aus.iter().filter(|a| a.picture.is_some()).count());
    assert_eq!(dec.sessions_opened(), 2);
    let opens: Vec<String> = fake.log.lock().iter().filter(|l| !l.starts_with("decode")).cloned().collect();
    assert_eq!(
        opens[..5],
        [
            "open_decoder 320x192 sets=2",
            "accept 320x240 false",
            "finish",
            "invalidate decoder",
            "open_decoder 320x240 sets=2"
        ]
    );
    let sizes: Vec<_> = frames.iter().map(|f| (f.width, f.height)).collect();
    let first_big = sizes.iter().position(|s| *s == (320, 240)).unwrap();
    assert!(sizes[..first_big].iter().all(|s| *s == (318, 178)) && sizes[first_big..].iter().all(|s| *s == (320, 240)));
}

#[test]
fn damage_is_reported_with_the_byte_offset_and_the_rest_still_comes_out() {
    let aus = units(Codec::H264, &["h264/gop12-idr-cars-320x240.h264"]);
    let fake = FakeLayer::default();
    {
        let mut s = fake.script.lock();
        s.callback_status.insert(3, -12909);
        s.dropped.insert(5);
        s.callback_missing.insert(7);
        s.decode_call_fails.insert(9, -12911);
    }
    let mut dec =
        VtDecoder::open(Arc::new(fake.clone()), &DecoderConfig::new(Codec::H264).output(Output::HOST_NV12)).unwrap();
    let pictures: Vec<&AccessUnit> = aus.iter().filter(|a| a.picture.is_some()).collect();
    let (frames, errors) = decode_all(&mut dec, &aus);
    // Four pictures have no frame (bad data, dropped, never called back, refused), each
    // named; the rest come out.
    assert_eq!(frames.len(), pictures.len() - 4);
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let offset = |i: usize| pictures[i].offset;
    assert!(
        matches!(
            errors.iter().find(|e| e.to_string().contains("kVTVideoDecoderMalfunctionErr")),
            Some(Error::Backend { .. })
        ),
        "{text:?}"
    );
    assert!(
        errors.iter().any(|e| matches!(e, Error::InvalidBitstream { offset: o, .. } if *o == offset(3))),
        "{text:?}"
    );
    // The rest are reported one at a time; all are found by the flush at the latest.
    assert!(errors.len() >= 2, "{text:?}");
    assert!(!frames.iter().any(|f| matches!(tag_of(f), 3 | 5 | 7 | 9)));
}

#[test]
fn every_late_error_is_reported_once_none_is_lost() {
    let aus = units(Codec::H264, &["h264/gop12-idr-cars-320x240.h264"]);
    let fake = FakeLayer::default();
    fake.script.lock().dropped.insert(2);
    fake.script.lock().callback_missing.insert(4);
    let mut dec = VtDecoder::open(Arc::new(fake), &DecoderConfig::new(Codec::H264).output(Output::HOST_NV12)).unwrap();
    let pictures: Vec<&AccessUnit> = aus.iter().filter(|a| a.picture.is_some()).collect();
    let mut errors = Vec::new();
    for au in &aus {
        if let Err(e) = dec.decode(au) {
            errors.push(e);
        }
    }
    dec.flush().unwrap();
    errors.extend(dec.take_stream_error());
    let offsets: Vec<u64> = errors
        .iter()
        .filter_map(|e| if let Error::InvalidBitstream { offset, .. } = e { Some(*offset) } else { None })
        .collect();
    assert!(offsets.contains(&pictures[2].offset), "{errors:?}");
}

#[test]
fn a_session_that_cannot_open_names_the_call_and_the_code() {
    let fake = FakeLayer::default();
    fake.script.lock().open_fails = Some(-12906);
    let aus = units(Codec::H264, &["h264/gop12-idr-cars-320x240.h264"]);
    let mut dec = VtDecoder::open(Arc::new(fake), &DecoderConfig::new(Codec::H264)).unwrap();
    let e = aus.iter().find_map(|au| dec.decode(au).err()).unwrap().to_string();
    assert!(e.contains("VTDecompressionSessionCreate") && e.contains("kVTCouldNotFindVideoDecoderErr"), "{e}");
    assert!(VtDecoder::open(Arc::new(FakeLayer::default()), &DecoderConfig::new(Codec::Av1)).is_err());
}

#[test]
fn the_probe_decodes_the_probe_keyframe_and_lists_encoders() {
    // The fake's picture is not the probe's colour: the probe says so.
    let layer: Arc<dyn Layer> = Arc::new(FakeLayer::default());
    let e = super::probe_with(layer.clone(), Codec::H264, crate::engine::Direction::Decode).unwrap_err().to_string();
    assert!(e.contains("wrong picture"), "{e}");
    let info = super::probe_with(layer.clone(), Codec::H264, crate::engine::Direction::Encode).unwrap();
    assert_eq!(info.device.as_deref(), Some("Apple H.264 (HW)"));
    assert!(
        super::probe_with(layer.clone(), Codec::Hevc, crate::engine::Direction::Encode).is_err(),
        "no HEVC encoder listed"
    );
    assert!(super::probe_with(layer, Codec::Vp9, crate::engine::Direction::Decode).is_err());
}

fn nv12(first: u8, pts: i64) -> Frame {
    let mut host = HostFrame::new_packed(PixelFormat::Nv12, 64, 64);
    host.as_bytes_mut()[0] = first;
    let mut f = Frame::host(PixelFormat::Nv12, 64, 64, host);
    f.pts = Some(pts);
    f
}

fn packets_of(enc: &mut VtEncoder) -> Vec<crate::packet::Packet> {
    let mut out = Vec::new();
    while let Some(p) = enc.try_reap().unwrap() {
        out.push(p);
    }
    out
}

#[test]
fn packets_keep_their_frames_pts_and_generation_through_reordering() {
    let fake = FakeLayer::default();
    let config = EncoderConfig::new(Codec::H264, 64, 64).input_format(PixelFormat::Nv12).b_frames(2).gop(30);
    let mut enc = VtEncoder::open(Arc::new(fake.clone()), &config).unwrap();
    let mut packets = Vec::new();
    for i in 0..7u8 {
        let generation = u64::from(i >= 4);
        enc.submit(&nv12(10 + i, i64::from(i) * 3000), FrameOptions::default(), generation).unwrap();
        packets.extend(packets_of(&mut enc));
    }
    packets.extend(enc.flush().unwrap());
    assert_eq!(packets.len(), 7);
    // Frame 0 is the keyframe, then pairs swapped: 0, 2, 1, 4, 3, 6, 5.
    let firsts: Vec<u8> = packets.iter().map(|p| *p.data.last().unwrap()).collect();
    assert_eq!(firsts, [10, 12, 11, 14, 13, 16, 15]);
    for p in &packets {
        let i = i64::from(*p.data.last().unwrap() - 10);
        assert_eq!(p.pts, Some(i * 3000), "each packet has its own frame's pts");
        assert_eq!(p.generation, u64::from(i >= 4));
    }
    // Annex-B: the first keyframe starts with the parameter sets.
    assert_eq!(packets[0].data, [0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65, 10]);
    assert!(packets[0].keyframe && !packets[1].keyframe);
    assert_eq!(enc.parameter_sets(), vec![vec![0x67, 1], vec![0x68, 2]]);
    let sets = fake.calls("set ");
    assert!(sets.contains(&"set AllowFrameReordering(true)".to_string()), "{sets:?}");
    assert!(sets.contains(&"set MaxKeyFrameInterval(30)".to_string()), "{sets:?}");
    assert_eq!(fake.calls("prepare").len(), 1);
    assert_eq!(fake.calls("complete").len(), 1);
    assert_eq!(fake.callback_threads.lock().iter().collect::<Vec<_>>(), ["fake-vt-encode"]);
}

#[test]
fn forced_keyframes_length_prefixed_output_and_planar_input() {
    let fake = FakeLayer::default();
    let mut config = EncoderConfig::new(Codec::H264, 64, 64).input_format(PixelFormat::Yuv420p);
    config.layout = PacketLayout::LengthPrefixed;
    let mut enc = VtEncoder::open(Arc::new(fake.clone()), &config).unwrap();
    for i in 0..3u8 {
        let mut host = HostFrame::new_packed(PixelFormat::Yuv420p, 64, 64);
        host.as_bytes_mut()[0] = i;
        let frame = Frame::host(PixelFormat::Yuv420p, 64, 64, host);
        enc.submit(&frame, FrameOptions { pts: Some(i64::from(i)), force_keyframe: i == 2 }, 0).unwrap();
    }
    let packets = enc.flush().unwrap();
    assert_eq!(packets.iter().map(|p| p.keyframe).collect::<Vec<_>>(), [true, false, true]);
    assert_eq!(packets[2].data, [0, 0, 0, 2, 0x65, 2], "length-prefixed, sets out of band");
    assert_eq!(fake.calls("encode"), ["encode 0 key=false", "encode 1 key=false", "encode 2 key=true"]);
    // A frame of another format is refused before it reaches VideoToolbox.
    let mut enc = VtEncoder::open(Arc::new(FakeLayer::default()), &config).unwrap();
    assert!(enc.submit(&nv12(0, 0), FrameOptions::default(), 0).is_err());
}

#[test]
fn bitrate_changes_in_place_and_a_refused_change_reopens() {
    let fake = FakeLayer::default();
    let config = EncoderConfig::new(Codec::Hevc, 64, 64)
        .input_format(PixelFormat::Nv12)
        .rate_control(RateControl::Cbr { bitrate: 1_000_000 });
    let mut enc = VtEncoder::open(Arc::new(fake.clone()), &config).unwrap();
    let lower = config.clone().rate_control(RateControl::Cbr { bitrate: 300_000 });
    assert!(enc.reconfigure(&lower).unwrap());
    assert!(fake.calls("set ").ends_with(&[
        "set AverageBitRate(300000)".to_string(),
        "set DataRateLimits { bytes: 37500, seconds: 1.0 }".to_string()
    ]));
    assert!(!enc.reconfigure(&lower.clone().b_frames(2)).unwrap(), "reordering needs a new session");
    fake.script.lock().refused_keys.insert("AverageBitRate");
    assert!(!enc.reconfigure(&config).unwrap(), "refused in place: the session layer reopens");
    fake.script.lock().refused_keys.insert("ExpectedFrameRate");
    fake.script.lock().refused_keys.remove("AverageBitRate");
    assert!(enc.reconfigure(&lower.clone().fps(25, 1)).unwrap(), "a refused hint is not a failure");
    assert!(matches!(
        VtEncoder::open(Arc::new(FakeLayer::default()), &config.clone().input_format(PixelFormat::Rgb24)),
        Err(Error::Unsupported { .. })
    ));
    let _ = Property::RealTime(true);
}

#[test]
fn dropped_frames_are_counted_and_errors_name_the_status() {
    let fake = FakeLayer::default();
    fake.script.lock().dropped.insert(1);
    let config = EncoderConfig::new(Codec::H264, 64, 64).input_format(PixelFormat::Nv12);
    let mut enc = VtEncoder::open(Arc::new(fake.clone()), &config).unwrap();
    for i in 0..3 {
        enc.submit(&nv12(i as u8, i), FrameOptions::default(), 0).unwrap();
    }
    let packets = enc.flush().unwrap();
    assert_eq!(packets.len(), 2);
    assert_eq!(enc.dropped(), 1);

    let fake = FakeLayer::default();
    fake.script.lock().callback_status.insert(0, -12912);
    let mut enc = VtEncoder::open(Arc::new(fake), &config).unwrap();
    enc.submit(&nv12(0, 0), FrameOptions::default(), 0).unwrap();
    let e = enc.flush().unwrap_err().to_string();
    assert!(e.contains("kVTVideoEncoderMalfunctionErr"), "{e}");

    let fake = FakeLayer::default();
    fake.script.lock().open_fails = Some(-12908);
    let e = VtEncoder::open(Arc::new(fake), &config).err().unwrap().to_string();
    assert!(e.contains("VTCompressionSessionCreate") && e.contains("kVTCouldNotFindVideoEncoderErr"), "{e}");
}

/// The switch modes through the public session layer ([`crate::Encoder`]), as NVENC's tests
/// run them: a bitrate change in place (generation 1, no new session), a frame-rate change
/// held for the next keyframe of the GOP (generation 2 starts there, with a keyframe), and
/// a size change that drains the session (its packets out with their old generation) and
/// opens another on the same layer (generation 3, starting with a keyframe). Every frame
/// comes out once, in order.
#[test]
fn switch_modes_through_the_session_layer_keep_every_frame_and_number_generations() {
    use crate::config::SwitchMode;
    let fake = FakeLayer::default();
    let config = EncoderConfig::new(Codec::H264, 64, 64)
        .input_format(PixelFormat::Nv12)
        .rate_control(RateControl::Cbr { bitrate: 1_000_000 })
        .gop(4);
    let layer: Arc<dyn Layer> = Arc::new(fake.clone());
    let backend = VtEncoder::open(layer.clone(), &config).unwrap();
    let reopen = Arc::new(move |c: &EncoderConfig| {
        VtEncoder::open(layer.clone(), c).map(|e| Box::new(e) as Box<dyn EncoderBackend>)
    });
    let mut enc = crate::Encoder::with_backend_and_reopen(config.clone(), Box::new(backend), reopen);
    let mut packets = Vec::new();
    let frame = |i: u8, size: u32| {
        let mut host = HostFrame::new_packed(PixelFormat::Nv12, size, size);
        host.as_bytes_mut()[0] = i;
        Frame::host(PixelFormat::Nv12, size, size, host)
    };
    let submit = |enc: &mut crate::Encoder, i: u8, size: u32, packets: &mut Vec<crate::packet::Packet>| {
        enc.submit(&frame(i, size), FrameOptions { pts: Some(i64::from(i)), force_keyframe: false }).unwrap();
        while let Some(p) = enc.try_reap().unwrap() {
            packets.push(p);
        }
    };
    submit(&mut enc, 0, 64, &mut packets);
    let lower = config.clone().rate_control(RateControl::Cbr { bitrate: 400_000 });
    assert_eq!(enc.reconfigure(lower.clone(), SwitchMode::Immediate).unwrap(), 1);
    submit(&mut enc, 1, 64, &mut packets);
    assert_eq!(enc.reconfigure(lower.clone().fps(25, 1), SwitchMode::OnNextKeyframe).unwrap(), 2);
    for i in 2..6 {
        submit(&mut enc, i, 64, &mut packets);
    }
    let bigger = EncoderConfig { width: 96, height: 96, ..lower.clone().fps(25, 1) };
    assert_eq!(enc.reconfigure(bigger, SwitchMode::DrainThenSwap).unwrap(), 3);
    for i in 6..8 {
        submit(&mut enc, i, 96, &mut packets);
    }
    packets.extend(enc.flush().unwrap());
    let got: Vec<(u8, u64, bool)> =
        packets.iter().map(|p| (*p.data.last().unwrap(), p.generation, p.keyframe)).collect();
    assert_eq!(
        got,
        [
            (0, 0, true),
            (1, 1, false),
            (2, 1, false),
            (3, 1, false),
            // The GOP of 4 makes frame 4 a keyframe: the held switch starts there.
            (4, 2, true),
            (5, 2, false),
            (6, 3, true),
            (7, 3, false),
        ]
    );
    assert_eq!(enc.stats().generation, 3);
    let opens = fake.calls("open_encoder");
    assert_eq!(opens, ["open_encoder 64x64 h264", "open_encoder 96x96 h264"], "one new session, for the size");
    let sets = fake.calls("set ");
    assert!(sets.contains(&"set AverageBitRate(400000)".to_string()), "{sets:?}");
    assert!(sets.iter().any(|s| s.starts_with("set ExpectedFrameRate(25")), "{sets:?}");
    // The drained session was completed (its frames out) before it was invalidated.
    let log = fake.log.lock().clone();
    let complete = log.iter().position(|l| l == "complete").expect("the old session completes");
    let invalidate = log.iter().position(|l| l == "invalidate encoder").expect("and is invalidated");
    assert!(complete < invalidate, "{log:?}");
    assert!(fake.calls("encode 4").iter().all(|c| c.ends_with("key=true")), "{log:?}");
}
