//! Pictures to encode: a Y4M file, a headerless raw file (size, rate and pixel format
//! from the options), or the synthetic pattern. `-` reads standard input.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use video_hw::frame::HostFrame;
use video_hw::{Error, Frame, PixelFormat, Rational, Result};

use crate::exit::{CliResult, usage};
use crate::io::net::{LiveInput, LiveOpts};
use crate::io::synthetic;
use crate::io::y4m::Y4mReader;

/// Where pictures come from.
enum Kind {
    Y4m(Y4mReader<Box<dyn BufRead + Send>>),
    Raw(Box<dyn BufRead + Send>),
    Synthetic,
}

/// A source of pictures of one size, rate and format.
pub struct FrameSource {
    kind: Kind,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Frame rate.
    pub fps: Rational,
    /// Pixel format of the pictures.
    pub format: PixelFormat,
    /// Number of pictures, when known in advance.
    pub total: Option<u64>,
    read: u64,
    buf: Vec<u8>,
    /// A network input, when the pictures come from one (`--reconnect` takes the next
    /// sender from it).
    live: Option<LiveInput>,
    /// Senders that connected so far (1 for a network input that never reconnected).
    senders: u64,
}

/// What the options say about the input.
pub struct FrameSourceSpec<'a> {
    /// The input file (`-` for stdin); `None` with `synthetic`.
    pub path: Option<&'a Path>,
    /// `--synthetic N`.
    pub synthetic: Option<u64>,
    /// `--size`.
    pub size: Option<(u32, u32)>,
    /// `--fps`.
    pub fps: Option<Rational>,
    /// `--pix-fmt` (raw input).
    pub format: Option<PixelFormat>,
    /// `--reconnect` (network input only), `--timeout` (network input and stdin).
    pub live: LiveOpts,
}

impl FrameSource {
    /// Opens the input the options describe.
    pub fn open(spec: &FrameSourceSpec<'_>) -> CliResult<Self> {
        let fps = spec.fps;
        if let Some(n) = spec.synthetic {
            if spec.format.is_some() {
                return Err(usage("--pix-fmt describes raw input; the synthetic pattern is yuv420p"));
            }
            let (width, height) = spec.size.unwrap_or((640, 360));
            return Ok(Self::new(
                Kind::Synthetic,
                width,
                height,
                fps.unwrap_or(Rational::new(30, 1)),
                PixelFormat::Yuv420p,
                Some(n),
            ));
        }
        let path = spec.path.ok_or_else(|| usage("give an input file or --synthetic N"))?;
        let mut live = None;
        let (mut reader, len): (Box<dyn BufRead + Send>, Option<u64>) = if path.as_os_str() == "-" {
            // With --timeout a sender silent that long ends the input as a network one.
            let stdin = crate::io::stdin::open(spec.live.timeout).map_err(Error::from)?;
            (Box::new(BufReader::with_capacity(1 << 20, stdin)), None)
        } else if let Some((input, stream)) = crate::io::net::open(path, spec.live)? {
            live = Some(input);
            (Box::new(BufReader::with_capacity(1 << 20, stream)), None)
        } else {
            let file = crate::exit::open_input(path)?;
            let len = file.metadata().ok().map(|m| m.len());
            (Box::new(BufReader::with_capacity(1 << 20, file)), len)
        };
        let is_y4m = reader.fill_buf()?.starts_with(b"YUV4MPEG2");
        let named_y4m = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("y4m"));
        if named_y4m && !is_y4m {
            return Err(Error::invalid_input(format!("{}: not a YUV4MPEG2 file", path.display())).into());
        }
        if is_y4m {
            if spec.size.is_some() || spec.format.is_some() {
                return Err(usage("a y4m input carries its own size and pixel format (drop --size/--pix-fmt)"));
            }
            let y4m = Y4mReader::open(reader)?;
            let h = y4m.header;
            let total = len.map(|l| l / (y4m.frame_size() as u64 + 6).max(1));
            let src = Self::new(Kind::Y4m(y4m), h.width, h.height, fps.unwrap_or(h.fps), h.format, total);
            return Ok(src.with_live(live));
        }
        let (Some((width, height)), Some(fps)) = (spec.size, fps) else {
            return Err(usage(format!("raw input {} needs --size WxH and --fps N", path.display())));
        };
        let format = spec.format.unwrap_or(PixelFormat::Yuv420p);
        let frame = format.frame_size(width, height) as u64;
        let mut total = None;
        if let Some(len) = len {
            if len == 0 || len % frame != 0 {
                return Err(Error::invalid_input(format!(
                    "{}: {len} bytes is not a whole number of {width}x{height} {format} frames ({frame} bytes each)",
                    path.display()
                ))
                .into());
            }
            total = Some(len / frame);
        }
        Ok(Self::new(Kind::Raw(reader), width, height, fps, format, total).with_live(live))
    }

    fn new(kind: Kind, width: u32, height: u32, fps: Rational, format: PixelFormat, total: Option<u64>) -> Self {
        FrameSource { kind, width, height, fps, format, total, read: 0, buf: Vec::new(), live: None, senders: 0 }
    }

    fn with_live(mut self, live: Option<LiveInput>) -> Self {
        self.senders = u64::from(live.is_some());
        self.live = live;
        self
    }

    /// Senders of a network input that connected so far (0 for other inputs).
    pub fn senders(&self) -> u64 {
        self.senders
    }

    /// The next picture, or `None` at the end of the input.
    ///
    /// With `--reconnect`, the end of a sender's stream (it closed, dropped, stalled past
    /// `--timeout`, or broke off inside a frame, which is dropped) is followed by the next
    /// sender's frames, in the same size and format; the input ends only at a signal, or
    /// when no sender comes within `--timeout`.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        loop {
            let got = self.read_frame();
            let reconnect = self.live.as_ref().is_some_and(|l| l.opts.reconnect);
            if !reconnect || matches!(got, Ok(Some(_))) {
                return match got {
                    Ok(None) if self.read == 0 => Err(Error::invalid_input("the input holds no frames")),
                    other => other,
                };
            }
            let why = match &got {
                Ok(_) => "closed the connection".to_string(),
                // The system's words alone: this is a log line, not the job's error.
                Err(Error::Io(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            let Some(live) = self.live.as_mut() else { return got };
            tracing::warn!(
                "{}: sender {} gone after frame {} ({why}); waiting for the next (--reconnect)",
                live.name,
                self.senders,
                self.read
            );
            loop {
                let Some(live) = self.live.as_mut() else { return got };
                let Some(stream) = live.next_sender()? else { return Ok(None) };
                self.senders += 1;
                if self.restart(Box::new(BufReader::with_capacity(1 << 20, stream)))? {
                    break;
                }
            }
            if let Some(live) = &self.live {
                tracing::warn!(
                    "{}: sender {} connected; its frames follow frame {}",
                    live.name,
                    self.senders,
                    self.read
                );
            }
        }
    }

    /// Reads a new sender's stream: a Y4M header like the first one's, or raw frames.
    /// False when the sender went (or stalled) before it sent its header: take the next.
    fn restart(&mut self, mut reader: Box<dyn BufRead + Send>) -> Result<bool> {
        let name = self.live.as_ref().map_or(String::new(), |l| l.name.clone());
        let gone = |why: &dyn std::fmt::Display| {
            tracing::warn!("{name}: a sender went before its first frame ({why}); waiting for the next");
            Ok(false)
        };
        self.kind = match &self.kind {
            Kind::Y4m(_) => {
                match reader.fill_buf() {
                    Ok([]) => return gone(&"it closed the connection"),
                    Ok(head) if !head.starts_with(b"YUV4MPEG2") => {
                        return Err(Error::invalid_input(format!("{name}: the new sender's stream is not YUV4MPEG2")));
                    }
                    Ok(_) => {}
                    Err(e) => return gone(&e),
                }
                let y4m = match Y4mReader::open(reader) {
                    Ok(y4m) => y4m,
                    // Cut short, or silent past --timeout, inside the header.
                    Err(Error::Io(e)) => return gone(&e),
                    Err(e) => return Err(e),
                };
                let h = y4m.header;
                if (h.width, h.height, h.format) != (self.width, self.height, self.format) {
                    return Err(Error::unsupported(
                        format!(
                            "{name}: a new sender with {}x{} {} pictures after {}x{} {}",
                            h.width, h.height, h.format, self.width, self.height, self.format
                        ),
                        "a reconnected sender must send the first one's size and format",
                    ));
                }
                Kind::Y4m(y4m)
            }
            Kind::Raw(_) => Kind::Raw(reader),
            Kind::Synthetic => return Ok(true),
        };
        Ok(true)
    }

    /// The next picture of the current stream, `None` at its end.
    fn read_frame(&mut self) -> Result<Option<Frame>> {
        let (w, h, format) = (self.width, self.height, self.format);
        let more = match &mut self.kind {
            Kind::Synthetic => {
                if Some(self.read) == self.total {
                    return Ok(None);
                }
                self.read += 1;
                return Ok(Some(synthetic::frame(w, h, self.read - 1)));
            }
            Kind::Y4m(r) => r.read_frame(&mut self.buf)?,
            Kind::Raw(r) => {
                let size = format.frame_size(w, h);
                self.buf.clear();
                let n = r.take(size as u64).read_to_end(&mut self.buf)?;
                if n != 0 && n != size {
                    return Err(Error::invalid_input(format!(
                        "raw input ends inside frame {}: {n} of {size} bytes ({w}x{h} {format})",
                        self.read
                    )));
                }
                n == size
            }
        };
        if !more {
            return Ok(None);
        }
        self.read += 1;
        let pixels = HostFrame::from_packed(format, w, h, std::mem::take(&mut self.buf))?;
        Ok(Some(Frame::host(format, w, h, pixels)))
    }
}

/// Pictures read on a thread of their own, one ahead: the job's thread waits for the
/// next with a timeout, so that SIGINT/SIGTERM end a job whose live input sends nothing
/// (a read that blocks cannot be interrupted) with its output finished all the same.
pub struct FramesAhead {
    rx: std::sync::mpsc::Receiver<(Result<Option<Frame>>, u64)>,
    read: u64,
    sender: u64,
}

impl FramesAhead {
    /// Reads `src` on a thread until its end, its first error, or until this is dropped.
    pub fn spawn(mut src: FrameSource) -> Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let sender = src.senders();
        std::thread::Builder::new().name("encode-input".into()).spawn(move || {
            loop {
                let next = src.next_frame();
                let last = !matches!(next, Ok(Some(_)));
                if tx.send((next, src.senders())).is_err() || last {
                    return;
                }
            }
        })?;
        Ok(FramesAhead { rx, read: 0, sender })
    }

    /// The next picture (or the end of the input, or why it broke), waiting at most
    /// `wait`; `None` when nothing came meanwhile (ask again, or stop). A reader thread gone
    /// without a word (it cannot be: it sends its end) reads as the end.
    pub fn next(&mut self, wait: std::time::Duration) -> Option<Result<Option<Frame>>> {
        use std::sync::mpsc::RecvTimeoutError;
        match self.rx.recv_timeout(wait) {
            Ok((next, sender)) => {
                self.read += u64::from(matches!(next, Ok(Some(_))));
                self.sender = sender;
                Some(next)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Ok(None)),
        }
    }

    /// Pictures received so far.
    pub fn frames_read(&self) -> u64 {
        self.read
    }

    /// Which sender of a network input the last picture came from (1 for the first; 0
    /// for other inputs): it grows by one at each reconnect.
    pub fn sender(&self) -> u64 {
        self.sender
    }
}
