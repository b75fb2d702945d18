//! `SegmentedDecode`: whole streams cut at random access points and decoded by several
//! sessions at once give exactly the frames one session gives for the whole stream, in
//! order, for every stream at once; damaged input, a failing consumer and bad settings
//! get typed errors, and the frames held back stay bounded.
//!
//! These run on the build's software engine (OpenH264, or FFmpeg with the `ffmpeg`
//! feature); `gpu_nvdec` runs the same comparison on NVDEC.

use crate::common;

use video_hw::pipeline::SegmentedDecode;
use video_hw::{Codec, DecoderConfig, Error};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join(rel)).unwrap()
}

/// Every frame's (size, md5) from one session fed the whole stream.
fn sequential(stream: &[u8], config: &DecoderConfig) -> Vec<(usize, String)> {
    common::decode_bytes_md5s(stream, config.clone(), 64 << 10).unwrap().0
}

fn segmented(
    streams: &[Vec<u8>],
    decode: &SegmentedDecode,
) -> video_hw::Result<(common::StreamMd5s, video_hw::pipeline::SegmentedStats)> {
    common::segmented_md5s(streams, decode)
}

fn repeat(stream: &[u8], times: usize) -> Vec<u8> {
    stream.repeat(times)
}

#[test]
fn one_stream_over_three_sessions_gives_the_frames_of_one_session() {
    let config = DecoderConfig::new(Codec::H264);
    for rel in [
        "h264/gop12-idr-cars-320x240.h264",
        "h264/high-bpyramid-8x8-wp-cars-320x240.h264",
        "h264/main-cabac-bframes-testsrc2-320x240.h264",
        "h264/open-gop-cars-320x240.h264",
        "h264/crop-318x178-cars.h264",
    ] {
        let stream = repeat(&fixture(rel), 3);
        let want = sequential(&stream, &config);
        let decode = SegmentedDecode::new(config.clone()).sessions(3).min_segment_pictures(1);
        let (got, stats) = segmented(std::slice::from_ref(&stream), &decode).unwrap();
        assert_eq!(got[0].len(), want.len(), "{rel}: frame count");
        assert!(got[0] == want, "{rel}: frames differ from one session's");
        // Each copy starts with an IDR; gop12 has four per copy.
        let expected_segments = if rel.contains("gop12") { 12 } else { 3 };
        assert_eq!(stats.segments, expected_segments, "{rel}");
        assert_eq!(stats.streams[0].frames as usize, want.len());
        // Sessions open as their threads take a first segment: on a loaded machine a thread
        // may start after the others took every segment, and opens none.
        assert!((1..=3).contains(&stats.sessions), "{rel}: {} sessions", stats.sessions);
        assert_eq!(stats.session_backends.len(), stats.sessions, "{rel}");
        assert!(stats.streams[0].first_error.is_none(), "{rel}: {:?}", stats.streams[0].first_error);
        eprintln!(
            "{rel}: {} frames, {} segments, {} sessions ({})",
            want.len(),
            stats.segments,
            stats.sessions,
            stats.backend
        );
    }
}

#[test]
fn many_streams_share_the_sessions_and_each_keeps_its_order() {
    let config = DecoderConfig::new(Codec::H264);
    let streams: Vec<Vec<u8>> = [
        "h264/gop12-idr-cars-320x240.h264",
        "h264/cbp-cavlc-cars-320x240.h264",
        "h264/high-slices4-mandelbrot-320x240.h264",
        "h264/high-bpyramid-8x8-wp-cars-320x240.h264",
        "h264/gop12-idr-cars-320x240.h264",
    ]
    .iter()
    .enumerate()
    .map(|(i, rel)| repeat(&fixture(rel), 2 + i % 2))
    .collect();
    let want: Vec<_> = streams.iter().map(|s| sequential(s, &config)).collect();
    // Two sessions and a window of two segments: segments wait for their turn, the
    // frames held back stay within the window.
    let decode = SegmentedDecode::new(config).sessions(2).min_segment_pictures(1).segments_ahead(2);
    let (got, stats) = segmented(&streams, &decode).unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(g == w, "stream {i}: {} frames vs {} from one session, or different pixels", g.len(), w.len());
    }
    let total: usize = want.iter().map(Vec::len).sum();
    assert_eq!(stats.frames as usize, total);
    // No segment here has more than 30 pictures; at most two segments are in flight.
    assert!(stats.peak_buffered_frames <= 2 * 30, "held back {} frames", stats.peak_buffered_frames);
    assert!(stats.sessions <= 2);
}

#[test]
fn parameter_sets_sent_only_at_the_start_still_reach_every_segment() {
    // Drop every SPS/PPS repeat: later segments decode only thanks to their prefix.
    let stream = repeat(&fixture("h264/gop12-idr-cars-320x240.h264"), 2);
    let mut stripped = Vec::new();
    let mut sent: Vec<&[u8]> = Vec::new();
    for nal in video_hw::bitstream::annexb::split_all(&stream) {
        let is_set = matches!(nal[0] & 0x1f, 7 | 8);
        if is_set && sent.contains(&nal) {
            continue;
        }
        if is_set {
            sent.push(nal);
        }
        stripped.extend_from_slice(&[0, 0, 0, 1]);
        stripped.extend_from_slice(nal);
    }
    // Every segment but the first starts without them and carries them in its prefix.
    let pieces = video_hw::bitstream::segments::split_at_random_access(&stripped, Codec::H264, 1).unwrap();
    assert_eq!(pieces.len(), 8);
    for piece in &pieces[1..] {
        let sets = video_hw::bitstream::annexb::split_all(&piece.prefix);
        assert_eq!(sets.iter().map(|n| n[0] & 0x1f).collect::<Vec<_>>(), vec![7, 8]);
    }
    let config = DecoderConfig::new(Codec::H264);
    let want = sequential(&stream, &config);
    let decode = SegmentedDecode::new(config).sessions(4).min_segment_pictures(1);
    let (got, stats) = segmented(&[stripped], &decode).unwrap();
    assert_eq!(stats.segments, 8);
    assert!(got[0] == want, "{} frames vs {}", got[0].len(), want.len());
}

#[test]
fn a_damaged_segment_is_counted_and_the_other_streams_are_untouched() {
    let config = DecoderConfig::new(Codec::H264);
    let clean = repeat(&fixture("h264/gop12-idr-cars-320x240.h264"), 2);
    let mut damaged = clean.clone();
    // Scribble over the middle of the third GOP (one segment of eight).
    let segments = video_hw::bitstream::segments::split_at_random_access(&clean, Codec::H264, 1).unwrap();
    let target = &segments[2].range;
    let mut seed = common::XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let at = target.start + 40 + seed.below(target.len() - 80);
        damaged[at] ^= 0xff;
    }
    let want_clean = sequential(&clean, &config);
    let decode = SegmentedDecode::new(config).sessions(3).min_segment_pictures(1);
    let (got, stats) = segmented(&[clean.clone(), damaged, clean], &decode).unwrap();
    assert!(got[0] == want_clean && got[2] == want_clean, "clean streams changed");
    let hurt = &stats.streams[1];
    assert!(
        hurt.dropped > 0 || hurt.concealed > 0 || got[1].len() < want_clean.len(),
        "damage went unnoticed: {hurt:?}"
    );
    if let Some(e) = &hurt.first_error {
        // The offset is the stream's, inside the damaged segment.
        let offset: u64 = e
            .split("byte ")
            .nth(1)
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!((target.start as u64..=target.end as u64).contains(&offset), "{e} not in {target:?}");
    }
    // Segments after the damaged one are whole again.
    let after: Vec<_> = got[1].iter().rev().take(36).collect();
    let want_after: Vec<_> = want_clean.iter().rev().take(36).collect();
    assert_eq!(after, want_after, "segments after the damage must decode as in the clean stream");
}

#[test]
fn an_error_from_the_consumer_stops_the_run_and_is_returned() {
    let stream = repeat(&fixture("h264/gop12-idr-cars-320x240.h264"), 4);
    let decode = SegmentedDecode::new(DecoderConfig::new(Codec::H264)).sessions(3).min_segment_pictures(1);
    let mut seen = 0;
    let started = std::time::Instant::now();
    let r = decode.run(&[&stream[..]], |_, _| {
        seen += 1;
        if seen == 5 { Err(Error::invalid_input("enough")) } else { Ok(()) }
    });
    assert!(matches!(r, Err(Error::InvalidInput(ref m)) if m == "enough"), "{r:?}");
    assert_eq!(seen, 5);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn bad_settings_and_empty_input_get_typed_answers() {
    let config = DecoderConfig::new(Codec::H264);
    let none: [&[u8]; 0] = [];
    let stats = SegmentedDecode::new(config.clone()).run(&none, |_, _| Ok(())).unwrap();
    assert_eq!((stats.frames, stats.segments, stats.sessions), (0, 0, 0));
    let r = SegmentedDecode::new(config.clone()).sessions(0).run(&none, |_, _| Ok(()));
    assert!(matches!(r, Err(Error::InvalidInput(_))), "{r:?}");
    let r = SegmentedDecode::new(config).sessions(65).run(&none, |_, _| Ok(()));
    assert!(matches!(r, Err(Error::InvalidInput(_))), "{r:?}");
    let r = SegmentedDecode::new(DecoderConfig::new(Codec::Av1)).run(&[&[0u8; 16][..]], |_, _| Ok(()));
    assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
    // Garbage: one segment, nothing decodable, no panic.
    let junk: Vec<u8> = (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let stats = SegmentedDecode::new(DecoderConfig::new(Codec::H264)).run(&[junk], |_, _| Ok(())).unwrap();
    assert_eq!(stats.segments, 1);
}

#[test]
fn hevc_streams_cut_at_idr_and_clean_cra_give_the_frames_of_one_session() {
    if !common::need_ffmpeg() {
        return;
    }
    let config = DecoderConfig::new(Codec::Hevc);
    for (rel, copies, segments) in [
        ("hevc/main-bframes-cars-320x240.h265", 3, 3),
        // CRAs followed by RASL pictures are not cut at: one segment per copy.
        ("hevc/open-gop-cra-rasl-cars-320x240.h265", 2, 2),
        ("hevc/main10-mandelbrot-320x240.h265", 2, 2),
    ] {
        let stream = repeat(&fixture(rel), copies);
        let want = sequential(&stream, &config);
        let decode = SegmentedDecode::new(config.clone()).sessions(3).min_segment_pictures(1);
        let (got, stats) = segmented(std::slice::from_ref(&stream), &decode).unwrap();
        assert_eq!(stats.segments, segments, "{rel}");
        assert!(
            got[0] == want,
            "{rel}: {} frames vs {} from one session, or different pixels",
            got[0].len(),
            want.len()
        );
    }
}

#[test]
fn unordered_frames_carry_their_place_and_nothing_is_held_back() {
    let config = DecoderConfig::new(Codec::H264);
    let streams: Vec<Vec<u8>> = ["h264/gop12-idr-cars-320x240.h264", "h264/high-bpyramid-8x8-wp-cars-320x240.h264"]
        .iter()
        .map(|rel| repeat(&fixture(rel), 3))
        .collect();
    let want: Vec<_> = streams.iter().map(|s| sequential(s, &config)).collect();
    // Per stream: (segment, index, frame md5) as handed out.
    type Placed = (usize, usize, (usize, String));
    let mut got: Vec<Vec<Placed>> = vec![Vec::new(); streams.len()];
    // Four sessions on two streams: segments of a stream run side by side.
    let decode = SegmentedDecode::new(config).sessions(4).min_segment_pictures(1);
    let stats = decode
        .run_unordered(&streams, |f| {
            got[f.stream].push((f.segment, f.index, common::frame_md5(&f.frame)));
            Ok(())
        })
        .unwrap();
    assert_eq!(stats.peak_buffered_frames, 0);
    for (i, (mut g, w)) in got.into_iter().zip(&want).enumerate() {
        g.sort_by_key(|(segment, index, _)| (*segment, *index));
        let frames: Vec<_> = g.into_iter().map(|(_, _, md5)| md5).collect();
        assert!(&frames == w, "stream {i}: {} frames vs {}, or different pixels", frames.len(), w.len());
    }
}

#[test]
fn frames_held_back_stay_under_the_limit_and_the_run_still_finishes() {
    let config = DecoderConfig::new(Codec::H264);
    // One stream of 16 segments over 4 sessions: the later segments' sessions pause.
    let stream = repeat(&fixture("h264/gop12-idr-cars-320x240.h264"), 4);
    let want = sequential(&stream, &config);
    // 320x240 YUV420P is 115,200 bytes a frame: a limit of five frames.
    let decode = SegmentedDecode::new(config).sessions(4).min_segment_pictures(1).max_held_bytes(5 * 115_200);
    let (got, stats) = segmented(std::slice::from_ref(&stream), &decode).unwrap();
    assert!(got[0] == want, "{} frames vs {}", got[0].len(), want.len());
    // The limit plus what can be in transit: four queued per session, and one more from
    // each session that checked the limit just before it was reached.
    assert!(stats.peak_buffered_frames <= 5 + 5 * 4, "held back {} frames", stats.peak_buffered_frames);
    // Without a limit the same run holds more back.
    let loose = SegmentedDecode::new(DecoderConfig::new(Codec::H264)).sessions(4).min_segment_pictures(1);
    let (_, free) = segmented(std::slice::from_ref(&stream), &loose).unwrap();
    eprintln!(
        "held back: {} with a limit of 5, {} with the default",
        stats.peak_buffered_frames, free.peak_buffered_frames
    );
}
