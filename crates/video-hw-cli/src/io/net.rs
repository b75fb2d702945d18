//! Live input from the network for `encode`: `tcp://HOST:PORT` connects to a sender,
//! `tcp-listen://HOST:PORT` accepts one. The stream is then read like stdin (Y4M, or raw
//! frames with `--size`/`--fps`); the sender closing the connection ends the input.
//!
//! `--timeout SECONDS` bounds every silence: a read that gets no byte for that long fails
//! with a [`ErrorKind::TimedOut`] error (exit 7), and so does a wait for a sender. With
//! `--reconnect` a sender that goes (closes, drops, stalls) is followed by the next one:
//! `tcp-listen://` accepts it, `tcp://` connects again with a bounded backoff. Every wait
//! here is a poll in short sleeps that looks at SIGINT/SIGTERM between them, so a stop is
//! seen within [`MAX_NAP`] whatever the sender does.

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use video_hw::{Error, Result};

use crate::exit::{CliResult, usage};

/// The longest sleep between two looks for a sender (and at the signals).
const MAX_NAP: Duration = Duration::from_millis(50);
/// The first and the longest pause between two connection attempts of `tcp://`.
const FIRST_RETRY: Duration = Duration::from_millis(50);
const MAX_RETRY: Duration = Duration::from_secs(2);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What the options say about a live input.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveOpts {
    /// `--reconnect`: a sender that goes is followed by the next one.
    pub reconnect: bool,
    /// `--timeout`: the longest silence (no byte, no sender) before the input ends.
    pub timeout: Option<Duration>,
}

/// Where senders come from.
enum Endpoint {
    Connect(String),
    Listen(TcpListener),
}

/// A network input and how to get its next sender.
pub struct LiveInput {
    endpoint: Endpoint,
    /// The input as given (`tcp://…`), for messages.
    pub name: String,
    /// The options.
    pub opts: LiveOpts,
}

/// A sender's stream whose reads fail with a clear [`ErrorKind::TimedOut`] error after
/// `--timeout` without a byte.
pub struct SenderStream {
    stream: TcpStream,
    name: String,
    timeout: Option<Duration>,
}

impl Read for SenderStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.stream.read(buf) {
            // A socket read timeout reads as WouldBlock on Unix, TimedOut on Windows.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(stalled(
                &self.name,
                &format!("no byte from the sender for {} s", secs(self.timeout.unwrap_or_default())),
            )),
            other => other,
        }
    }
}

/// The error of an input that went silent: kind `TimedOut` (exit 7).
fn stalled(name: &str, what: &str) -> std::io::Error {
    std::io::Error::new(ErrorKind::TimedOut, format!("{name}: {what} (--timeout)"))
}

fn secs(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

/// The connection `path` names and its first sender, or `None` when it is not a network
/// address.
pub fn open(path: &Path, opts: LiveOpts) -> CliResult<Option<(LiveInput, SenderStream)>> {
    let Some(text) = path.to_str() else { return Ok(None) };
    let endpoint = if let Some(addr) = text.strip_prefix("tcp://") {
        check(addr)?;
        // The first connection is tried once: an address nobody serves is a mistake to
        // report, not to wait out (unless --reconnect says senders come and go).
        if !opts.reconnect {
            let stream = TcpStream::connect(addr)
                .map_err(|e| Error::from(std::io::Error::new(e.kind(), format!("cannot connect to {addr}: {e}"))))?;
            let live = LiveInput { endpoint: Endpoint::Connect(addr.into()), name: text.into(), opts };
            let stream = live.prepare(stream)?;
            return Ok(Some((live, stream)));
        }
        Endpoint::Connect(addr.into())
    } else if let Some(addr) = text.strip_prefix("tcp-listen://") {
        check(addr)?;
        let listener = TcpListener::bind(addr)
            .map_err(|e| Error::from(std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))))?;
        // Polled (see the module docs): a blocking accept would hold a stop.
        listener.set_nonblocking(true).map_err(Error::from)?;
        tracing::info!("waiting for a sender on {}", listener.local_addr().map_or(addr.to_string(), |a| a.to_string()));
        Endpoint::Listen(listener)
    } else {
        return Ok(None);
    };
    let mut live = LiveInput { endpoint, name: text.into(), opts };
    match live.next_sender()? {
        Some(stream) => Ok(Some((live, stream))),
        None => Err(Error::Closed(format!("{text}: stopped before a sender came")).into()),
    }
}

impl LiveInput {
    /// The next sender: `None` when SIGINT/SIGTERM came meanwhile; an error of kind
    /// `TimedOut` when none came within `--timeout`.
    pub fn next_sender(&mut self) -> Result<Option<SenderStream>> {
        let started = Instant::now();
        let mut nap = Duration::from_millis(5);
        let mut retry_at = started;
        let mut retry = FIRST_RETRY;
        let mut last_error = None;
        loop {
            if crate::signals::requested().is_some() {
                return Ok(None);
            }
            if let Some(limit) = self.opts.timeout
                && started.elapsed() >= limit
            {
                let why = last_error.map(|e| format!(" (last try: {e})")).unwrap_or_default();
                return Err(stalled(&self.name, &format!("no sender within {} s{why}", secs(limit))).into());
            }
            let got = match &self.endpoint {
                Endpoint::Listen(listener) => match listener.accept() {
                    Ok((stream, peer)) => Some((stream, peer)),
                    Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => None,
                    Err(e) => return Err(Error::from(std::io::Error::new(e.kind(), format!("{}: {e}", self.name)))),
                },
                Endpoint::Connect(addr) if Instant::now() >= retry_at => match connect(addr) {
                    Ok(pair) => Some(pair),
                    Err(e) => {
                        tracing::debug!("{}: cannot connect yet: {e}", self.name);
                        last_error = Some(e);
                        retry_at = Instant::now() + retry;
                        retry = (retry * 2).min(MAX_RETRY);
                        None
                    }
                },
                Endpoint::Connect(_) => None,
            };
            if let Some((stream, peer)) = got {
                tracing::info!("{}: sender {peer} connected", self.name);
                return self.prepare(stream).map(Some);
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(MAX_NAP);
        }
    }

    /// A connected stream, blocking, with `--timeout` as its read timeout.
    fn prepare(&self, stream: TcpStream) -> Result<SenderStream> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(self.opts.timeout.filter(|t| !t.is_zero()))?;
        Ok(SenderStream { stream, name: self.name.clone(), timeout: self.opts.timeout })
    }
}

/// One attempt at each address `addr` resolves to.
fn connect(addr: &str) -> std::io::Result<(TcpStream, SocketAddr)> {
    let mut last = std::io::Error::new(ErrorKind::NotFound, format!("{addr} resolves to no address"));
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok((s, a)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn check(addr: &str) -> CliResult<()> {
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(usage(format!("'{addr}': a network input is HOST:PORT"))),
    }
}
