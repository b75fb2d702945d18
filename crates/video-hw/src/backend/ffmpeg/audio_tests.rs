//! [`FfmpegAudioEngine`] against the ffmpeg tool: small files made with `ffmpeg` at test
//! time, split into packets here (ADTS, WAV, MP3 and AC-3 frames, Ogg pages), decoded
//! packet by packet, and compared with `ffmpeg -i F -f f32le -` bit for bit.
//!
//! The tool's output is the decoder's from its first sample where the container asks for
//! no trimming (ADTS, WAV, MP3 without a Xing frame, AC-3, Ogg FLAC); Ogg Opus and Vorbis
//! are trimmed by the tool (pre-skip, granule positions), so there its output must be one
//! unbroken run of the engine's samples. Each test checks nothing, saying why, where no
//! FFmpeg library or no `ffmpeg` tool is found, and fails there under
//! `VIDEO_HW_REQUIRE_FFMPEG=1`. Where the loaded FFmpeg is not the tool's version (PyAV's
//! through `VIDEO_HW_FFMPEG_DIR`), lossy codecs are compared with the output of the program
//! `VIDEO_HW_F32LE_REFERENCE` names (`python3 scripts/pyav-f32le.py` in PyAV's Python).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// Whether a missing FFmpeg or tool fails the test (CI's runs with FFmpeg set it).
fn required() -> bool {
    std::env::var("VIDEO_HW_REQUIRE_FFMPEG").is_ok_and(|v| v == "1")
}

/// The loaded FFmpeg with measured audio fields and the `ffmpeg` tool, or `None` (the
/// test then checks nothing) after saying why.
fn setup() -> Option<tempfile::TempDir> {
    let ff = super::super::test_ffmpeg()?;
    if let Err(why) = AudioFields::of(ff.layout) {
        assert!(!required() || ff.layout.avcodec_major == 62, "VIDEO_HW_REQUIRE_FFMPEG=1: {why}");
        eprintln!("note: no FFmpeg audio here ({why}); this test checks nothing");
        return None;
    }
    if Command::new("ffmpeg").arg("-version").output().map_or(true, |o| !o.status.success()) {
        assert!(!required(), "VIDEO_HW_REQUIRE_FFMPEG=1 but no ffmpeg tool on PATH");
        eprintln!("note: no ffmpeg tool on PATH; this test checks nothing");
        return None;
    }
    Some(tempfile::tempdir().expect("tempdir"))
}

/// Makes `name` in `dir` from a 1-second two-tone stereo signal with `args` (codec and
/// format options); `None` where the tool lacks the encoder.
fn make(dir: &Path, name: &str, args: &[&str]) -> Option<PathBuf> {
    let out = dir.join(name);
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("sine=frequency=440:duration=1:sample_rate=48000")
        .args(["-f", "lavfi", "-i", "sine=frequency=660:duration=1:sample_rate=48000"])
        .args(["-filter_complex", "[0][1]amerge=inputs=2"])
        .args(args)
        .arg(&out)
        .output()
        .expect("running ffmpeg");
    if !o.status.success() {
        eprintln!("note: ffmpeg could not make {name}: {}", String::from_utf8_lossy(&o.stderr).trim());
        return None;
    }
    Some(out)
}

/// The environment variable naming a program that writes a file's audio as f32le to
/// stdout (`scripts/pyav-f32le.py` with PyAV's FFmpeg), used instead of the ffmpeg tool.
const REFERENCE_ENV: &str = "VIDEO_HW_F32LE_REFERENCE";

/// Whether the reference is made by the same libavcodec as the engine runs: a program
/// named in [`REFERENCE_ENV`] is taken to be; the ffmpeg tool is where its libavcodec
/// version is the loaded one's. Lossy decoders differ between FFmpeg versions in their
/// last bits, so only then are they compared.
fn reference_is_same_ffmpeg() -> bool {
    if std::env::var_os(REFERENCE_ENV).is_some() {
        return true;
    }
    let Ok(o) = Command::new("ffmpeg").arg("-version").output() else { return false };
    let text = String::from_utf8_lossy(&o.stdout);
    // "libavcodec     59. 37.100 / 59. 37.100": the version it runs is the second.
    let tool = text
        .lines()
        .find(|l| l.starts_with("libavcodec"))
        .and_then(|l| l.rsplit('/').next())
        .map(|v| v.split('.').map(|n| n.trim().parse::<u32>().unwrap_or(0)).fold(0, |acc, n| acc << 8 | n));
    sys::get().is_ok_and(|ff| tool == Some(ff.avcodec_version))
}

/// `ffmpeg -i path -f f32le -` (or the program of [`REFERENCE_ENV`]), split into
/// `channels` planes.
fn reference(path: &Path, channels: usize) -> Vec<Vec<f32>> {
    let o = match std::env::var(REFERENCE_ENV) {
        Ok(program) => {
            let mut words = program.split_whitespace();
            Command::new(words.next().expect("a program")).args(words).arg(path).output()
        }
        Err(_) => Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-i"])
            .arg(path)
            .args(["-f", "f32le", "-"])
            .output(),
    }
    .expect("running the reference");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let samples: Vec<f32> = o.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    (0..channels).map(|c| samples.iter().skip(c).step_by(channels).copied().collect()).collect()
}

/// Decodes `packets` and flushes.
fn decode(params: &AudioParams, packets: &[Vec<u8>]) -> (Planar, String) {
    let mut engine = FfmpegAudioEngine::open(params).unwrap_or_else(|e| panic!("{}: {e}", params.codec.name()));
    let mut out = Planar::default();
    for (i, p) in packets.iter().enumerate() {
        engine.decode(p, &mut out).unwrap_or_else(|e| panic!("{} packet {i}: {e}", params.codec.name()));
    }
    engine.flush(&mut out).expect("flush");
    (out, engine.describe())
}

/// Where the tool's samples `want` lie in the engine's `got`, bit for bit: `Some(offset)`
/// of the first sample, the same in every channel.
fn find_exact(got: &Planar, want: &[Vec<f32>]) -> Option<usize> {
    let (g, w) = (&got.channels, want);
    if g.len() != w.len() || w[0].len() > g[0].len() {
        return None;
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let want0 = bits(&w[0]);
    (0..=g[0].len() - w[0].len()).find(|&o| {
        bits(&g[0][o..o + want0.len()]) == want0
            && g.iter().zip(w).all(|(gc, wc)| bits(&gc[o..o + wc.len()]) == bits(wc))
    })
}

/// Splits a file of self-delimiting frames into packets.
type Split = fn(&[u8]) -> Vec<Vec<u8>>;

/// ADTS frames: the AudioSpecificConfig built from the first header, and each raw payload.
fn adts(data: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut packets = Vec::new();
    let mut config = Vec::new();
    let mut at = 0;
    while at + 7 <= data.len() {
        let h = &data[at..];
        assert_eq!((h[0], h[1] & 0xf0), (0xff, 0xf0), "ADTS sync at {at}");
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        let header = if h[1] & 1 == 0 { 9 } else { 7 };
        if config.is_empty() {
            let (object, rate, channels) = ((h[2] >> 6) + 1, (h[2] >> 2) & 15, ((h[2] & 1) << 2) | (h[3] >> 6));
            config = vec![(object << 3) | (rate >> 1), ((rate & 1) << 7) | (channels << 3)];
        }
        packets.push(h[header..len].to_vec());
        at += len;
    }
    (config, packets)
}

/// A WAV file's `data` chunk, in 6144-byte packets: whole sample frames of every storage
/// made here (FFmpeg's PCM decoders refuse a packet that splits one, as demuxers never do).
fn wav(data: &[u8]) -> Vec<Vec<u8>> {
    let mut at = 12;
    while at + 8 <= data.len() {
        let size = u32::from_le_bytes([data[at + 4], data[at + 5], data[at + 6], data[at + 7]]) as usize;
        if &data[at..at + 4] == b"data" {
            return data[at + 8..at + 8 + size].chunks(6144).map(<[u8]>::to_vec).collect();
        }
        at += 8 + size + (size & 1);
    }
    panic!("no data chunk");
}

/// MPEG audio frames (layer II and III, MPEG-1 at 48 kHz as made here).
fn mpeg_audio(data: &[u8]) -> Vec<Vec<u8>> {
    const L2: [usize; 15] = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
    const L3: [usize; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        let h = &data[at..];
        assert!(h[0] == 0xff && h[1] & 0xe0 == 0xe0, "MPEG audio sync at {at}");
        let layer = (h[1] >> 1) & 3;
        let kbps = if layer == 1 { L3 } else { L2 }[usize::from(h[2] >> 4)];
        let len = 144 * kbps * 1000 / 48000 + usize::from((h[2] >> 1) & 1);
        out.push(h[..len.min(h.len())].to_vec());
        at += len;
    }
    out
}

/// AC-3 frames at 48 kHz (`frmsizecod`: words by bit rate) and E-AC-3 (`frmsiz` + 1 words).
fn ac3(data: &[u8]) -> Vec<Vec<u8>> {
    const KBPS: [usize; 19] = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640];
    let mut out = Vec::new();
    let mut at = 0;
    while at + 6 <= data.len() {
        let h = &data[at..];
        assert_eq!((h[0], h[1]), (0x0b, 0x77), "AC-3 sync at {at}");
        let bsid = h[5] >> 3;
        let len = if bsid > 10 {
            ((usize::from(h[2] & 7) << 8 | usize::from(h[3])) + 1) * 2
        } else {
            KBPS[usize::from(h[4] & 0x3f) >> 1] * 2 * 2
        };
        out.push(h[..len.min(h.len())].to_vec());
        at += len;
    }
    out
}

/// The packets of an Ogg file's one stream (lacing joined, pages in order).
fn ogg(data: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut partial = Vec::new();
    let mut at = 0;
    while at + 27 <= data.len() {
        assert_eq!(&data[at..at + 4], b"OggS", "Ogg page at {at}");
        let segments = usize::from(data[at + 26]);
        let table = &data[at + 27..at + 27 + segments];
        let mut body = at + 27 + segments;
        for &lace in table {
            partial.extend_from_slice(&data[body..body + usize::from(lace)]);
            body += usize::from(lace);
            if lace < 255 {
                packets.push(std::mem::take(&mut partial));
            }
        }
        at = body;
    }
    packets
}

/// Xiph lacing of header packets, as Matroska's CodecPrivate holds Vorbis headers.
fn xiph_lace(headers: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![(headers.len() - 1) as u8];
    for h in &headers[..headers.len() - 1] {
        out.extend(std::iter::repeat_n(255u8, h.len() / 255));
        out.push((h.len() % 255) as u8);
    }
    for h in headers {
        out.extend_from_slice(h);
    }
    out
}

fn params(codec: AudioCodec, config: CodecConfig, pcm: Option<PcmFormat>) -> AudioParams {
    AudioParams { codec, config, sample_rate: 48000, channels: 2, pcm }
}

/// One check: decodes `packets` and compares with the tool's output of `file`; `trimmed`:
/// the tool may drop samples at either end. A lossy codec is compared only with a
/// reference of the same FFmpeg (PCM and FLAC decode alike in every version).
fn check(file: &Path, params: &AudioParams, packets: &[Vec<u8>], trimmed: bool) {
    let name = file.file_name().unwrap().to_string_lossy();
    let lossless = matches!(params.codec, AudioCodec::Pcm | AudioCodec::Flac);
    if !lossless && !reference_is_same_ffmpeg() {
        eprintln!("note: {name} not compared: the ffmpeg tool is another FFmpeg version (set {REFERENCE_ENV})");
        return;
    }
    let want = reference(file, 2);
    let (got, describe) = decode(params, packets);
    let offset = find_exact(&got, &want).unwrap_or_else(|| {
        panic!("{name} ({describe}): {} samples, not {} of the tool's bit for bit", got.len(), want[0].len())
    });
    if !trimmed {
        assert_eq!((offset, got.len()), (0, want[0].len()), "{name} ({describe}): samples past the tool's");
    }
    eprintln!("{name}: {describe}: {} samples a channel bit-exact at offset {offset}", want[0].len());
}

#[test]
fn aac_adts_matches_the_ffmpeg_tool_bit_exact() {
    let Some(dir) = setup() else { return };
    let Some(file) = make(dir.path(), "a.aac", &["-c:a", "aac", "-b:a", "128k"]) else { return };
    let (config, packets) = adts(&std::fs::read(&file).unwrap());
    check(&file, &params(AudioCodec::Aac, CodecConfig::AudioSpecificConfig(config), None), &packets, false);
}

#[test]
fn pcm_wav_matches_the_ffmpeg_tool_bit_exact() {
    let Some(dir) = setup() else { return };
    let le = |bits, float, signed| Some(PcmFormat { bits, float, big_endian: false, signed });
    for (codec, pcm) in [
        ("pcm_s16le", le(16, false, true)),
        ("pcm_s24le", le(24, false, true)),
        ("pcm_s32le", le(32, false, true)),
        ("pcm_f32le", le(32, true, true)),
        ("pcm_f64le", le(64, true, true)),
        ("pcm_u8", le(8, false, false)),
    ] {
        let Some(file) = make(dir.path(), &format!("{codec}.wav"), &["-c:a", codec]) else { continue };
        let packets = wav(&std::fs::read(&file).unwrap());
        check(&file, &params(AudioCodec::Pcm, CodecConfig::None, pcm), &packets, false);
    }
}

#[test]
fn big_endian_pcm_matches_the_ffmpeg_tool_bit_exact() {
    let Some(dir) = setup() else { return };
    // AIFF holds big-endian PCM; its SSND chunk has 8 bytes of offset and block size first.
    for (codec, bits) in [("pcm_s16be", 16), ("pcm_s24be", 24), ("pcm_s32be", 32)] {
        let Some(file) = make(dir.path(), &format!("{codec}.aiff"), &["-c:a", codec]) else { continue };
        let data = std::fs::read(&file).unwrap();
        let ssnd = data.windows(4).position(|w| w == b"SSND").expect("SSND chunk");
        let size = u32::from_be_bytes(data[ssnd + 4..ssnd + 8].try_into().unwrap()) as usize;
        let samples = &data[ssnd + 16..ssnd + 8 + size];
        let packets: Vec<Vec<u8>> = samples.chunks(6000).map(<[u8]>::to_vec).collect();
        let pcm = Some(PcmFormat { bits, float: false, big_endian: true, signed: true });
        check(&file, &params(AudioCodec::Pcm, CodecConfig::None, pcm), &packets, false);
    }
}

#[test]
fn mp3_mp2_ac3_eac3_match_the_ffmpeg_tool_bit_exact() {
    let Some(dir) = setup() else { return };
    let cases: [(&str, AudioCodec, &[&str], Split); 4] = [
        (
            "a.mp3",
            AudioCodec::Mp3,
            &["-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0"],
            mpeg_audio,
        ),
        ("a.mp2", AudioCodec::Mp2, &["-c:a", "mp2", "-b:a", "192k"], mpeg_audio),
        ("a.ac3", AudioCodec::Ac3, &["-c:a", "ac3", "-b:a", "192k"], ac3),
        ("a.eac3", AudioCodec::Eac3, &["-c:a", "eac3", "-b:a", "192k"], ac3),
    ];
    for (name, codec, args, split) in cases {
        let Some(file) = make(dir.path(), name, args) else { continue };
        let packets = split(&std::fs::read(&file).unwrap());
        check(&file, &params(codec, CodecConfig::None, None), &packets, false);
    }
}

#[test]
fn ogg_flac_vorbis_opus_match_the_ffmpeg_tool_bit_exact() {
    let Some(dir) = setup() else { return };
    // FLAC: the first packet holds `fLaC`, the STREAMINFO block header and STREAMINFO from
    // byte 9; the comment block follows as a packet of its own.
    if let Some(file) = make(dir.path(), "flac.ogg", &["-c:a", "flac"]) {
        let packets = ogg(&std::fs::read(&file).unwrap());
        let config = CodecConfig::Raw(packets[0][9..].to_vec());
        check(&file, &params(AudioCodec::Flac, config, None), &packets[2..], false);
    }
    if let Some(file) = make(dir.path(), "vorbis.ogg", &["-c:a", "libvorbis", "-q:a", "4"]) {
        let packets = ogg(&std::fs::read(&file).unwrap());
        let config = CodecConfig::Raw(xiph_lace(&packets[..3]));
        check(&file, &params(AudioCodec::Vorbis, config, None), &packets[3..], true);
    }
    if let Some(file) = make(dir.path(), "opus.ogg", &["-c:a", "libopus", "-b:a", "96k"]) {
        let packets = ogg(&std::fs::read(&file).unwrap());
        let config = CodecConfig::OpusHead(packets[0].clone());
        check(&file, &params(AudioCodec::Opus, config, None), &packets[2..], true);
    }
}

/// A damaged packet in the middle is an error for it alone: decoding goes on, and every
/// packet after it still gives samples (PCM's are the tool's exactly).
#[test]
fn damaged_packets_are_errors_for_that_packet_only() {
    let Some(dir) = setup() else { return };
    if let Some(file) = make(dir.path(), "d.aac", &["-c:a", "aac"]) {
        let (config, packets) = adts(&std::fs::read(&file).unwrap());
        let mut engine =
            FfmpegAudioEngine::open(&params(AudioCodec::Aac, CodecConfig::AudioSpecificConfig(config), None)).unwrap();
        let mut out = Planar::default();
        let mut errors = 0;
        for (i, p) in packets.iter().enumerate() {
            if i == 5 {
                errors += usize::from(engine.decode(&[0xff; 40], &mut out).is_err());
            }
            engine.decode(p, &mut out).unwrap_or_else(|e| panic!("packet {i} after the damage: {e}"));
        }
        engine.flush(&mut out).unwrap();
        assert_eq!(errors, 1, "the damaged packet is refused");
        assert!(out.len() >= packets.len() * 1024, "{} samples", out.len());
    }
}
