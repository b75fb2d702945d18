//! `--metrics-addr`: the library's metrics in the Prometheus text format over HTTP while
//! a job runs.
//!
//! The recorder is `metrics-exporter-prometheus` (its renderer only: no async runtime);
//! the server is a small thread on a `std` listener that answers `GET /metrics` (and
//! `GET /`) and closes each connection. It listens on loopback unless the user writes
//! another address: `9100` and `:9100` mean `127.0.0.1:9100`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use metrics::{Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::report::fallbacks::FallbackRecorder;

/// Bucket bounds of `video_hw_stage_seconds` (10 µs … 1 s).
const STAGE_BUCKETS: &[f64] = &[0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3, 1.0];
/// How often histograms are folded even when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Parses `--metrics-addr`: a port alone or `:port` is loopback; a host name resolves to
/// its first address (loopback first).
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let port_only = s.strip_prefix(':').unwrap_or(s);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("metrics address '{s}': {e} (give host:port, or a port for 127.0.0.1)"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.ip().is_loopback())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("metrics address '{s}' resolves to nothing"))
}

/// The Prometheus recorder with the library's bucket layout, and its handle.
pub fn recorder() -> (PrometheusRecorder, PrometheusHandle) {
    let builder = PrometheusBuilder::new();
    let builder = match builder
        .set_buckets_for_metric(Matcher::Full(video_hw::metrics::STAGE_SECONDS.to_string()), STAGE_BUCKETS)
    {
        Ok(b) => b,
        // Only an empty bucket list is refused; ours is not.
        Err(_) => PrometheusBuilder::new(),
    };
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// Everything `--metrics-addr` keeps alive while the job runs: the endpoint and, where
/// NVML is present, the GPU utilisation sampler.
pub struct Served {
    server: MetricsServer,
    _sampler: Option<video_hw::metrics::GpuSampler>,
}

impl Served {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }
}

/// Installs the Prometheus recorder (alongside the summary's fallback counter) for the
/// process, starts the endpoint on `addr` and samples GPU `device`'s utilisation.
pub fn serve(addr: SocketAddr, device: u32) -> std::io::Result<Served> {
    let (prometheus, handle) = recorder();
    let server = MetricsServer::start(addr, handle)?;
    metrics::set_global_recorder(Fanout { prometheus, fallbacks: FallbackRecorder })
        .map_err(|e| std::io::Error::other(format!("metrics recorder: {e}")))?;
    video_hw::metrics::describe();
    let sampler = video_hw::metrics::GpuSampler::start(device, Duration::from_secs(1));
    Ok(Served { server, _sampler: sampler })
}

/// Sends every metric to Prometheus, and the fallback counter to the summary's recorder too.
struct Fanout {
    prometheus: PrometheusRecorder,
    fallbacks: FallbackRecorder,
}

/// One counter feeding two recorders.
struct Both(Counter, Counter);

impl CounterFn for Both {
    fn increment(&self, value: u64) {
        self.0.increment(value);
        self.1.increment(value);
    }

    fn absolute(&self, value: u64) {
        self.0.absolute(value);
        self.1.absolute(value);
    }
}

impl Recorder for Fanout {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.prometheus.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.prometheus.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.prometheus.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        let counter = self.prometheus.register_counter(key, metadata);
        if key.name() == video_hw::metrics::FALLBACK_TOTAL {
            let kept = self.fallbacks.register_counter(key, metadata);
            return Counter::from_arc(Arc::new(Both(counter, kept)));
        }
        counter
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.prometheus.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.prometheus.register_histogram(key, metadata)
    }
}

/// The HTTP endpoint; stops and joins its thread when dropped.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Listens on `addr` and serves `handle`'s rendering.
    pub fn start(addr: SocketAddr, handle: PrometheusHandle) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new().name("video-hw-metrics".into()).spawn(move || {
            let mut last_upkeep = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = answer(stream, &handle);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => {
                        tracing::debug!("metrics endpoint: accept failed: {e}");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                if last_upkeep.elapsed() >= UPKEEP {
                    handle.run_upkeep();
                    last_upkeep = Instant::now();
                }
            }
        })?;
        Ok(MetricsServer { addr, stop, thread: Some(thread) })
    }

    /// The address it listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one request and closes the connection.
fn answer(mut stream: TcpStream, handle: &PrometheusHandle) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e),
        }
    }
    let line = String::from_utf8_lossy(&request);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, content_type, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET" | "HEAD", "/metrics" | "/") => {
            handle.run_upkeep();
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8", handle.render())
        }
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain; charset=utf-8", "not found: try /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "GET /metrics\n".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_loopback() {
        assert_eq!(parse_addr("9100").unwrap(), "127.0.0.1:9100".parse().unwrap());
        assert_eq!(parse_addr(":9100").unwrap(), "127.0.0.1:9100".parse().unwrap());
        assert_eq!(parse_addr("127.0.0.1:0").unwrap().port(), 0);
        assert_eq!(parse_addr("0.0.0.0:9100").unwrap(), "0.0.0.0:9100".parse().unwrap());
        assert_eq!(parse_addr("[::1]:9100").unwrap(), "[::1]:9100".parse().unwrap());
        assert!(parse_addr("localhost:9100").unwrap().ip().is_loopback());
        assert!(parse_addr("no such host!:x").is_err());
    }

    #[test]
    fn serves_the_rendering_and_stops() {
        let (recorder, handle) = recorder();
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("video_hw_frames_total", "direction" => "decode").increment(3);
        });
        let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), handle).unwrap();
        let addr = server.local_addr();
        let get = |path: &str| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let page = get("/metrics");
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("video_hw_frames_total{direction=\"decode\"} 3"), "{page}");
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        drop(server);
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    }
}
