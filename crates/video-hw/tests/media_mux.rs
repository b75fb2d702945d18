//! Round trips through the muxers: every track of each container fixture, demuxed, muxed
//! into each format its codecs allow, then read back — by our `Demuxer` where it reads
//! the container, else by ffprobe — and compared packet by packet (bytes, timestamps,
//! key frames). ffprobe and ffmpeg also check each output (streams, codecs, packet
//! counts, a clean decode, and for MP4 the `moov` before the `mdat`); where they are not
//! installed that part is skipped with a note.
//!
//! Sources whose container this build's `Demuxer` does not read yet (Matroska, WebM,
//! MPEG-TS) are read with ffprobe's packet dumps instead, as our demuxers give them:
//! Matroska without decode timestamps, MPEG-TS as Annex-B with its ADTS headers removed.

use crate::common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use video_hw::bitstream::avcc::{DecoderConfigRecord, annexb_to_length_prefixed};
use video_hw::media::mux::{MuxFormat, Muxer};
use video_hw::media::{
    AudioCodec, AudioInfo, CodecConfig, Demuxer, MediaPacket, Track, TrackCodec, TrackKind, VideoInfo,
};
use video_hw::{Codec, Error, Rational};

const ALL: [MuxFormat; 4] = [MuxFormat::Mp4, MuxFormat::FragmentedMp4, MuxFormat::Matroska, MuxFormat::WebM];

fn media(name: &str) -> PathBuf {
    common::fixtures_dir().join(name)
}

fn has_ffprobe() -> bool {
    let ok = |bin: &str| Command::new(bin).arg("-version").output().is_ok_and(|o| o.status.success());
    ok("ffprobe") && ok("ffmpeg")
}

fn temp(name: &str) -> common::Scratch {
    common::scratch_file(name)
}

/// Tracks and packets of a file.
#[derive(Debug, Clone)]
struct Media {
    tracks: Vec<Track>,
    packets: Vec<MediaPacket>,
}

impl Media {
    fn of(&self, track: usize) -> Vec<&MediaPacket> {
        self.packets.iter().filter(|p| p.track == track).collect()
    }
}

/// Reads a file with our demuxer, or with ffprobe where the demuxer does not read it.
fn read(path: &Path) -> Option<Media> {
    match Demuxer::open(path) {
        Ok(mut d) => {
            let tracks = d.tracks().to_vec();
            let mut packets = Vec::new();
            while let Some(p) = d.next_packet().expect("packets") {
                packets.push(p);
            }
            Some(Media { tracks, packets })
        }
        Err(Error::Unsupported { .. }) if has_ffprobe() => Some(read_with_ffprobe(path)),
        Err(Error::Unsupported { what, .. }) => {
            eprintln!("note: {what} and no ffprobe: {} not checked", path.display());
            None
        }
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn hexdump(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    for line in v.as_str().unwrap_or("").lines() {
        let Some((_, rest)) = line.split_once(": ") else { continue };
        let hex: String = rest.chars().take(39).filter(|c| c.is_ascii_hexdigit()).collect();
        for i in (0..hex.len() / 2 * 2).step_by(2) {
            out.push(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
        }
    }
    out
}

fn ffprobe_json(args: &[&str], path: &Path) -> Value {
    let o = Command::new("ffprobe").args(["-v", "error", "-of", "json"]).args(args).arg(path).output().unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn rational(s: &str) -> Rational {
    let (n, d) = s.split_once('/').unwrap();
    Rational::new(n.parse().unwrap(), d.parse().unwrap())
}

/// An ADTS header's AudioSpecificConfig and length.
fn adts(frame: &[u8]) -> (Vec<u8>, usize) {
    assert!(frame.len() > 7 && frame[0] == 0xff && frame[1] & 0xf0 == 0xf0, "ADTS sync");
    let object = (frame[2] >> 6) + 1;
    let rate = (frame[2] >> 2) & 0x0f;
    let channels = ((frame[2] & 1) << 2) | (frame[3] >> 6);
    let asc = ((u16::from(object) << 11) | (u16::from(rate) << 7) | (u16::from(channels) << 3)).to_be_bytes();
    (asc.to_vec(), if frame[1] & 1 == 0 { 9 } else { 7 })
}

/// Video and audio tracks and packets as our demuxers would give them, from ffprobe.
fn read_with_ffprobe(path: &Path) -> Media {
    let info = ffprobe_json(&["-show_streams", "-show_format", "-show_data"], path);
    let format = info["format"]["format_name"].as_str().unwrap().to_string();
    let matroska = format.contains("matroska");
    let mut tracks: Vec<Track> = Vec::new();
    let mut stream_of = std::collections::HashMap::new();
    for s in info["streams"].as_array().unwrap() {
        let extradata = hexdump(&s["extradata"]);
        let (kind, codec, config) = match s["codec_name"].as_str().unwrap() {
            "h264" | "hevc" => {
                let c = if s["codec_name"] == "h264" { Codec::H264 } else { Codec::Hevc };
                let config = match extradata.first() {
                    Some(1) => CodecConfig::Nal(DecoderConfigRecord::parse(c, &extradata).unwrap()),
                    _ => CodecConfig::None,
                };
                (TrackKind::Video, TrackCodec::Video(c), config)
            }
            "av1" => (TrackKind::Video, TrackCodec::Video(Codec::Av1), CodecConfig::Av1C(extradata)),
            "vp9" => (TrackKind::Video, TrackCodec::Video(Codec::Vp9), CodecConfig::None),
            "aac" => {
                (TrackKind::Audio, TrackCodec::Audio(AudioCodec::Aac), CodecConfig::AudioSpecificConfig(extradata))
            }
            "opus" => (TrackKind::Audio, TrackCodec::Audio(AudioCodec::Opus), CodecConfig::OpusHead(extradata)),
            _ => continue,
        };
        let index = tracks.len();
        stream_of.insert(s["index"].as_u64().unwrap(), index);
        let num = |k: &str| s[k].as_u64().or_else(|| s[k].as_str().and_then(|v| v.parse().ok())).unwrap_or(0);
        tracks.push(Track {
            index,
            id: s["index"].as_u64().unwrap(),
            kind,
            codec,
            config,
            time_base: rational(s["time_base"].as_str().unwrap()),
            duration: None,
            packets: None,
            frame_rate: None,
            video: (kind == TrackKind::Video).then(|| VideoInfo {
                width: num("width") as u32,
                height: num("height") as u32,
                rotation: 0,
                sample_aspect: None,
            }),
            audio: (kind == TrackKind::Audio).then(|| AudioInfo {
                sample_rate: num("sample_rate") as u32,
                channels: num("channels") as u16,
                ..AudioInfo::default()
            }),
            language: s["tags"]["language"].as_str().filter(|l| *l != "und").map(str::to_string),
            window: None,
            is_default: true,
        });
    }
    let dump = ffprobe_json(&["-show_packets", "-show_data"], path);
    let mut packets = Vec::new();
    for p in dump["packets"].as_array().unwrap() {
        let Some(&track) = stream_of.get(&p["stream_index"].as_u64().unwrap()) else { continue };
        let mut data = hexdump(&p["data"]);
        if tracks[track].codec == TrackCodec::Audio(AudioCodec::Aac) && !matroska {
            let (asc, header) = adts(&data);
            tracks[track].config = CodecConfig::AudioSpecificConfig(asc);
            data.drain(..header);
        }
        let pts = p["pts"].as_i64();
        let dts = if matroska { None } else { p["dts"].as_i64() };
        let keyframe = p["flags"].as_str().unwrap_or("").starts_with('K');
        packets.push(MediaPacket::new(track, data, pts, dts, keyframe).with_duration(p["duration"].as_i64()));
    }
    Media { tracks, packets }
}

/// The source's video and audio tracks, renumbered 0.., and their packets.
fn av_only(m: Media) -> Media {
    let keep: Vec<usize> = m
        .tracks
        .iter()
        .filter(|t| matches!(t.kind, TrackKind::Video | TrackKind::Audio) && t.codec.name() != "mp4a")
        .map(|t| t.index)
        .collect();
    let tracks = keep.iter().enumerate().map(|(i, &k)| Track { index: i, ..m.tracks[k].clone() }).collect();
    let packets = m
        .packets
        .into_iter()
        .filter_map(|mut p| {
            let i = keep.iter().position(|&k| k == p.track)?;
            p.track = i;
            Some(p)
        })
        .collect();
    Media { tracks, packets }
}

fn allowed(format: MuxFormat, tracks: &[Track]) -> bool {
    format != MuxFormat::WebM
        || tracks.iter().all(|t| {
            matches!(t.codec, TrackCodec::Video(Codec::Av1 | Codec::Vp9) | TrackCodec::Audio(AudioCodec::Opus))
        })
}

fn extension(format: MuxFormat) -> &'static str {
    match format {
        MuxFormat::Mp4 | MuxFormat::FragmentedMp4 => "mp4",
        MuxFormat::Matroska => "mkv",
        MuxFormat::WebM => "webm",
        MuxFormat::Ivf => "ivf",
    }
}

/// The packet bytes the output must hold for a source packet.
fn expected_bytes(t: &Track, p: &MediaPacket) -> Vec<u8> {
    match (&t.codec, &t.config) {
        (TrackCodec::Video(Codec::H264 | Codec::Hevc), CodecConfig::None) => {
            annexb_to_length_prefixed(&p.data, 4).unwrap()
        }
        _ => p.data.clone(),
    }
}

/// Checks that `out` holds `src`'s packets: bytes, key flags, and presentation times all
/// moved by one offset (time zero), within rounding.
fn compare(what: &str, src: &Media, out: &Media, tolerance: f64) {
    assert_eq!(out.tracks.len(), src.tracks.len(), "{what}: tracks");
    let mut offset: Option<f64> = None;
    for (s, o) in src.tracks.iter().zip(&out.tracks) {
        assert_eq!(o.codec, s.codec, "{what}: codec of track {}", s.index);
        if !matches!(s.config, CodecConfig::None) && s.codec != TrackCodec::Video(Codec::Vp9) {
            assert_eq!(o.config, s.config, "{what}: configuration of track {}", s.index);
        }
        assert_eq!(o.language, s.language, "{what}: language of track {}", s.index);
        let (sp, op) = (src.of(s.index), out.of(o.index));
        assert_eq!(op.len(), sp.len(), "{what}: packets of track {}", s.index);
        for (n, (a, b)) in sp.iter().zip(&op).enumerate() {
            assert!(b.data == expected_bytes(s, a), "{what}: track {} packet {n} bytes", s.index);
            assert_eq!(b.keyframe, a.keyframe, "{what}: track {} packet {n} key flag", s.index);
            let (Some(pa), Some(pb)) = (a.pts, b.pts) else { continue };
            let d = s.time_base.as_f64().mul_add(-(pa as f64), pb as f64 * o.time_base.as_f64());
            let first = *offset.get_or_insert(d);
            assert!(
                (d - first).abs() <= tolerance,
                "{what}: track {} packet {n}: pts {pa} -> {pb} moved by {d:.6} s, others by {first:.6} s",
                s.index
            );
        }
    }
}

/// ffprobe/ffmpeg's view of an output.
fn probe_output(what: &str, path: &Path, format: MuxFormat, src: &Media) {
    let info = ffprobe_json(&["-count_packets", "-show_streams", "-show_format"], path);
    let streams = info["streams"].as_array().unwrap();
    assert_eq!(streams.len(), src.tracks.len(), "{what}: ffprobe streams");
    for (s, t) in streams.iter().zip(&src.tracks) {
        assert_eq!(s["codec_name"].as_str(), Some(t.codec.name()), "{what}: ffprobe codec");
        let n: usize = s["nb_read_packets"].as_str().unwrap_or("0").parse().unwrap();
        assert_eq!(n, src.of(t.index).len(), "{what}: ffprobe packets of stream {}", t.index);
    }
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-threads", "1", "-i"])
        .arg(path)
        .args(["-map", "0", "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "{what}: ffmpeg decode: {}", String::from_utf8_lossy(&o.stderr));
    if format == MuxFormat::Mp4 {
        let bytes = std::fs::read(path).unwrap();
        let mut at = 0usize;
        let mut order = Vec::new();
        while at + 8 <= bytes.len() {
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as u64;
            let size = if size == 1 { u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) } else { size };
            order.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).to_string());
            at += size.max(8) as usize;
        }
        assert_eq!(order, ["ftyp", "moov", "mdat"], "{what}: top-level boxes");
    }
}

fn mux_to_file(src: &Media, format: MuxFormat, path: &Path) -> video_hw::Result<()> {
    let mut m = Muxer::create(path, format, &src.tracks)?;
    for p in &src.packets {
        m.write(p.clone())?;
    }
    let stats = m.finish()?;
    assert_eq!(stats.packets.iter().sum::<u64>(), src.packets.len() as u64);
    assert_eq!(stats.bytes, std::fs::metadata(path).unwrap().len());
    Ok(())
}

/// Muxes `src` into every allowed format and checks each output.
fn round_trip(name: &str, src: Media) {
    let probe = has_ffprobe();
    if !probe {
        eprintln!("note: ffprobe/ffmpeg not installed: {name} outputs are not checked by them");
    }
    for format in ALL {
        let what = format!("{name} -> {format}");
        let out = temp(&format!("{}.{}", name.replace('/', "_"), extension(format)));
        if !allowed(format, &src.tracks) {
            let e = Muxer::create(&out, format, &src.tracks).unwrap_err();
            assert!(matches!(e, Error::Unsupported { .. }), "{what}: {e}");
            assert!(!out.exists(), "{what}: a refused muxer leaves no file");
            continue;
        }
        mux_to_file(&src, format, &out).unwrap_or_else(|e| panic!("{what}: {e}"));
        if let Some(back) = read(&out) {
            // Matroska rounds to milliseconds; MP4 edit lists count milliseconds.
            compare(&what, &src, &back, 0.0015);
            if format == MuxFormat::Mp4 {
                for (s, o) in src.tracks.iter().zip(&back.tracks) {
                    assert_eq!(o.video.map(|v| v.rotation), s.video.map(|v| v.rotation), "{what}: rotation");
                }
            }
        }
        if probe {
            probe_output(&what, &out, format, &src);
        }
        let _ = std::fs::remove_file(&out);
    }
}

fn fixture(name: &str) {
    let Some(src) = read(&media(name)) else { return };
    round_trip(name, av_only(src));
}

#[test]
fn h264_aac_mp4() {
    fixture("media/h264-aac.mp4");
    // The avcC is ffmpeg's, byte for byte (with the High-profile chroma and bit depths).
    let Some(src) = read(&media("media/h264-aac.mp4")) else { return };
    let path = temp("avcc.mp4");
    mux_to_file(&av_only(src), MuxFormat::Mp4, &path).unwrap();
    let avcc = |bytes: &[u8]| {
        let at = bytes.windows(4).position(|w| w == b"avcC").unwrap();
        let size = u32::from_be_bytes(bytes[at - 4..at].try_into().unwrap()) as usize;
        bytes[at + 4..at - 4 + size].to_vec()
    };
    assert_eq!(avcc(&std::fs::read(&path).unwrap()), avcc(&std::fs::read(media("media/h264-aac.mp4")).unwrap()));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn h264_aac_fragmented_mp4() {
    fixture("media/h264-aac-frag.mp4");
}

#[test]
fn hevc_aac_opus_mkv() {
    fixture("media/hevc-aac.mkv");
}

#[test]
fn vp9_opus_webm() {
    fixture("media/vp9-opus.webm");
}

#[test]
fn av1_opus_webm() {
    fixture("media/av1-opus.webm");
}

#[test]
fn h264_aac_ts() {
    fixture("media/h264-aac.ts");
}

#[test]
fn h264_edit_list_mp4() {
    fixture("media/h264-editlist.mp4");
}

#[test]
fn h264_vfr_mp4() {
    fixture("media/h264-vfr.mp4");
}

#[test]
fn h264_rotate90_and_hevc_open_gop_mp4() {
    fixture("media/h264-rotate90.mp4");
    fixture("media/hevc-opengop.mp4");
}

#[test]
fn open_gop_mkv_vfr_mkv_and_transport_streams() {
    fixture("media/h264-opengop.mkv");
    fixture("media/h264-vfr.mkv");
    // M2TS (HEVC), a 33-bit PTS wrap, and a resolution change with new parameter sets
    // in band (the record holds the first ones).
    fixture("media/hevc-aac.m2ts");
    fixture("media/h264-wrap.ts");
    fixture("media/h264-reschange.ts");
}

/// IVF and raw streams carry no configuration record: the muxer builds the `vpcC` and
/// `av1C` from the frames, and the `avcC` from the Annex-B parameter sets.
#[test]
fn configuration_records_built_from_the_stream() {
    fixture("av1/svtav1-cars-320x240.ivf");
    fixture("vp9/libvpx-cars-320x240.ivf");
    let Some(mut raw) = read(&media("h264/cbp-cavlc-cars-320x240.h264")) else { return };
    raw.tracks[0].frame_rate.get_or_insert(Rational::new(25, 1));
    round_trip("raw-h264", raw);
}

/// An encoder's output: Annex-B access units with timestamps, a track made with
/// `Track::video` (no record: the muxer takes the parameter sets from the stream). The
/// stream has no B-frames, so pts = dts.
#[test]
fn encoder_output() {
    let Some(raw) = read(&media("h264/cbp-cavlc-cars-320x240.h264")) else { return };
    let mut track = Track::video(7, Codec::H264, Rational::new(1, 90_000), 320, 240);
    track.language = Some("eng".into());
    let packets: Vec<MediaPacket> = raw
        .packets
        .iter()
        .enumerate()
        .map(|(i, p)| MediaPacket::new(7, p.data.clone(), Some(i as i64 * 3600), Some(i as i64 * 3600), p.keyframe))
        .collect();
    let src = Media { tracks: vec![track], packets };
    for format in [MuxFormat::Mp4, MuxFormat::FragmentedMp4, MuxFormat::Matroska] {
        let path = temp(&format!("encoder.{}", extension(format)));
        mux_to_file(&src, format, &path).unwrap();
        if let Some(back) = read(&path) {
            assert_eq!(back.packets.len(), 30);
            assert_eq!(back.packets.iter().filter(|p| p.keyframe).count(), 1);
            let last = back.tracks[0].seconds(back.packets[29].pts.unwrap());
            assert!((last - 1.16).abs() < 1e-9, "last frame at {last} s");
            assert_eq!(back.tracks[0].language.as_deref(), Some("eng"));
        }
        if has_ffprobe() {
            let mut expect = src.clone();
            expect.tracks[0].index = 0;
            expect.packets.iter_mut().for_each(|p| p.track = 0);
            probe_output(&format!("encoder output {format}"), &path, format, &expect);
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// A `Write` that keeps what it is given (and cannot seek).
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn streaming_outputs_demux() {
    let Some(src) = read(&media("media/h264-aac.mp4")) else { return };
    let src = av_only(src);
    for format in [MuxFormat::FragmentedMp4, MuxFormat::Matroska] {
        let out = Shared::default();
        let mut m = Muxer::streaming(Box::new(out.clone()), format, &src.tracks).unwrap();
        let mut sizes = Vec::new();
        for p in &src.packets {
            m.write(p.clone()).unwrap();
            sizes.push(out.0.lock().unwrap().len());
        }
        m.finish().unwrap();
        let bytes = out.0.lock().unwrap().clone();
        // It grows while packets come, not only at the end.
        assert!(sizes[sizes.len() / 2] > bytes.len() / 4, "{format}: written as it goes");
        let path = temp(&format!("stream.{}", extension(format)));
        std::fs::write(&path, &bytes).unwrap();
        if format == MuxFormat::Matroska {
            // Unknown-size Segment and Clusters.
            assert!(
                bytes.windows(12).any(|w| w == [0x18, 0x53, 0x80, 0x67, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
            );
        }
        if let Some(back) = read(&path) {
            compare(&format!("streamed {format}"), &src, &back, 0.0015);
        }
        if has_ffprobe() {
            probe_output(&format!("streamed {format}"), &path, format, &src);
        }
        let _ = std::fs::remove_file(&path);
    }
    let e = Muxer::streaming(Box::new(Shared::default()), MuxFormat::Mp4, &src.tracks).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
}

/// Fragmented MP4 with a bounded fragment duration: fragments are cut between key frames
/// (more of them than key frames), every sample keeps its own sync flag, and the file reads
/// back packet for packet (and plays in ffmpeg where it is installed).
#[test]
fn fragments_bounded_by_duration() {
    let Some(src) = read(&media("media/h264-aac.mp4")) else { return };
    let src = av_only(src);
    let path = temp("bounded.mp4");
    let mut m = Muxer::create(&path, MuxFormat::FragmentedMp4, &src.tracks)
        .unwrap()
        .fragment_duration(std::time::Duration::from_millis(200));
    for p in &src.packets {
        m.write(p.clone()).unwrap();
    }
    m.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let moofs = bytes.windows(4).filter(|w| w == b"moof").count();
    let video = src.tracks.iter().find(|t| t.kind == TrackKind::Video).unwrap();
    let packets = src.of(video.index);
    let keys = packets.iter().filter(|p| p.keyframe).count();
    let first = packets.iter().filter_map(|p| p.pts).min().unwrap();
    let last = packets.iter().filter_map(|p| p.pts).max().unwrap();
    let seconds = (last - first) as f64 * video.time_base.as_f64();
    assert!(moofs > keys, "{moofs} fragments for {keys} key frames");
    assert!(moofs as f64 >= seconds / 0.2, "{moofs} fragments over {seconds:.2} s");
    if let Some(back) = read(&path) {
        compare("fragments of 200 ms", &src, &back, 0.0015);
    }
    if has_ffprobe() {
        probe_output("fragments of 200 ms", &path, MuxFormat::FragmentedMp4, &src);
    }
    let _ = std::fs::remove_file(&path);
}

fn video_track(index: usize) -> Track {
    let mut t = Track::video(index, Codec::H264, Rational::new(1, 1000), 320, 240);
    t.config = CodecConfig::Nal(DecoderConfigRecord::h264(
        4,
        vec![vec![0x67, 0x42, 0xc0, 0x1e, 0xda]],
        vec![vec![0x68, 0xce, 0x3c, 0x80]],
    ));
    t
}

#[test]
fn bad_inputs_are_typed_errors() {
    let path = temp("bad.mp4");
    let tracks = [video_track(3)];
    let mut m = Muxer::create(&path, MuxFormat::Mp4, &tracks).unwrap();
    let e = m.write(MediaPacket::new(0, vec![0, 0, 0, 1, 0x65], Some(0), Some(0), true)).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "unknown track: {e}");
    m.write(MediaPacket::new(3, vec![0, 0, 0, 1, 0x65], Some(40), Some(40), true)).unwrap();
    let e = m.write(MediaPacket::new(3, vec![0, 0, 0, 1, 0x41], Some(0), Some(0), false)).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "dts backwards: {e}");
    drop(m);
    // A codec the container cannot hold, a track the muxers do not write.
    let e = Muxer::create(&path, MuxFormat::WebM, &tracks).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }) && e.to_string().contains("WebM"), "{e}");
    let mut subtitle = video_track(0);
    subtitle.kind = TrackKind::Subtitle;
    subtitle.codec = TrackCodec::Other("S_TEXT/UTF8".into());
    assert!(matches!(Muxer::create(&path, MuxFormat::Matroska, &[subtitle]).unwrap_err(), Error::Unsupported { .. }));
    let aac = Track::audio(0, AudioCodec::Aac, CodecConfig::None, Rational::new(1, 48000), 48000, 2);
    assert!(matches!(Muxer::create(&path, MuxFormat::Mp4, &[aac]).unwrap_err(), Error::InvalidInput(_)));
    assert!(matches!(Muxer::create(&path, MuxFormat::Mp4, &[]).unwrap_err(), Error::InvalidInput(_)));
    assert!(Muxer::create(&path, MuxFormat::Mp4, &[video_track(1), video_track(1)]).is_err());
    let _ = std::fs::remove_file(&path);
}

/// A track without packets and a file of one packet still make valid files.
#[test]
fn empty_track_and_single_packet() {
    let Some(src) = read(&media("media/h264-aac.mp4")) else { return };
    let src = av_only(src);
    let first_video = src.packets.iter().find(|p| p.track == 0).unwrap().clone();
    let one = Media { tracks: src.tracks.clone(), packets: vec![first_video] };
    for format in [MuxFormat::Mp4, MuxFormat::FragmentedMp4, MuxFormat::Matroska] {
        let path = temp(&format!("one.{}", extension(format)));
        mux_to_file(&one, format, &path).unwrap();
        if let Some(back) = read(&path) {
            compare(&format!("one packet {format}"), &one, &back, 0.0015);
        }
        if has_ffprobe() {
            probe_output(&format!("one packet {format}"), &path, format, &one);
        }
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn a_muxer_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<Muxer>();
}

#[test]
fn format_from_path() {
    assert_eq!(MuxFormat::from_path("a/b.MP4"), Some(MuxFormat::Mp4));
    assert_eq!(MuxFormat::from_path("x.mov"), Some(MuxFormat::Mp4));
    assert_eq!(MuxFormat::from_path("x.m4v"), Some(MuxFormat::Mp4));
    assert_eq!(MuxFormat::from_path("x.mkv"), Some(MuxFormat::Matroska));
    assert_eq!(MuxFormat::from_path("x.webm"), Some(MuxFormat::WebM));
    assert_eq!(MuxFormat::from_path("x.ts"), None);
}

/// An encoder lagging its copied audio: every audio packet comes before the first video
/// packet. The interleaver lets the audio go after 2 s; the outputs still hold everything
/// in each track's order, at the right times.
#[test]
fn a_track_arriving_late() {
    let Some(src) = read(&media("media/h264-aac.mp4")) else { return };
    let src = av_only(src);
    let mut late = src.clone();
    late.packets.sort_by_key(|p| std::cmp::Reverse(p.track)); // stable: audio first, each in order
    for format in [MuxFormat::Mp4, MuxFormat::FragmentedMp4, MuxFormat::Matroska] {
        let what = format!("late video -> {format}");
        let path = temp(&format!("late.{}", extension(format)));
        mux_to_file(&late, format, &path).unwrap();
        if let Some(back) = read(&path) {
            compare(&what, &src, &back, 0.0015);
        }
        if has_ffprobe() {
            probe_output(&what, &path, format, &src);
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// Without video, fragments are cut about every 2 s.
#[test]
fn audio_only_fragments() {
    let Some(src) = read(&media("media/h264-aac.mp4")) else { return };
    let src = av_only(src);
    let audio = Media {
        tracks: vec![Track { index: 0, ..src.tracks[1].clone() }],
        packets: src
            .of(1)
            .into_iter()
            .map(|p| {
                let mut p = p.clone();
                p.track = 0;
                p
            })
            .collect(),
    };
    let path = temp("audio-only.mp4");
    mux_to_file(&audio, MuxFormat::FragmentedMp4, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let moofs = bytes.windows(4).filter(|w| w == b"moof").count();
    assert!((2..=3).contains(&moofs), "{moofs} fragments for 4 s of audio");
    compare("audio-only fmp4", &audio, &read(&path).unwrap(), 0.0015);
    let _ = std::fs::remove_file(&path);
}

/// IVF: the AV1 track of a Matroska file (temporal units without delimiters) and a VP9
/// IVF file, remuxed to IVF: the same packets (AV1 with a temporal delimiter put back
/// first), timestamps, time base and size, and every frame decodes to the reference.
/// An audio track or a second track is refused by name.
#[test]
fn ivf_holds_one_av1_or_vp9_track() {
    for (name, delimiter) in [("av1/libaom-kf8-cars-320x240.mkv", true), ("vp9/libvpx-cars-320x240.ivf", false)] {
        let src = common::fixtures_dir().join(name);
        let mut d = Demuxer::open(&src).unwrap();
        let track = d.video_track().unwrap().clone();
        let (packets, errors) = common::read_all(&mut d);
        assert!(errors.is_empty());
        let out = common::scratch_file("remux.ivf");
        let mut m = Muxer::create(&*out, MuxFormat::Ivf, std::slice::from_ref(&track)).unwrap();
        for p in packets.iter().filter(|p| p.track == track.index) {
            m.write(p.clone()).unwrap();
        }
        m.finish().unwrap();
        let mut back = Demuxer::open(&*out).unwrap();
        assert_eq!(back.container(), video_hw::media::Container::Ivf);
        let t = back.video_track().unwrap().clone();
        assert_eq!(t.codec, track.codec);
        let v = t.video.unwrap();
        assert_eq!((v.width, v.height), (320, 240));
        let (again, errors) = common::read_all(&mut back);
        assert!(errors.is_empty(), "{errors:?}");
        let video: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == track.index).collect();
        assert_eq!(again.len(), video.len());
        for (a, b) in again.iter().zip(&video) {
            let want = if delimiter { [&[0x12u8, 0x00][..], &b.data].concat() } else { b.data.clone() };
            assert_eq!(a.data, want);
            assert_eq!(a.keyframe, b.keyframe);
            assert_eq!(Some(track.time_base.rescale(a.pts.unwrap(), t.time_base)), b.pts);
        }
        // The frame count in the header.
        let bytes = std::fs::read(&*out).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()) as usize, video.len());
    }
    let d = Demuxer::open(common::fixtures_dir().join("media/av1-opus.webm")).unwrap();
    let out = common::scratch_file("two.ivf");
    let e = Muxer::create(&*out, MuxFormat::Ivf, d.tracks()).unwrap_err();
    assert!(e.to_string().contains("IVF holds one video track"), "{e}");
    let d = Demuxer::open(common::fixtures_dir().join("mp4/main-bframes-cars-320x240.mp4")).unwrap();
    let e = Muxer::create(&*out, MuxFormat::Ivf, &d.tracks()[..1]).unwrap_err();
    assert!(e.to_string().ends_with("one AV1 or VP9 video track; use MP4 or Matroska"), "{e}");
}
