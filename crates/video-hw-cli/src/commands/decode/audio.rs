//! `video-hw decode IN -o out.wav` (or `-f f32le`/`s16le`, `--audio-stream N`,
//! `--sample-rate`, `--channels`, `--start`/`--duration`): an audio track to WAV or raw
//! samples, as `ffmpeg -vn` writes them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use video_hw::audio::wav::{WavFormat, WavWriter};
use video_hw::audio::{AudioDecoder, AudioOptions, AudioSamples};
use video_hw::engine::{Engine, EnginePreference};
use video_hw::media::{Demuxer, TrackKind};

use crate::exit::{CliResult, usage};
use crate::options::decode::{AudioFormat, DecodeArgs};

/// Seconds decoded per call: bounded memory for a track of any length, in buffers small
/// enough to stay in the caches and in the heap (10 s chunks were mapped and unmapped anew
/// each time: page faults were a fifth of a whole-track decode).
const CHUNK_SECONDS: f64 = 2.0;

/// Whether `decode` writes audio: an audio output format or option, a `.wav` output, or an
/// input with an audio track and no video track.
pub fn wanted(args: &DecodeArgs) -> bool {
    if args.format.is_some() || args.audio_stream.is_some() || args.sample_rate.is_some() || args.channels.is_some() {
        return true;
    }
    if args.output.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")) {
        return true;
    }
    if args.input.as_os_str() == "-" {
        return false;
    }
    Demuxer::open(&args.input).is_ok_and(|d| {
        d.tracks().iter().all(|t| t.kind != TrackKind::Video) && d.tracks().iter().any(|t| t.kind == TrackKind::Audio)
    })
}

/// Runs the audio form of `decode`.
pub fn run(args: &DecodeArgs, quiet: bool) -> CliResult<ExitCode> {
    let started = Instant::now();
    if args.framemd5 || args.indices.is_some() || args.count.is_some() {
        return Err(usage("--framemd5, --indices and --count are for video; audio takes --start and --duration"));
    }
    let engine = match args.engine.backend {
        EnginePreference::Only(e) if e == Engine::Ffmpeg || Engine::AUDIO.contains(&e) => EnginePreference::Only(e),
        EnginePreference::Only(e) => {
            return Err(usage(format!("--backend {e} decodes no audio (ffmpeg, symphonia, ropus)")));
        }
        EnginePreference::Auto => EnginePreference::Auto,
    };
    let format = args.format.unwrap_or(if args.output.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")) {
        AudioFormat::Wav
    } else {
        AudioFormat::F32le
    });
    let options = AudioOptions {
        stream_index: args.audio_stream,
        sample_rate: args.sample_rate,
        channels: args.channels,
        engine,
    };
    let mut dec = AudioDecoder::open(&args.input, options)?;
    let meta = dec.metadata().clone();
    let (rate, channels) = (meta.output_sample_rate, meta.output_channels);
    let start = args.start.unwrap_or(meta.begin_stream_seconds).max(meta.begin_stream_seconds);
    let stop = args.duration.map(|d| start + d);
    let to_stdout = args.output.as_os_str() == "-";
    let out: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(File::create(&args.output)?))
    };
    let mut sink = Sink::new(out, format, rate, channels)?;
    let mut at = start;
    let mut samples = 0u64;
    loop {
        let end = stop.map_or(at + CHUNK_SECONDS, |s| s.min(at + CHUNK_SECONDS));
        let chunk = dec.get_samples_played_in_range(at, Some(end))?;
        samples += chunk.frames() as u64;
        sink.write(&chunk)?;
        at = end;
        if stop.is_some_and(|s| at >= s) || dec.at_end() {
            break;
        }
    }
    let bytes = sink.finish(&args.output, to_stdout, format, rate, channels)?;
    if !quiet {
        let secs = samples as f64 / f64::from(rate.max(1));
        let line = format!(
            "video-hw: decoded {samples} samples ({secs:.3} s) of {} {} Hz {} to {} Hz {} ch {:?} in {:.2} s; decoder {}; {} damaged packet(s) skipped; {bytes} bytes to {}",
            meta.codec,
            meta.sample_rate,
            meta.layout,
            rate,
            channels,
            format,
            started.elapsed().as_secs_f64(),
            meta.decoder,
            dec.damaged_packets(),
            args.output.display()
        );
        if args.json {
            let j = serde_json::json!({
                "job": "decode", "input": args.input.display().to_string(), "output": args.output.display().to_string(),
                "codec_in": meta.codec, "engine": meta.engine.name(), "decoder": meta.decoder,
                "sample_rate": rate, "channels": channels, "samples": samples, "bytes_out": bytes,
                "damaged_packets": dec.damaged_packets(), "elapsed_s": started.elapsed().as_secs_f64(),
            });
            if to_stdout { eprintln!("{j}") } else { println!("{j}") }
        } else {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where samples go: a WAV writer or raw bytes.
enum Sink {
    Wav(WavWriter<Box<dyn Write>>),
    /// The writer, the sample format, bytes written, and the buffer each chunk's bytes are
    /// made in (kept: a new one per chunk costs its pages again).
    Raw(Box<dyn Write>, AudioFormat, u64, Vec<u8>),
}

impl Sink {
    fn new(out: Box<dyn Write>, format: AudioFormat, rate: u32, channels: u16) -> video_hw::Result<Sink> {
        Ok(match format {
            AudioFormat::Wav => Sink::Wav(WavWriter::new(out, WavFormat::S16, rate, channels)?),
            f => Sink::Raw(out, f, 0, Vec::new()),
        })
    }

    fn write(&mut self, s: &AudioSamples) -> video_hw::Result<()> {
        match self {
            Sink::Wav(w) => w.write(s),
            Sink::Raw(out, f, n, buf) => {
                s.interleave_le_into(*f == AudioFormat::S16le, buf);
                out.write_all(buf)?;
                *n += buf.len() as u64;
                Ok(())
            }
        }
    }

    /// Flushes; a WAV file gets its real sizes in the header (stdout keeps the streaming
    /// header, as ffmpeg's piped WAV does).
    fn finish(
        self,
        path: &Path,
        to_stdout: bool,
        format: AudioFormat,
        rate: u32,
        channels: u16,
    ) -> video_hw::Result<u64> {
        let _ = format;
        match self {
            Sink::Wav(w) => {
                let (mut out, bytes) = w.finish()?;
                out.flush()?;
                drop(out);
                if !to_stdout {
                    let f = std::fs::OpenOptions::new().write(true).open(path)?;
                    video_hw::audio::wav::fix_sizes(f, WavFormat::S16, rate, channels, bytes)?;
                }
                Ok(bytes + 44)
            }
            Sink::Raw(mut out, _, n, _) => {
                out.flush()?;
                Ok(n)
            }
        }
    }
}
