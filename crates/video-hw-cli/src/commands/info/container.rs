//! `video-hw info` of a container: its tracks, and for the default video track (the largest) the stream
//! facts of its parameter sets and its frame index (frames, key frames), all without
//! decoding. The JSON keeps the keys of a raw stream's `info` for the default video track
//! and adds `container` and `tracks`.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};
use video_hw::media::{Demuxer, FrameIndex, Track, TrackKind};

use crate::exit;

/// What one track's index says (video tracks).
struct Counted {
    frames: usize,
    keyframes: usize,
    packets: usize,
    /// Seconds from the first frame's start to the last one's end.
    duration: Option<f64>,
    damage: Option<String>,
}

fn count(demuxer: &mut Demuxer, t: &Track) -> video_hw::Result<Counted> {
    let index = FrameIndex::build(demuxer, t.index)?;
    let duration = match (
        index.frames().iter().map(|f| f.pts).min(),
        index.frames().iter().map(|f| f.pts.saturating_add(f.duration)).max(),
    ) {
        (Some(a), Some(b)) if b > a => Some(t.seconds(b - a)),
        _ => None,
    };
    Ok(Counted {
        frames: index.len(),
        keyframes: index.keyframes(),
        packets: index.packets().len(),
        duration,
        damage: index.damage().map(str::to_string),
    })
}

/// Runs `info` on a container file.
pub fn run(path: &Path, as_json: bool) -> video_hw::Result<ExitCode> {
    let mut demuxer = Demuxer::open(path).map_err(|e| e.context(path.display()))?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let tracks: Vec<Track> = demuxer.tracks().to_vec();
    let mut counted = Vec::with_capacity(tracks.len());
    for t in &tracks {
        counted.push(if t.kind == TrackKind::Video && t.codec.video().is_some() {
            Some(count(&mut demuxer, t)?)
        } else {
            None
        });
    }
    let first_video = tracks.iter().position(|t| t.kind == TrackKind::Video && t.codec.video().is_some());
    let info = match first_video {
        Some(i) => demuxer.stream_info(i)?,
        None => None,
    };
    let damage = counted.iter().flatten().find_map(|c| c.damage.clone());
    let rate = |t: &Track| t.frame_rate.filter(|r| r.num > 0 && r.den > 0).map(|r| r.as_f64());
    let track_json: Vec<Value> = tracks
        .iter()
        .zip(&counted)
        .map(|(t, c)| {
            let mut v = json!({ "index": t.index, "kind": t.kind.name(), "codec": t.codec.name() });
            if let Some(lang) = &t.language {
                v["language"] = json!(lang);
            }
            if let Some(vi) = t.video {
                v["width"] = json!(vi.width);
                v["height"] = json!(vi.height);
                if vi.rotation != 0 {
                    v["rotation"] = json!(vi.rotation);
                }
            }
            if let Some(c) = c {
                v["frames"] = json!(c.frames);
                v["keyframes"] = json!(c.keyframes);
                v["frame_rate"] = json!(rate(t));
                v["duration"] = json!(c.duration);
            }
            if let Some(a) = t.audio {
                v["sample_rate"] = json!(a.sample_rate);
                v["channels"] = json!(a.channels);
                v["channel_layout"] = json!(a.layout.name());
                v["decoder"] = match video_hw::audio::engine_for(t) {
                    Ok(e) => json!(e.name()),
                    Err(e) => json!(format!("none: {e}")),
                };
                if let Some(g) = a.gapless {
                    v["priming"] = json!(g.priming);
                    v["padding"] = json!(g.padding);
                }
            }
            if t.kind != TrackKind::Video || c.is_none() {
                v["duration"] = json!(t.duration.map(|d| t.seconds(d)));
            }
            v
        })
        .collect();
    let video = first_video.map(|i| (&tracks[i], counted[i].as_ref()));
    if as_json {
        let i = info.as_ref();
        let v = json!({
            "container": demuxer.container().name(),
            "codec": video.map(|(t, _)| t.codec.name().to_string()),
            "profile": i.map(|i| i.profile.clone()),
            "level": i.map(|i| i.level.clone()),
            "width": i.map(|i| i.dimensions.width()).or(video.and_then(|(t, _)| t.video.map(|v| v.width))),
            "height": i.map(|i| i.dimensions.height()).or(video.and_then(|(t, _)| t.video.map(|v| v.height))),
            "coded_width": i.map(|i| i.dimensions.coded_width),
            "coded_height": i.map(|i| i.dimensions.coded_height),
            "bit_depth": i.map(|i| i.bit_depth_luma),
            "chroma_format": i.map(|i| i.chroma_format_name()),
            "interlaced": i.map(|i| i.interlaced),
            "frame_rate": video.and_then(|(t, _)| rate(t)).or(i.and_then(|i| i.frame_rate).map(|r| r.as_f64())),
            "color": i.map(|i| color_json(&i.color)),
            "frames": video.and_then(|(_, c)| c.map(|c| c.frames)),
            "keyframes": video.and_then(|(_, c)| c.map(|c| c.keyframes)),
            "access_units": video.and_then(|(_, c)| c.map(|c| c.packets)),
            "bytes": bytes,
            "errors": usize::from(damage.is_some()),
            "tracks": track_json,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!("container:     {}", demuxer.container());
        if let Some(i) = &info {
            println!("profile:       {} (level {})", i.profile, i.level);
            let d = i.dimensions;
            println!("size:          {}x{} (coded {}x{})", d.width(), d.height(), d.coded_width, d.coded_height);
            println!("bit depth:     {} ({})", i.bit_depth_luma, i.chroma_format_name());
        }
        for (t, c) in tracks.iter().zip(&counted) {
            let mut line = format!("track {}:       {} {}", t.index, t.kind.name(), t.codec);
            if let Some(v) = t.video {
                line += &format!(", {}x{}", v.width, v.height);
                if v.rotation != 0 {
                    line += &format!(", rotated {}°", v.rotation);
                }
            }
            if let Some(c) = c {
                line += &format!(", {} frames ({} keyframes)", c.frames, c.keyframes);
                if let Some(r) = rate(t) {
                    line += &format!(", {r:.3} fps");
                }
                if let Some(d) = c.duration {
                    line += &format!(", {d:.3} s");
                }
            }
            if let Some(a) = t.audio {
                line += &format!(", {} Hz, {} channel(s) ({})", a.sample_rate, a.channels, a.layout);
                line += &match video_hw::audio::engine_for(t) {
                    Ok(e) => format!(", decodes with {e}"),
                    Err(e) => format!(", decodes with nothing here ({e})"),
                };
                if let Some(g) = a.gapless {
                    line += &format!(", gapless: {} priming, {} padding samples", g.priming, g.padding);
                }
            }
            if let Some(lang) = &t.language {
                line += &format!(" [{lang}]");
            }
            println!("{line}");
        }
        println!("bytes:         {bytes}");
    }
    match damage {
        Some(e) => {
            eprintln!("video-hw: error: {} (the counts cover what lies before it)", exit::one_line(&e));
            Ok(ExitCode::from(4))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The JSON of a stream's parameter-set facts (raw streams' and containers').
pub fn color_json(c: &video_hw::ColorInfo) -> serde_json::Value {
    json!({
        "primaries": c.primaries.0,
        "transfer": c.transfer.0,
        "matrix": c.matrix.0,
        "range": if c.range == video_hw::ColorRange::Full { "full" } else { "limited" },
    })
}
