//! `--stats`: a table of the pipelines' figures at the end of a job, on stderr: frames,
//! fps, queue depth and peak, waits, frame interval and jitter, bytes copied between host
//! and device, and per stage the calls, total, mean, p50, p95, p99 and max.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use video_hw::pipeline::PipelineStats;

static ON: AtomicBool = AtomicBool::new(false);

/// Asks for the table (`--stats`).
pub fn enable() {
    ON.store(true, Ordering::SeqCst);
}

/// Prints one table per pipeline when `--stats` was given.
pub fn emit(pipelines: &[(&str, &PipelineStats)]) {
    if !ON.load(Ordering::SeqCst) {
        return;
    }
    for (name, stats) in pipelines {
        eprint!("{}", render(name, stats));
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The table of one pipeline.
pub fn render(name: &str, s: &PipelineStats) -> String {
    let q = &s.queue;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "video-hw: stats: {name} ({}): {} frames in {:.2} s ({:.1} fps)",
        if s.backend.is_empty() { "not opened" } else { &s.backend },
        s.frames,
        s.elapsed.as_secs_f64(),
        s.fps
    );
    let _ = writeln!(
        out,
        "  queue: {} deep, peak {}, {} buffers ({}), {} allocations; producer waited {}x ({:.1} ms), consumer {}x ({:.1} ms)",
        q.capacity,
        q.peak,
        q.slots,
        match q.device {
            Some(gpu) => format!("device memory of GPU {gpu}, {} frames copied in", q.adopted),
            None if q.pinned => "page-locked".to_string(),
            None => "pageable".to_string(),
        },
        q.allocations,
        q.producer_waits,
        ms(q.producer_wait),
        q.consumer_waits,
        ms(q.consumer_wait)
    );
    let i = &s.interval;
    let _ = writeln!(
        out,
        "  frame interval: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; jitter {:.3} ms",
        ms(i.percentile(0.5)),
        ms(i.percentile(0.95)),
        ms(i.percentile(0.99)),
        ms(i.max()),
        ms(s.jitter)
    );
    let _ = writeln!(
        out,
        "  copied: host->device {} bytes, device->host {} bytes",
        s.timings.bytes_h2d, s.timings.bytes_d2h
    );
    let _ = writeln!(
        out,
        "  {:<9} {:>8} {:>11} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "stage", "calls", "total ms", "mean us", "p50 us", "p95 us", "p99 us", "max us"
    );
    for st in &s.timings.stages {
        let _ = writeln!(
            out,
            "  {:<9} {:>8} {:>11.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            st.stage.name(),
            st.count,
            ms(st.total),
            us(st.mean),
            us(st.p50),
            us(st.p95),
            us(st.p99),
            us(st.max)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_part() {
        let text = render("decode", &PipelineStats::default());
        for part in ["stats: decode (not opened)", "queue:", "frame interval:", "copied:", "p99 us"] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let mut device = PipelineStats::default();
        (device.queue.device, device.queue.adopted) = (Some(1), 3);
        assert!(render("decode", &device).contains("device memory of GPU 1, 3 frames copied in"));
    }
}
