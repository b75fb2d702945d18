//! The codecs only the FFmpeg engine decodes (VP8, MPEG-2, MPEG-4 Part 2, MJPEG, ProRes),
//! read from their containers with [`FrameReader`]: the fixtures of `testdata/codecs`
//! (`scripts/make-codec-fixtures.sh`) decode to ffmpeg's reference, every frame bit-exact
//! and the frame count exact; frames asked for out of order (random access from the
//! container's sync flags, or MPEG-TS picture headers) equal those read in order; the
//! key frames are where the encoder put them. Where no FFmpeg is loaded
//! (`VIDEO_HW_FFMPEG_DIR=none`), each file gives a typed `Unsupported` error naming its
//! codec, never "no video track" (and `need_ffmpeg` says the decode checks ran nowhere).

use crate::common;

use std::path::PathBuf;

use video_hw::media::{Demuxer, TrackDecoderConfig};
use video_hw::reader::FrameReader;
use video_hw::{Codec, Error, Output, PixelFormat};

struct Clip {
    file: &'static str,
    codec: Codec,
    frames: usize,
    /// Presentation indices of the key frames.
    keys: &'static [usize],
    /// The frames' format when asked for yuv420p (10-bit streams give yuv420p10).
    format: PixelFormat,
}

const GOP12: &[usize] = &[0, 12, 24];
/// `-g 12` with two B-frames and closed GOPs: libavcodec's MPEG-2 and MPEG-4 encoders start
/// a GOP every 10 frames.
const GOP10: &[usize] = &[0, 10, 20];
const ALL30: &[usize] =
    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29];

const CLIPS: [Clip; 13] = [
    Clip { file: "mpeg2-cars-160x120.ts", codec: Codec::Mpeg2, frames: 30, keys: GOP10, format: PixelFormat::Yuv420p },
    // Open GOPs: the two B-pictures before each later I picture refer to the GOP before.
    Clip {
        file: "mpeg2-opengop-cars-160x120.ts",
        codec: Codec::Mpeg2,
        frames: 30,
        keys: &[0, 12, 24],
        format: PixelFormat::Yuv420p,
    },
    Clip { file: "mpeg2-cars-160x120.mkv", codec: Codec::Mpeg2, frames: 30, keys: GOP10, format: PixelFormat::Yuv420p },
    Clip { file: "mpeg4-cars-160x120.mp4", codec: Codec::Mpeg4, frames: 30, keys: GOP10, format: PixelFormat::Yuv420p },
    Clip { file: "mpeg4-cars-160x120.mkv", codec: Codec::Mpeg4, frames: 30, keys: GOP10, format: PixelFormat::Yuv420p },
    Clip { file: "mpeg4-cars-160x120.ts", codec: Codec::Mpeg4, frames: 30, keys: GOP10, format: PixelFormat::Yuv420p },
    Clip { file: "vp8-cars-160x120.webm", codec: Codec::Vp8, frames: 30, keys: GOP12, format: PixelFormat::Yuv420p },
    Clip { file: "mjpeg-cars-160x120.mkv", codec: Codec::Mjpeg, frames: 30, keys: ALL30, format: PixelFormat::Yuv420p },
    Clip { file: "mjpeg-cars-160x120.mov", codec: Codec::Mjpeg, frames: 30, keys: ALL30, format: PixelFormat::Yuv420p },
    Clip {
        file: "prores-cars-160x120.mov",
        codec: Codec::ProRes,
        frames: 12,
        keys: &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        format: PixelFormat::Yuv420p10,
    },
    // Codecs known by FFmpeg's name, out-of-band configuration in V_MS/VFW/FOURCC and
    // 'glbl', opened with the container's picture size; FFV1 has one key frame.
    Clip {
        file: "ffv1-cars-96x72.mkv",
        codec: Codec::Other("ffv1"),
        frames: 6,
        keys: &[0],
        format: PixelFormat::Yuv420p,
    },
    Clip {
        file: "ffv1-cars-96x72.mov",
        codec: Codec::Other("ffv1"),
        frames: 6,
        keys: &[0],
        format: PixelFormat::Yuv420p,
    },
    Clip {
        file: "huffyuv-cars-96x72.mkv",
        codec: Codec::Other("huffyuv"),
        frames: 6,
        keys: &[0, 1, 2, 3, 4, 5],
        format: PixelFormat::Yuv420p,
    },
];

fn path(clip: &Clip) -> PathBuf {
    common::fixtures_dir().join("codecs").join(clip.file)
}

fn reference(clip: &Clip) -> Vec<(usize, String)> {
    let mut p = path(clip).into_os_string();
    p.push(".yuv.framemd5");
    common::read_framemd5(&PathBuf::from(p)).into_iter().map(|r| (r.size, r.md5)).collect()
}

#[test]
fn demuxers_name_the_codecs() {
    for clip in &CLIPS {
        let demuxer = Demuxer::open(path(clip)).unwrap_or_else(|e| panic!("{}: {e}", clip.file));
        let track = demuxer.video_track().unwrap_or_else(|| panic!("{}: no video track", clip.file));
        assert_eq!(track.codec.video(), Some(clip.codec), "{}", clip.file);
        assert_eq!(track.codec.to_string(), clip.codec.name(), "{}", clip.file);
        // Out of band in MP4 and Matroska: MPEG-4 Part 2's VOS/VOL headers (esds,
        // CodecPrivate), MPEG-2's sequence header (CodecPrivate); in MPEG-TS, only in band.
        let first_start_code = match (clip.codec, clip.file.rsplit('.').next()) {
            (Codec::Mpeg4, Some("mp4" | "mkv")) => Some(0xb0),
            (Codec::Mpeg2, Some("mkv")) => Some(0xb3),
            _ => None,
        };
        let extra = track.extradata();
        if let Codec::Other(_) = clip.codec {
            // FFV1's and HuffYUV's configuration, from after the BITMAPINFOHEADER or 'glbl'.
            assert!(extra.as_ref().is_some_and(|e| !e.is_empty()), "{}", clip.file);
            continue;
        }
        assert_eq!(
            extra.as_ref().and_then(|e| e.get(..4)).map(|h| h.to_vec()),
            first_start_code.map(|c| vec![0, 0, 1, c]),
            "{}",
            clip.file
        );
    }
}

#[test]
fn every_frame_is_exact_in_order_and_out_of_order() {
    for clip in &CLIPS {
        let mut reader =
            FrameReader::open(path(clip), Output::HOST_YUV420P).unwrap_or_else(|e| panic!("{}: {e}", clip.file));
        if !common::ffmpeg_loaded() {
            // No engine here (the engine opens at the first decode): a typed error that
            // names the codec.
            match reader.frames_at(&[0]) {
                Err(e @ Error::Unsupported { .. }) => {
                    assert!(e.to_string().contains(clip.codec.name()), "{}: {e}", clip.file)
                }
                other => panic!("{}: {:?}", clip.file, other.map(|f| f.len())),
            }
            continue;
        }
        let want = reference(clip);
        assert_eq!(want.len(), clip.frames, "{}: the reference", clip.file);
        assert_eq!(reader.len(), clip.frames, "{}: frames in the index", clip.file);
        let keys: Vec<usize> =
            reader.index().frames().iter().enumerate().filter(|(_, f)| f.keyframe).map(|(i, _)| i).collect();
        assert_eq!(keys, clip.keys, "{}: key frames", clip.file);

        let mut frames = Vec::new();
        while let Some(f) = reader.next_frame().unwrap_or_else(|e| panic!("{}: {e}", clip.file)) {
            frames.push(f);
        }
        let backend = reader.backend().unwrap_or_default().to_string();
        assert!(backend.starts_with("ffmpeg"), "{}: {backend}", clip.file);
        let got: Vec<(usize, String)> = frames.iter().map(common::frame_md5).collect();
        assert_eq!(got.len(), clip.frames, "{}: frame count", clip.file);
        assert_eq!(got, want, "{}: frames differ from ffmpeg's", clip.file);
        let size = if clip.file.contains("96x72") { (96, 72) } else { (160, 120) };
        assert!(frames.iter().all(|f| ((f.width, f.height), f.format) == (size, clip.format)), "{}", clip.file);
        // Each frame carries the pts the index gives it, in presentation order.
        let pts: Vec<Option<i64>> = frames.iter().map(|f| f.pts).collect();
        let index_pts: Vec<Option<i64>> = reader.index().frames().iter().map(|f| Some(f.pts)).collect();
        assert_eq!(pts, index_pts, "{}: pts", clip.file);

        // Random access on a fresh reader: every frame asked for alone, backwards (each a
        // seek to its random access point; open GOPs' leading B-pictures from the I picture
        // before), then a few out of order at once.
        let mut fresh = FrameReader::open(path(clip), Output::HOST_YUV420P).unwrap();
        for i in (0..clip.frames).rev() {
            let f = fresh.frames_at(&[i]).unwrap_or_else(|e| panic!("{}: frame {i}: {e}", clip.file));
            assert_eq!(common::frame_md5(&f[0]), want[i], "{}: frame {i} by random access", clip.file);
            assert_eq!(f[0].pts, index_pts[i], "{}: frame {i} pts", clip.file);
        }
        let mut fresh = FrameReader::open(path(clip), Output::HOST_YUV420P).unwrap();
        let asked: Vec<usize> = [17, 5, clip.frames - 1, 11, 0].into_iter().filter(|&i| i < clip.frames).collect();
        let got = fresh.frames_at(&asked).unwrap_or_else(|e| panic!("{}: {e}", clip.file));
        for (&i, f) in asked.iter().zip(&got) {
            assert_eq!(common::frame_md5(f), want[i], "{}: frame {i} among {asked:?}", clip.file);
        }
        let mid = clip.frames / 2 + 1;
        fresh.seek_frame(mid).unwrap();
        for (i, expected) in want.iter().enumerate().skip(mid).take(4) {
            let f = fresh.next_frame().unwrap().unwrap_or_else(|| panic!("{}: ended before {i}", clip.file));
            assert_eq!(&common::frame_md5(&f), expected, "{}: frame {i} after a seek to {mid}", clip.file);
        }
    }
}

#[test]
fn without_the_ffmpeg_engine_the_error_names_the_codec() {
    // Asked of the other engines alone: each refuses by name, and the error is typed.
    for clip in &CLIPS {
        let demuxer = Demuxer::open(path(clip)).unwrap();
        let track = demuxer.video_track().unwrap().index;
        let config = video_hw::DecoderConfig::new(clip.codec)
            .output(Output::HOST_YUV420P)
            .engine(video_hw::EnginePreference::Only(video_hw::Engine::Nvdec));
        let mut reader = FrameReader::new(demuxer, track, config).unwrap();
        match reader.frames_at(&[0]) {
            Err(e @ Error::Unsupported { .. }) => {
                let text = e.to_string();
                assert!(text.contains(clip.codec.name()) && text.contains("only the ffmpeg engine"), "{text}");
            }
            other => panic!("{}: {:?}", clip.file, other.map(|f| f.len())),
        }
    }
}

#[test]
fn codec_names_parse_back() {
    assert!("zzzz".parse::<Codec>().is_err());
    // Every named codec parses from its name and prints it back.
    for c in Codec::ALL.into_iter().chain(Codec::FFMPEG_ONLY) {
        assert_eq!(c.name().parse::<Codec>().unwrap(), c);
    }
    for name in Codec::OTHERS {
        assert_eq!(name.parse::<Codec>().unwrap(), Codec::Other(name));
    }
}

/// Opens `data`, reads every packet and indexes the video track: whatever happens is an
/// error or a result, never a panic or a loop without end.
fn demux_all(data: &[u8]) {
    let Ok(mut d) = Demuxer::from_bytes(data) else { return };
    for _ in 0..data.len() + 16 {
        match d.next_packet() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                if d.container() != video_hw::media::Container::MpegTs {
                    break;
                }
            }
        }
    }
    if let Some(t) = d.video_track().map(|t| t.index) {
        let _ = video_hw::media::FrameIndex::build(&mut d, t);
    }
}

#[test]
fn cut_or_damaged_files_never_panic() {
    // The new parsing (MP4 esds of visual entries, V_MS/VFW/FOURCC, MPEG picture headers in
    // MPEG-TS) on each fixture cut short and with bytes overwritten near the headers.
    let mut rng = common::XorShift(0x5eed_c0de);
    for clip in &CLIPS {
        let data = std::fs::read(path(clip)).unwrap();
        for n in (0..data.len()).step_by(data.len() / 150 + 1).chain(0..64.min(data.len())) {
            demux_all(&data[..n]);
        }
        for _ in 0..150 {
            let mut bad = data.clone();
            let span = bad.len().min(4096);
            for _ in 0..4 {
                let at = rng.below(span);
                bad[at] = rng.next() as u8;
            }
            demux_all(&bad);
        }
    }
}

#[test]
fn packets_through_the_decoder_api() {
    // Demuxer → Decoder with `track.decoder_config()` (`TrackDecoderConfig`) and `Input::from_media`, as the media
    // module's example does: MPEG-4 Part 2 with its VOL headers out of band (esds), HuffYUV
    // (configuration after the BITMAPINFOHEADER, size from the container).
    if !common::need_ffmpeg() {
        return;
    }
    for clip in CLIPS.iter().filter(|c| ["mpeg4-cars-160x120.mp4", "huffyuv-cars-96x72.mkv"].contains(&c.file)) {
        let mut demuxer = Demuxer::open(path(clip)).unwrap();
        let track = demuxer.video_track().unwrap().clone();
        let config = track.decoder_config().unwrap().output(Output::HOST_YUV420P);
        let mut dec = video_hw::Decoder::open(config).unwrap_or_else(|e| panic!("{}: {e}", clip.file));
        let mut frames = Vec::new();
        while let Some(p) = demuxer.next_packet().unwrap() {
            if p.track == track.index {
                dec.submit(video_hw::Input::from_media(&track, &p)).unwrap_or_else(|e| panic!("{}: {e}", clip.file));
                while let Some(f) = dec.try_reap().unwrap() {
                    frames.push(f);
                }
            }
        }
        frames.extend(dec.flush().unwrap());
        let got: Vec<(usize, String)> = frames.iter().map(common::frame_md5).collect();
        assert_eq!(got, reference(clip), "{}", clip.file);
        let keys: Vec<usize> = frames.iter().enumerate().filter(|(_, f)| f.keyframe).map(|(i, _)| i).collect();
        assert_eq!(keys, clip.keys, "{}: libavcodec's key flags", clip.file);
    }
}
