//! The line a job ends with: frames, speed, the engines that ran, fallbacks, and the
//! damaged parts of the input that were dropped. One line on stderr, or a JSON object
//! (`--json`) on stdout — on stderr when stdout carries the output itself.

use std::time::Duration;

use serde_json::json;

use video_hw::pipeline::QualityReport;
use video_hw::pixels::quality::ssim_db;

use crate::report::fallbacks::{self, Fallback};
use crate::signals::Stop;

/// The quality figures of the summary line, as x264 prints them.
fn quality_line(q: &QualityReport) -> Vec<String> {
    let s = &q.summary;
    let mut parts = Vec::new();
    if let (Some(y), Some(u), Some(v), Some(avg), Some(global)) =
        (s.psnr_y(), s.psnr_u(), s.psnr_v(), s.psnr_avg(), s.psnr_global())
    {
        parts.push(format!("PSNR Mean Y:{y:.3} U:{u:.3} V:{v:.3} Avg:{avg:.3} Global:{global:.3}"));
    }
    if let Some(ssim) = s.ssim_y() {
        parts.push(format!("SSIM Mean Y:{ssim:.7} ({:.3}db)", ssim_db(ssim)));
    }
    if q.unmatched > 0 || q.note.is_some() || s.frames == 0 {
        let why = q.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default();
        parts.push(format!("{} frame(s) measured, {} not{why}", s.frames, q.unmatched));
    }
    parts
}

/// The quality figures in `--json`.
fn quality_json(q: &QualityReport) -> serde_json::Value {
    let s = &q.summary;
    json!({
        "frames": s.frames,
        "unmatched": q.unmatched,
        "note": q.note,
        "psnr": {"y": s.psnr_y(), "u": s.psnr_u(), "v": s.psnr_v(), "avg": s.psnr_avg(), "global": s.psnr_global()},
        "ssim": s.ssim_y().map(|y| json!({"y": y, "db": ssim_db(y)})),
    })
}

/// What a job did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// "decode", "encode" or "transcode".
    pub job: &'static str,
    /// The input (a path, `-`, or "synthetic").
    pub input: String,
    /// The output path (`-` for stdout).
    pub output: String,
    /// Input codec (decode, transcode).
    pub codec_in: Option<String>,
    /// Output codec (encode, transcode).
    pub codec_out: Option<String>,
    /// Picture size.
    pub size: Option<(u32, u32)>,
    /// Frames written (decode) or encoded.
    pub frames: u64,
    /// Wall time of the job.
    pub elapsed: Duration,
    /// The decoder engine that ran (`Decoder::backend`).
    pub decoder: Option<String>,
    /// The encoder engine that ran (`Encoder::backend`).
    pub encoder: Option<String>,
    /// Damaged parts of the input dropped by the decoder (`DecoderStats::dropped`).
    pub dropped: u64,
    /// Pictures the decoder engine output concealed (`DecoderStats::concealed`).
    pub concealed: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Why the input stopped early or was damaged, when it was.
    pub damage: Option<String>,
    /// Senders of a network input that came after the first (`--reconnect`); `None` for
    /// other inputs.
    pub reconnects: Option<u64>,
    /// The output's quality (`--psnr`, `--ssim`).
    pub quality: Option<QualityReport>,
    /// The signal that ended the job early (its output finished all the same); filled by
    /// [`emit`](Self::emit) when one came.
    pub interrupted: Option<Stop>,
}

impl Summary {
    fn fps(&self) -> f64 {
        self.frames as f64 / self.elapsed.as_secs_f64().max(1e-6)
    }

    /// The one-line text form.
    pub fn line(&self, fallbacks: &[Fallback]) -> String {
        let verb = match self.job {
            "decode" => "decoded",
            "encode" => "encoded",
            _ => "transcoded",
        };
        let mut parts = vec![format!(
            "{verb} {} frames{} in {:.2} s ({:.1} fps)",
            self.frames,
            self.size.map(|(w, h)| format!(" of {w}x{h}")).unwrap_or_default(),
            self.elapsed.as_secs_f64(),
            self.fps()
        )];
        if let Some(d) = &self.decoder {
            parts.push(format!("decoder {d}"));
        }
        if let Some(e) = &self.encoder {
            parts.push(format!("encoder {e}"));
        }
        if fallbacks.is_empty() {
            parts.push("no fallback".into());
        } else {
            let list: Vec<String> =
                fallbacks.iter().map(|f| format!("{} -> {} ({})", f.from, f.to, f.reason)).collect();
            parts.push(format!("fallback {}", list.join(", ")));
        }
        if self.job != "encode" {
            parts.push(format!("{} damaged part(s) dropped", self.dropped));
            if self.concealed > 0 {
                parts.push(format!("{} damaged picture(s) concealed by the decoder", self.concealed));
            }
        }
        if let Some(n) = self.reconnects.filter(|&n| n > 0) {
            parts.push(format!("{n} reconnect(s)"));
        }
        parts.push(format!("{} bytes to {}", self.bytes_out, if self.output == "-" { "stdout" } else { &self.output }));
        if let Some(stop) = self.interrupted {
            parts.push(format!("interrupted by {}: {} frames written, the output finished", stop.name(), self.frames));
        }
        if let Some(q) = &self.quality {
            parts.extend(quality_line(q));
        }
        format!("video-hw: {}", parts.join("; "))
    }

    /// The JSON form.
    pub fn json(&self, fallbacks: &[Fallback]) -> serde_json::Value {
        json!({
            "job": self.job,
            "input": self.input,
            "output": self.output,
            "codec_in": self.codec_in,
            "codec_out": self.codec_out,
            "width": self.size.map(|s| s.0),
            "height": self.size.map(|s| s.1),
            "frames": self.frames,
            "seconds": self.elapsed.as_secs_f64(),
            "fps": self.fps(),
            "decoder": self.decoder,
            "encoder": self.encoder,
            "fallbacks": fallbacks.iter().map(|f| json!({"from": f.from, "to": f.to, "reason": f.reason})).collect::<Vec<_>>(),
            "dropped": self.dropped,
            "concealed": self.concealed,
            "bytes_out": self.bytes_out,
            "damage": self.damage,
            "reconnects": self.reconnects,
            "quality": self.quality.as_ref().map(quality_json),
            "interrupted": self.interrupted.map(Stop::name),
        })
    }

    /// Prints the summary: JSON with `json` (stdout, or stderr when the output is
    /// stdout), else one line on stderr unless `quiet`.
    /// A job stopped by SIGINT/SIGTERM says so.
    pub fn emit(&self, json: bool, quiet: bool) {
        let fallbacks = fallbacks::seen();
        let interrupted = Summary { interrupted: self.interrupted.or(crate::signals::requested()), ..self.clone() };
        let this = &interrupted;
        if json {
            let text = serde_json::to_string_pretty(&this.json(&fallbacks)).unwrap_or_default();
            if this.output == "-" {
                eprintln!("{text}");
            } else {
                // Not println!: a reader of stdout that is gone must not turn the end of a
                // finished job into a panic.
                use std::io::Write;
                let _ = writeln!(std::io::stdout(), "{text}");
            }
        } else if !quiet {
            eprintln!("{}", this.line(&fallbacks));
        }
    }
}
