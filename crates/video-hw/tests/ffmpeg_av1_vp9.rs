//! AV1 and VP9 through the public [`Decoder`] API, packet by packet, with the FFmpeg
//! loaded at run time (each test checks nothing where none is loaded; see
//! `common::need_ffmpeg`): the IVF fixtures of `testdata/av1` and `testdata/vp9` decode on the Auto engine
//! (FFmpeg: libdav1d for AV1, libavcodec's vp9) to their ffmpeg references, every frame
//! bit-exact, with each packet's timestamp and key-frame flag. Damaged packets give typed
//! errors, never a panic. H.264 access units go through `Input::packet` too.

use crate::common;

use common::XorShift;

use std::path::PathBuf;

use video_hw::bitstream::access_unit::AccessUnitAssembler;
use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Error, Frame, Input, Output, PixelFormat};

struct Clip {
    codec: Codec,
    path: PathBuf,
    fourcc: &'static [u8; 4],
    /// The libavcodec decoder the FFmpeg engine runs for it.
    decoder: &'static str,
}

fn clips() -> [Clip; 2] {
    let td = common::fixtures_dir();
    [
        Clip { codec: Codec::Av1, path: td.join("av1/svtav1-cars-320x240.ivf"), fourcc: b"AV01", decoder: "libdav1d" },
        Clip { codec: Codec::Vp9, path: td.join("vp9/libvpx-cars-320x240.ivf"), fourcc: b"VP90", decoder: "vp9" },
    ]
}

/// Every frame of `packets` decoded by `dec`, in output order.
fn decode_all(dec: &mut Decoder, packets: &[(i64, Vec<u8>)]) -> Vec<Frame> {
    let mut frames = Vec::new();
    for (pts, data) in packets {
        dec.submit(Input::packet(data, *pts)).unwrap_or_else(|e| panic!("packet pts {pts}: {e}"));
        while let Some(f) = dec.try_reap().expect("reap") {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().expect("flush"));
    frames
}

#[test]
fn av1_and_vp9_packets_decode_bit_exact_on_auto() {
    if !common::need_ffmpeg() {
        return;
    }
    for clip in clips() {
        let (fourcc, packets) = common::read_ivf(&clip.path);
        assert_eq!(&fourcc, clip.fourcc);
        assert_eq!(packets.len(), 10);
        for (format, tag) in [(PixelFormat::Yuv420p, "yuv"), (PixelFormat::Nv12, "nv12")] {
            let reference = common::read_framemd5(&clip.path.with_extension(format!("ivf.{tag}.framemd5")));
            let mut dec = Decoder::open(DecoderConfig::new(clip.codec).output(Output::Host(format)))
                .unwrap_or_else(|e| panic!("{}: {e}", clip.codec));
            // No GPU here decodes these (and NVDEC has no AV1 on the test GPU): FFmpeg.
            if dec.engine() != Engine::Ffmpeg {
                eprintln!(
                    "note: {} picked {}, not checked against the libavcodec reference",
                    clip.codec,
                    dec.backend()
                );
                continue;
            }
            assert!(dec.backend().contains(clip.decoder), "{}", dec.backend());
            let frames = decode_all(&mut dec, &packets);
            let md5s: Vec<(usize, String)> = frames.iter().map(common::frame_md5).collect();
            let want: Vec<(usize, String)> = reference.iter().map(|r| (r.size, r.md5.clone())).collect();
            assert_eq!(md5s, want, "{} {tag}: frames differ from the reference", clip.codec);
            assert!(frames.iter().all(|f| (f.width, f.height, f.format) == (320, 240, format)));
            // Display order is packet order here: each frame carries its packet's pts.
            let pts: Vec<Option<i64>> = frames.iter().map(|f| f.pts).collect();
            assert_eq!(pts, packets.iter().map(|p| Some(p.0)).collect::<Vec<_>>(), "{}", clip.codec);
            let keys: Vec<usize> = frames.iter().enumerate().filter(|(_, f)| f.keyframe).map(|(i, _)| i).collect();
            assert_eq!(keys, [0, 8], "{}: key frames (-g 8)", clip.codec);
            let stats = dec.stats();
            assert_eq!((stats.access_units, stats.frames_out, stats.dropped), (10, 10, 0), "{stats:?}");
            assert_eq!(stats.bytes_in, packets.iter().map(|p| p.1.len() as u64).sum::<u64>());
            assert!(dec.stream_info().is_none());
            // The session takes the stream again after the flush.
            assert_eq!(decode_all(&mut dec, &packets).len(), 10);
        }
    }
}

#[test]
fn only_packets_are_taken_for_av1_and_vp9() {
    if !common::need_ffmpeg() {
        return;
    }
    for clip in clips() {
        let mut dec = Decoder::open(DecoderConfig::new(clip.codec).output(Output::HOST_YUV420P)).unwrap();
        let e = dec.submit(Input::annexb(&[0, 0, 0, 1, 0x12, 0], None)).unwrap_err();
        assert!(matches!(&e, Error::InvalidInput(m) if m.contains("Input::packet")), "{e}");
        let e = dec.submit(Input::access_unit(&[&[0x12, 0]], None)).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{e}");
        // An empty packet is nothing to decode.
        dec.submit(Input::packet(&[], 0)).unwrap();
        assert!(dec.flush().unwrap().is_empty());
    }
}

#[test]
fn damaged_packets_give_typed_errors_not_panics() {
    if !common::need_ffmpeg() {
        return;
    }
    let mut total_errors = 0;
    for clip in clips() {
        let (_, packets) = common::read_ivf(&clip.path);
        for seed in 1..=12u64 {
            let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ seed);
            let mut damaged = packets.clone();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(damaged.len());
                let p = &mut damaged[i].1;
                match seed % 3 {
                    // Truncated.
                    0 => p.truncate(rng.below(p.len())),
                    // Bits flipped.
                    1 => {
                        for _ in 0..1 + rng.below(8) {
                            let at = rng.below(p.len());
                            p[at] ^= 1 << rng.below(8);
                        }
                    }
                    // Bytes overwritten with garbage.
                    _ => {
                        let at = rng.below(p.len());
                        let end = (at + 1 + rng.below(64)).min(p.len());
                        p[at..end].iter_mut().for_each(|b| *b = rng.next() as u8);
                    }
                }
            }
            let mut dec = Decoder::open(DecoderConfig::new(clip.codec).output(Output::HOST_YUV420P)).unwrap();
            let mut errors = 0;
            let mut frames = 0;
            for (pts, data) in &damaged {
                match dec.submit(Input::packet(data, *pts)) {
                    Ok(()) => {}
                    Err(Error::InvalidBitstream { .. }) => errors += 1,
                    Err(e) => panic!("{} seed {seed}: not a bitstream error: {e}", clip.codec),
                }
                while dec.try_reap().expect("reap").is_some() {
                    frames += 1;
                }
            }
            match dec.flush() {
                Ok(f) => frames += f.len(),
                Err(Error::InvalidBitstream { .. }) => errors += 1,
                Err(e) => panic!("{} seed {seed}: flush: {e}", clip.codec),
            }
            assert!(frames <= packets.len() + 1, "{} seed {seed}: {frames} frames", clip.codec);
            total_errors += errors;
            // The session recovers: the clean stream decodes completely afterwards.
            assert_eq!(decode_all(&mut dec, &packets).len(), packets.len(), "{} seed {seed}", clip.codec);
        }
    }
    eprintln!("damaged runs: {total_errors} bitstream errors reported");
    assert!(total_errors > 0, "no mutation was reported as damage");
}

#[test]
fn h264_access_units_as_packets_are_bit_exact() {
    if !common::need_ffmpeg() {
        return;
    }
    let path = common::fixtures_dir().join("h264/main-cabac-bframes-testsrc2-320x240.h264");
    let reference = common::read_framemd5(&path.with_extension("h264.yuv.framemd5"));
    let mut asm = AccessUnitAssembler::new(Codec::H264).unwrap();
    asm.push_annexb(&std::fs::read(&path).unwrap(), None);
    asm.finish();
    let mut packets = Vec::new();
    while let Some(au) = asm.pop() {
        packets.push((packets.len() as i64, au.unwrap().data));
    }
    assert_eq!(packets.len(), reference.len());
    let config =
        DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(EnginePreference::Only(Engine::Ffmpeg));
    let mut dec = Decoder::open(config).unwrap();
    let frames = decode_all(&mut dec, &packets);
    let md5s: Vec<(usize, String)> = frames.iter().map(common::frame_md5).collect();
    let want: Vec<(usize, String)> = reference.iter().map(|r| (r.size, r.md5.clone())).collect();
    assert_eq!(md5s, want);
    assert!(dec.stream_info().is_some());
    // A packet without a start code is a bitstream error.
    let e = dec.submit(Input::packet(&[0x65, 0x88], 0)).unwrap_err();
    assert!(matches!(e, Error::InvalidBitstream { .. }), "{e}");
}
