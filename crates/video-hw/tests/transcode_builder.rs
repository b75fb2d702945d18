//! `Transcode::builder`: a transform between the sessions, the encoder configured from the
//! first frame, copied tracks reaching the output in order, an output opened, fed and
//! finished, frames decoded elsewhere, and the ways to end early (stop, abandon the
//! input, cancel).

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use video_hw::frame::HostFrame;
use video_hw::media::MediaPacket;
use video_hw::pipeline::{DecodeInput, Transcode, TranscodeOutput};
use video_hw::{
    Codec, Decoder, DecoderConfig, EncoderConfig, Engine, EnginePreference, Error, Frame, Input, Output, Packet,
    PixelFormat, Rational,
};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);
/// Every test is bounded in time: a hang fails instead of blocking CI.
const LIMIT: Duration = Duration::from_secs(60);
/// The fixture: 48 frames of 320x240, B-frames, an IDR every 12.
const FRAMES: usize = 48;

fn stream() -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("h264/gop12-idr-cars-320x240.h264")).expect("fixture")
}

fn decoder_config() -> DecoderConfig {
    DecoderConfig::new(Codec::H264).engine(ONLY).output(Output::HOST_YUV420P)
}

fn encoder_config() -> EncoderConfig {
    EncoderConfig::new(Codec::H264, 2, 2).engine(ONLY).gop(12)
}

fn chunks(stream: &[u8]) -> Vec<DecodeInput> {
    stream.chunks(4096).enumerate().map(|(i, c)| DecodeInput::annexb(c, i as i64)).collect()
}

/// Frames and their sizes, decoded from an Annex-B stream.
fn decode(stream: &[u8]) -> Vec<Frame> {
    let mut dec = Decoder::open(decoder_config()).unwrap();
    let mut out = Vec::new();
    for chunk in stream.chunks(4096) {
        dec.submit(Input::annexb(chunk, None)).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            out.push(f);
        }
    }
    out.extend(dec.flush().unwrap());
    out
}

/// What an output was told, in order.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Start(u32, u32, Rational),
    Video(usize),
    Copied(Option<i64>),
    Finish,
}

/// An output that records its calls; its packets as one Annex-B stream.
#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<Event>>>,
    bytes: Arc<Mutex<Vec<u8>>>,
    /// Fails the n-th video packet with this error kind.
    fail_at: Option<(usize, std::io::ErrorKind)>,
}

impl Recorder {
    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    fn videos(&self) -> usize {
        self.events().iter().filter(|e| matches!(e, Event::Video(_))).count()
    }
}

impl TranscodeOutput for Recorder {
    fn start(&mut self, config: &EncoderConfig) -> video_hw::Result<()> {
        self.events.lock().unwrap().push(Event::Start(config.width, config.height, config.fps));
        Ok(())
    }

    fn packet(&mut self, packet: Packet) -> video_hw::Result<()> {
        if let Some((n, kind)) = self.fail_at
            && self.videos() + 1 == n
        {
            return Err(Error::Io(std::io::Error::new(kind, "the disk is full")));
        }
        self.events.lock().unwrap().push(Event::Video(packet.data.len()));
        self.bytes.lock().unwrap().extend_from_slice(&packet.data);
        Ok(())
    }

    fn copied(&mut self, packet: MediaPacket) -> video_hw::Result<()> {
        self.events.lock().unwrap().push(Event::Copied(packet.pts));
        Ok(())
    }

    fn finish(&mut self) -> video_hw::Result<()> {
        self.events.lock().unwrap().push(Event::Finish);
        Ok(())
    }
}

/// The top-left `w`x`h` of a packed I420 frame, as a new host frame.
fn crop(frame: &Frame, w: u32, h: u32) -> Frame {
    let src = frame.host_data().unwrap().as_bytes();
    let (sw, sh) = (frame.width as usize, frame.height as usize);
    let (w, h) = (w as usize, h as usize);
    let mut out = Vec::with_capacity(w * h * 3 / 2);
    for y in 0..h {
        out.extend_from_slice(&src[y * sw..y * sw + w]);
    }
    for plane in 0..2 {
        let base = sw * sh + plane * (sw / 2) * (sh / 2);
        for y in 0..h / 2 {
            let row = base + y * (sw / 2);
            out.extend_from_slice(&src[row..row + w / 2]);
        }
    }
    let pixels = HostFrame::from_packed(PixelFormat::Yuv420p, w as u32, h as u32, out).unwrap();
    let mut cropped = Frame::host(PixelFormat::Yuv420p, w as u32, h as u32, pixels);
    cropped.pts = frame.pts;
    cropped
}

#[test]
fn the_transform_runs_between_the_sessions_and_the_encoder_is_configured_from_its_first_frame() {
    let stream = stream();
    let out = Recorder::default();
    let mut n = 0;
    let saw_stream = Arc::new(Mutex::new(None));
    let seen = saw_stream.clone();
    let job = Transcode::builder(encoder_config())
        .transform(move |frame| {
            n += 1;
            // Every other frame, cropped to 160x96.
            Ok((n % 2 == 1).then(|| crop(&frame, 160, 96)))
        })
        .configure(move |first, config| {
            *seen.lock().unwrap() = Some((first.frame.width, first.stream.is_some()));
            config.fps = Rational::new(12, 1);
            Ok(())
        })
        .start(decoder_config(), chunks(&stream).into_iter().map(Ok), out.clone())
        .unwrap();
    let t = Instant::now();
    let stats = job.wait().unwrap();
    assert!(t.elapsed() < LIMIT);
    assert_eq!(stats.frames, FRAMES as u64 / 2);
    assert_eq!(*saw_stream.lock().unwrap(), Some((160, true)), "the hook saw the transformed frame and the stream");
    let events = out.events();
    assert_eq!(events.first(), Some(&Event::Start(160, 96, Rational::new(12, 1))));
    assert_eq!(events.last(), Some(&Event::Finish));
    assert_eq!(stats.bytes, out.bytes.lock().unwrap().len() as u64);
    // The output holds the transformed pictures: half of them, at the cropped size.
    let frames = decode(&out.bytes.lock().unwrap());
    assert_eq!(frames.len(), FRAMES / 2);
    assert!(frames.iter().all(|f| (f.width, f.height) == (160, 96)));
}

#[test]
fn copied_packets_reach_the_output_in_order_after_it_started() {
    let stream = stream();
    let out = Recorder::default();
    let mut builder = Transcode::builder(encoder_config());
    // Audio read with the video (as a demuxer hands both), and a second track read by a
    // thread of its own that goes on after the video ended: the end waits for it.
    // Unbounded: a bound would hold back the source's thread, which the video needs too.
    let with_video = builder.copy_sender(None);
    let late = builder.copy_sender(Some(4)); // the same channel: the first call set its bound
    let mut inputs = chunks(&stream).into_iter().enumerate();
    let source = std::iter::from_fn(move || {
        let (i, input) = inputs.next()?;
        for k in 0..3 {
            with_video.send(MediaPacket::new(1, vec![0; 8], Some((i * 3 + k) as i64), None, true)).unwrap();
        }
        Some(Ok(input))
    });
    let sent = chunks(&stream).len() * 3;
    let job = builder.start(decoder_config(), source, out.clone()).unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        for k in 0..10 {
            late.send(MediaPacket::new(2, vec![1; 4], Some(1_000_000 + k), None, true)).unwrap();
        }
    });
    let stats = job.wait().unwrap();
    writer.join().unwrap();
    assert_eq!(stats.frames, FRAMES as u64);
    assert_eq!(stats.copied, sent as u64 + 10);
    let events = out.events();
    assert!(matches!(events[0], Event::Start(320, 240, _)), "{:?}", events[0]);
    assert_eq!(events.last(), Some(&Event::Finish));
    let copied: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Copied(pts) => *pts,
            _ => None,
        })
        .collect();
    // Each sender's packets once, in the order it sent them. The two senders' packets
    // interleave as their threads ran: the late one waits 200 ms, which a loaded machine
    // (CI beside other builds) can take to transcode the video, so no order between them
    // is asked.
    let (video, late): (Vec<i64>, Vec<i64>) = copied.iter().partition(|&&pts| pts < 1_000_000);
    assert_eq!(video, (0..sent as i64).collect::<Vec<_>>(), "every packet sent with the video once, in order");
    assert_eq!(late, (1_000_000..1_000_010).collect::<Vec<_>>(), "every late packet once, in order");
    // Interleaved with the video as it came, not all at the end.
    let first_copy = events.iter().position(|e| matches!(e, Event::Copied(_))).unwrap();
    let last_video = events.iter().rposition(|e| matches!(e, Event::Video(_))).unwrap();
    assert!(first_copy < last_video, "copied packets wait for the end only when they come late");
}

#[test]
fn frames_decoded_elsewhere_are_encoded_in_order() {
    let frames = decode(&stream());
    assert_eq!(frames.len(), FRAMES);
    let out = Recorder::default();
    let job = Transcode::builder(encoder_config()).start_from_frames(frames.into_iter().map(Ok), out.clone()).unwrap();
    assert_eq!(job.decoder_backend(), "frames");
    let stats = job.wait().unwrap();
    assert_eq!(stats.frames, FRAMES as u64);
    assert_eq!(stats.decode.frames, FRAMES as u64);
    assert_eq!(decode(&out.bytes.lock().unwrap()).len(), FRAMES);
}

#[test]
fn stop_ends_the_input_and_finishes_the_output() {
    let stream = stream();
    let out = Recorder::default();
    // A slow source: a chunk every 20 ms.
    let source = chunks(&stream).into_iter().map(|c| {
        std::thread::sleep(Duration::from_millis(20));
        Ok(c)
    });
    let job = Transcode::builder(encoder_config()).start(decoder_config(), source, out.clone()).unwrap();
    let t = Instant::now();
    while job.stats().frames < 5 {
        assert!(t.elapsed() < LIMIT, "no frame came");
        std::thread::sleep(Duration::from_millis(5));
    }
    job.stop();
    let end = job.end();
    assert!(end.decode_error.is_none() && end.encode_error.is_none(), "{end:?}");
    let frames = end.stats.frames;
    assert!(frames >= 5 && frames < FRAMES as u64, "{frames} frames");
    assert_eq!(out.events().last(), Some(&Event::Finish));
    assert_eq!(decode(&out.bytes.lock().unwrap()).len() as u64, frames);
}

#[test]
fn abandon_input_lets_a_blocked_source_go_and_finishes_the_output() {
    let stream = stream();
    let out = Recorder::default();
    // Half the stream, then a read that never returns (a silent socket).
    let (_keep, never) = std::sync::mpsc::channel::<()>();
    let mut first = chunks(&stream);
    first.truncate(first.len() / 2);
    let mut first = first.into_iter();
    let source = std::iter::from_fn(move || match first.next() {
        Some(c) => Some(Ok(c)),
        None => {
            let _ = never.recv();
            None
        }
    });
    let mut job = Transcode::builder(encoder_config()).start(decoder_config(), source, out.clone()).unwrap();
    let t = Instant::now();
    // The decoder holds back the frames it still needs for reordering: wait for the rest.
    while job.stats().frames < 10 || job.stats().decode.queue.pushed != job.stats().frames {
        assert!(t.elapsed() < LIMIT, "no frame came");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(!job.is_finished(), "the source blocks");
    job.abandon_input();
    assert!(job.finished_within(LIMIT));
    let end = job.end();
    assert!(end.decode_error.is_none() && end.encode_error.is_none(), "{end:?}");
    assert!(end.stats.frames >= 10);
    assert_eq!(out.events().last(), Some(&Event::Finish));
    assert_eq!(decode(&out.bytes.lock().unwrap()).len() as u64, end.stats.frames);
}

#[test]
fn cancel_drops_everything_and_does_not_finish_the_output() {
    let stream = stream();
    let out = Recorder::default();
    let source = chunks(&stream).into_iter().map(|c| {
        std::thread::sleep(Duration::from_millis(10));
        Ok(c)
    });
    let job = Transcode::builder(encoder_config()).start(decoder_config(), source, out.clone()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    let stats = job.cancel();
    assert!(t.elapsed() < LIMIT);
    assert!(stats.frames < FRAMES as u64);
    assert!(!out.events().contains(&Event::Finish));
}

#[test]
fn an_output_error_comes_back_as_it_is_and_stops_both_sides() {
    let stream = stream();
    let out = Recorder { fail_at: Some((3, std::io::ErrorKind::StorageFull)), ..Recorder::default() };
    let job = Transcode::builder(encoder_config())
        .start(decoder_config(), chunks(&stream).into_iter().map(Ok), out.clone())
        .unwrap();
    let t = Instant::now();
    let end = job.end();
    assert!(t.elapsed() < LIMIT);
    assert!(end.decode_error.is_none(), "{end:?}");
    match end.encode_error {
        Some(Error::Io(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::StorageFull);
            assert_eq!(e.to_string(), "the disk is full", "no context added");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out.videos(), 2);
    assert!(!out.events().contains(&Event::Finish));
}
