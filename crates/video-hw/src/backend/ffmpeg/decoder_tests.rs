//! Tests of the FFmpeg decoder engine (`decoder.rs`): kept beside it, out of its file.

use super::*;

fn software(codec: Codec, output: Output) -> FfmpegDecoder {
    let name = candidates(Engine::Ffmpeg, codec).unwrap()[0];
    FfmpegDecoder::open(Engine::Ffmpeg, name, &DecoderConfig::new(codec).output(output)).unwrap()
}

#[test]
fn every_codec_probes_with_a_real_decode() {
    if crate::backend::ffmpeg::test_ffmpeg().is_none() {
        return;
    }
    for codec in Codec::ALL {
        let info = probe(Engine::Ffmpeg, codec, 0).unwrap_or_else(|e| panic!("{codec}: {e}"));
        assert_eq!(info.device.as_deref(), Some("software"));
        assert!(info.driver.as_deref().is_some_and(|d| d.contains("libavcodec")), "{info:?}");
    }
}

#[test]
fn pictures_asked_in_their_own_layout_are_lent_without_a_copy() {
    if crate::backend::ffmpeg::test_ffmpeg().is_none() {
        return;
    }
    let lending = |codec: Codec, output: Output| {
        let name = candidates(Engine::Ffmpeg, codec).unwrap()[0];
        let config = DecoderConfig::new(codec).output(output).lend_frames(true);
        FfmpegDecoder::open(Engine::Ffmpeg, name, &config).unwrap()
    };
    for codec in Codec::ALL {
        // Not asked for: packed copies.
        let mut dec = software(codec, Output::HOST_YUV420P);
        dec.decode(&probe_access_unit(codec)).unwrap();
        let mut frames: Vec<Frame> = dec.ready.drain(..).collect();
        frames.extend(dec.flush().unwrap());
        assert!(frames[0].host_data().unwrap().is_packed(), "{codec}");

        let mut dec = lending(codec, Output::HOST_YUV420P);
        dec.decode(&probe_access_unit(codec)).unwrap();
        let mut frames: Vec<Frame> = dec.ready.drain(..).collect();
        frames.extend(dec.flush().unwrap());
        let f = &frames[0];
        let host = f.host_data().unwrap();
        // libdav1d allocates its own pictures, each in one buffer: lent too.
        assert!(host.is_lent(), "{codec}: {host:?}");
        let packed = host.to_packed(f.format, f.width, f.height).unwrap();
        assert!(probe_streams::is_flat_picture(f.width, f.height, packed.as_bytes(), 1), "{codec}");
        // Writing goes to a copy: the decoder's buffer is never changed.
        let before = host.rows(0).next().unwrap().to_vec();
        let lent_at = host.as_bytes().as_ptr();
        let FrameData::Host(mut host) = frames.swap_remove(0).data else { unreachable!() };
        host.row_mut(0, 0)[0] ^= 0xff;
        assert!(!host.is_lent() && host.as_bytes().as_ptr() != lent_at);
        assert_eq!(host.rows(0).next().unwrap()[1..], before[1..]);
        assert_ne!(host.rows(0).next().unwrap()[0], before[0]);
    }
    // Another layout is a conversion, into memory of its own.
    let mut dec = lending(Codec::Hevc, Output::HOST_NV12);
    dec.decode(&probe_access_unit(Codec::Hevc)).unwrap();
    let mut frames: Vec<Frame> = dec.ready.drain(..).collect();
    frames.extend(dec.flush().unwrap());
    assert!(!frames[0].host_data().unwrap().is_lent());
}

#[test]
fn probe_frame_keeps_its_pts_and_keyframe_flag() {
    if crate::backend::ffmpeg::test_ffmpeg().is_none() {
        return;
    }
    let mut dec = software(Codec::Hevc, Output::HOST_NV12);
    let mut au = probe_access_unit(Codec::Hevc);
    au.pts = Some(1234);
    dec.decode(&au).unwrap();
    let mut frames: Vec<Frame> = dec.ready.drain(..).collect();
    frames.extend(dec.flush().unwrap());
    assert_eq!(frames.len(), 1);
    let f = &frames[0];
    assert_eq!((f.pts, f.keyframe, f.format), (Some(1234), true, crate::codec::PixelFormat::Nv12));
    assert_eq!((f.width, f.height), (64, 64));
    // The session can take a new stream after a flush.
    dec.decode(&au).unwrap();
    assert_eq!(dec.flush().unwrap().len() + dec.ready.len(), 1);
}

#[test]
fn garbage_is_a_typed_error_not_a_panic() {
    if crate::backend::ffmpeg::test_ffmpeg().is_none() {
        return;
    }
    let mut dec = software(Codec::H264, Output::HOST_YUV420P);
    let mut state = 0x1234_5678_u32;
    for i in 0..200u64 {
        let mut data = vec![0, 0, 0, 1];
        data.extend((0..(i as usize * 7) % 500).map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        }));
        let au = AccessUnit { data, offset: i * 1000, ..AccessUnit::default() };
        match dec.decode(&au) {
            Ok(()) | Err(Error::InvalidBitstream { .. }) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    dec.flush().unwrap();
}

#[test]
fn cuda_output_is_refused() {
    let cfg = DecoderConfig::new(Codec::Hevc).output(Output::CUDA_NV12);
    let e = FfmpegDecoder::open(Engine::Ffmpeg, "hevc", &cfg).err().unwrap();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}
