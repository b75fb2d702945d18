//! `video-hw info FILE`: what a file holds, from headers and container tables only (no
//! decoding): the container, every track, and for the default video track (the largest) the stream facts
//! of its parameter sets and its frame and key frame counts (the frame index).

pub mod container;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use video_hw::Codec;
use video_hw::bitstream::summary::{StreamSummary, summarize};
use video_hw::media::Container;

use crate::exit;
use container::color_json;

/// Arguments of `info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// A container (MP4/MOV, fragmented MP4, Matroska, WebM, MPEG-TS, M2TS, AVI, IVF), a raw AV1
    /// OBU stream, an audio file (WAV, FLAC, Ogg, MP3, AAC) or a raw H.264/HEVC Annex-B
    /// stream, recognised from its content. `-` reads a raw H.264/HEVC stream from standard
    /// input.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// The codec, when neither the name nor the content tells.
    #[arg(long, value_parser = parse_codec)]
    codec: Option<Codec>,
}

fn parse_codec(s: &str) -> Result<Codec, String> {
    match s.parse::<Codec>() {
        Ok(c @ (Codec::H264 | Codec::Hevc)) => Ok(c),
        Ok(c) => Err(format!("{c} streams are not NAL-unit streams; info reads h264 and hevc")),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `info`.
pub fn run(args: &InfoArgs) -> video_hw::Result<ExitCode> {
    if args.file.as_os_str() != "-" {
        let mut head = Vec::new();
        exit::open_input(&args.file)?.take(video_hw::media::DETECT_BYTES as u64).read_to_end(&mut head)?;
        match video_hw::media::detect(&head) {
            Some(c) if c != Container::AnnexB => return container::run(&args.file, args.json),
            _ => {}
        }
    }
    let codec = args.codec.or_else(|| video_hw::bitstream::detect::codec_from_extension(&args.file));
    let summary = if args.file.as_os_str() == "-" {
        summarize(std::io::stdin().lock(), codec)?
    } else {
        summarize(exit::open_input(&args.file)?, codec)?
    };
    print_summary(&summary, args.json);
    match &summary.first_error {
        // A damaged stream: the partial result is printed, the damage reported, exit 4.
        Some(e) => {
            eprintln!(
                "video-hw: error: {} ({} damaged part(s) skipped; counts cover the rest)",
                exit::one_line(&e.to_string()),
                summary.errors
            );
            Ok(ExitCode::from(4))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn print_summary(s: &StreamSummary, as_json: bool) {
    let info = s.info.as_ref();
    if as_json {
        let v = json!({
            "container": "annexb",
            "codec": s.codec.name(),
            "profile": info.map(|i| i.profile.clone()),
            "level": info.map(|i| i.level.clone()),
            "width": info.map(|i| i.dimensions.width()),
            "height": info.map(|i| i.dimensions.height()),
            "coded_width": info.map(|i| i.dimensions.coded_width),
            "coded_height": info.map(|i| i.dimensions.coded_height),
            "bit_depth": info.map(|i| i.bit_depth_luma),
            "chroma_format": info.map(|i| i.chroma_format_name()),
            "interlaced": info.map(|i| i.interlaced),
            "frame_rate": info.and_then(|i| i.frame_rate).map(|r| r.as_f64()),
            "color": info.map(|i| color_json(&i.color)),
            "frames": s.frames,
            "keyframes": s.keyframes,
            "access_units": s.access_units,
            "bytes": s.bytes,
            "errors": s.errors,
            "tracks": [{
                "index": 0,
                "kind": "video",
                "codec": s.codec.name(),
                "width": info.map(|i| i.dimensions.width()),
                "height": info.map(|i| i.dimensions.height()),
                "frames": s.frames,
                "keyframes": s.keyframes,
                "frame_rate": info.and_then(|i| i.frame_rate).map(|r| r.as_f64()),
                "duration": info.and_then(|i| i.frame_rate).filter(|r| r.num > 0).map(|r| s.frames as f64 * r.den as f64 / r.num as f64),
            }],
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    println!("container:     annexb (raw elementary stream)");
    println!("codec:         {}", s.codec);
    if let Some(i) = info {
        println!("profile:       {} (level {})", i.profile, i.level);
        let d = i.dimensions;
        println!("size:          {}x{} (coded {}x{})", d.width(), d.height(), d.coded_width, d.coded_height);
        println!("bit depth:     {} ({})", i.bit_depth_luma, i.chroma_format_name());
        if i.interlaced {
            println!("interlaced:    yes (fields or MBAFF allowed)");
        }
        if let Some(r) = i.frame_rate {
            println!("frame rate:    {:.3} fps (VUI)", r.as_f64());
        }
    } else {
        println!("profile:       (no picture found)");
    }
    println!("frames:        {} ({} keyframes)", s.frames, s.keyframes);
    println!("bytes:         {}", s.bytes);
    if s.errors > 0 {
        println!("damaged parts: {}", s.errors);
    }
}
