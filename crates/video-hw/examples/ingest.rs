//! A live ingest server on the pipelines' async handles: it accepts any number of
//! senders at once, each streaming Y4M (4:2:0) over TCP, encodes each with its own encoder
//! (the registry's choice; a fallback is logged) and writes one fragmented MP4 per sender,
//! playable while it grows and closed properly when the sender leaves, mid-frame or not.
//!
//! ```sh
//! cargo run --release -p video-hw --example ingest -- 127.0.0.1:9000 /tmp/ingest
//! ffmpeg -re -f lavfi -i testsrc2=size=640x360:rate=30 -t 10 -f yuv4mpegpipe tcp://127.0.0.1:9000
//! ```
//!
//! Per sender: a task reads frames (awaiting the socket) and sends them into an
//! `EncodePipeline`'s frame sink (awaiting its backpressure); a second task takes the packets and hands
//! them to a muxer thread (file writes block, so they stay off the runtime).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use video_hw::media::mux::{MuxFormat, Muxer};
use video_hw::media::{MediaPacket, Track};
use video_hw::pipeline::{EncodePipeline, PipelineOptions, Shutdown};
use video_hw::{Codec, EncoderConfig, Error, Frame, FrameOptions, HostFrame, PixelFormat, Rational, Result};

/// What one sender's stream declares (its Y4M header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    width: u32,
    height: u32,
    fps: Rational,
}

/// Parses a Y4M stream header (`YUV4MPEG2 W.. H.. F..:.. …`; 4:2:0 only).
fn parse_header(line: &str) -> Result<Header> {
    let mut fields = line.trim_end().split(' ');
    if fields.next() != Some("YUV4MPEG2") {
        return Err(Error::invalid_input("not a YUV4MPEG2 stream"));
    }
    let (mut width, mut height, mut fps) = (0, 0, Rational::new(30, 1));
    for f in fields {
        let (key, value) = f.split_at(f.len().min(1));
        match key {
            "W" => width = value.parse().map_err(|_| Error::invalid_input(format!("y4m width '{value}'")))?,
            "H" => height = value.parse().map_err(|_| Error::invalid_input(format!("y4m height '{value}'")))?,
            "F" => {
                let (n, d) = value.split_once(':').ok_or_else(|| Error::invalid_input("y4m frame rate"))?;
                let (n, d): (i64, i64) = (n.parse().unwrap_or(0), d.parse().unwrap_or(0));
                if n <= 0 || d <= 0 {
                    return Err(Error::invalid_input(format!("y4m frame rate '{value}'")));
                }
                fps = Rational::new(n, d);
            }
            "C" if !value.starts_with("420") => {
                return Err(Error::invalid_input(format!("y4m colour space C{value}: 4:2:0 only")));
            }
            _ => {}
        }
    }
    if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 || width > 8192 || height > 8192 {
        return Err(Error::invalid_input(format!("y4m size {width}x{height}")));
    }
    Ok(Header { width, height, fps })
}

/// Serves senders on `listener` until the task is dropped, one fragmented MP4 per sender in
/// `dir` (`sender-N.mp4`). Each sender's outcome (frames written, or the error that ended
/// it, with what was written kept playable) goes to `done`.
async fn serve(listener: TcpListener, dir: PathBuf, done: tokio::sync::mpsc::UnboundedSender<(PathBuf, Result<u64>)>) {
    let next = Arc::new(AtomicU64::new(0));
    loop {
        let Ok((socket, peer)) = listener.accept().await else { continue };
        let path = dir.join(format!("sender-{}.mp4", next.fetch_add(1, Ordering::SeqCst)));
        let done = done.clone();
        tokio::spawn(async move {
            eprintln!("ingest: {peer} -> {}", path.display());
            let outcome = ingest(socket, &path).await;
            match &outcome {
                Ok(n) => eprintln!("ingest: {peer}: {n} frames in {}", path.display()),
                Err(e) => eprintln!("ingest: {peer}: {e} (what came before is in {})", path.display()),
            }
            let _ = done.send((path, outcome));
        });
    }
}

/// One sender: Y4M in, a fragmented MP4 out.
async fn ingest(socket: TcpStream, path: &Path) -> Result<u64> {
    let mut reader = BufReader::with_capacity(1 << 20, socket);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    let header = parse_header(&String::from_utf8_lossy(&line))?;
    let (w, h) = (header.width, header.height);
    // Frames are stamped in 90 kHz ticks: any frame rate gives whole numbers of them.
    let timebase = Rational::MPEG_90K;
    let mut config = EncoderConfig::new(Codec::H264, w, h);
    config.fps = header.fps;
    config.timebase = timebase;
    // Opening an engine blocks (a driver, a library): off the runtime's threads.
    let options = PipelineOptions::default().queue_depth(8);
    let pipeline = tokio::task::spawn_blocking(move || EncodePipeline::open(config, options))
        .await
        .map_err(|e| Error::invalid_input(format!("encoder task: {e}")))??;
    eprintln!("ingest: {}: {}x{} at {} fps on {}", path.display(), w, h, header.fps, pipeline.backend());
    let (mut frames_in, mut packets_out) = (pipeline.frame_sink(), pipeline.packet_stream()?);

    // The muxer on a thread of its own: file writes block.
    let mut track = Track::video(0, Codec::H264, timebase, w, h);
    track.frame_rate = Some(header.fps);
    let file = std::fs::File::create(path)?;
    let muxer = Muxer::streaming(Box::new(std::io::BufWriter::new(file)), MuxFormat::FragmentedMp4, &[track])?;
    let (to_muxer, muxer_in) = mpsc::channel::<MediaPacket>();
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut muxer = muxer;
        for p in muxer_in {
            muxer.write(p)?;
        }
        muxer.finish().map(|_| ())
    });
    let packets = async move {
        while let Some(p) = packets_out.next().await {
            let p = p?;
            if to_muxer.send(MediaPacket::new(0, p.data, p.pts, p.dts, p.keyframe)).is_err() {
                break;
            }
        }
        Ok::<(), Error>(())
    };

    let frame_bytes = (w * h * 3 / 2) as usize;
    let frames = async move {
        let mut count = 0u64;
        let mut marker = Vec::new();
        let read = async {
            loop {
                marker.clear();
                if reader.read_until(b'\n', &mut marker).await? == 0 {
                    return Ok::<Option<Error>, Error>(None);
                }
                if !marker.starts_with(b"FRAME") {
                    return Ok(Some(Error::invalid_input(format!("frame {count}: no FRAME marker"))));
                }
                let mut data = vec![0u8; frame_bytes];
                if let Err(e) = reader.read_exact(&mut data).await {
                    return Ok(Some(Error::invalid_input(format!("frame {count}: the sender left mid-frame ({e})"))));
                }
                let mut frame =
                    Frame::host(PixelFormat::Yuv420p, w, h, HostFrame::from_packed(PixelFormat::Yuv420p, w, h, data)?);
                frame.pts = Some(count as i64 * 90_000 * header.fps.den / header.fps.num);
                // `pts: None` takes the frame's.
                frames_in.send((frame, FrameOptions::default())).await?;
                count += 1;
            }
        };
        let broken = read.await;
        // Always, whatever the reading met: drains the encoder, whose last packets come
        // out, then the packet stream ends (dropping the sink would not end the input).
        frames_in.close().await?;
        Ok::<_, Error>((count, broken?))
    };
    let (read, written) = futures::future::join(frames, packets).await;
    let (count, broken) = read?;
    written?;
    // Both streams have ended, so the worker has (joining it blocks: off the runtime).
    tokio::task::spawn_blocking(move || pipeline.shutdown(Shutdown::Drain))
        .await
        .map_err(|e| Error::invalid_input(format!("encoder task: {e}")))??;
    tokio::task::spawn_blocking(move || writer.join())
        .await
        .map_err(|e| Error::invalid_input(format!("muxer task: {e}")))?
        .map_err(|_| Error::invalid_input("the muxer thread panicked"))??;
    match broken {
        Some(e) => Err(e),
        None => Ok(count),
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9000".into());
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "ingest-out".into()));
    std::fs::create_dir_all(&dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!("ingest: listening on {}, writing to {}", listener.local_addr()?, dir.display());
        let (done, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(serve(listener, dir, done));
        while outcomes.recv().await.is_some() {}
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
    use video_hw::media::{Demuxer, FrameIndex};

    use super::*;

    fn y4m(n: usize, seed: u8) -> (Vec<u8>, Vec<usize>) {
        let (w, h) = (96usize, 64usize);
        let mut out = format!("YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
        let mut starts = Vec::new();
        for i in 0..n {
            starts.push(out.len());
            out.extend_from_slice(b"FRAME\n");
            out.extend((0..w * h).map(|p| ((p % w) * 2 + i * 5 + seed as usize) as u8));
            out.extend(std::iter::repeat_n(128u8, w * h / 2));
        }
        (out, starts)
    }

    fn frames_of(path: &Path) -> usize {
        let mut d = Demuxer::open(path).unwrap();
        let t = d.video_track().unwrap().index;
        FrameIndex::build(&mut d, t).unwrap().len()
    }

    #[test]
    fn three_senders_at_once_each_get_a_playable_file() {
        let dir = std::env::temp_dir().join(format!("video-hw-ingest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let mut results = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (done, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
            let server = tokio::spawn(serve(listener, dir.clone(), done));
            // Three senders in bursts; the third leaves in the middle of its 8th frame.
            let mut senders = Vec::new();
            for k in 0..3u8 {
                senders.push(tokio::spawn(async move {
                    let (data, starts) = y4m(20, k * 40);
                    let end = if k == 2 { starts[7] + 1000 } else { data.len() };
                    let mut socket = TcpStream::connect(addr).await.unwrap();
                    for (i, chunk) in data[..end].chunks(7_000).enumerate() {
                        socket.write_all(chunk).await.unwrap();
                        tokio::time::sleep(Duration::from_millis((i as u64 * 7 + k as u64 * 3) % 25)).await;
                    }
                }));
            }
            for s in senders {
                s.await.unwrap();
            }
            let mut results = Vec::new();
            for _ in 0..3 {
                results.push(outcomes.recv().await.unwrap());
            }
            server.abort();
            results
        });
        results.sort_by_key(|(_, r)| r.as_ref().map_or(0, |n| *n));
        let (cut_path, cut) = &results[0];
        assert!(matches!(cut, Err(Error::InvalidInput(m)) if m.contains("mid-frame")), "{cut:?}");
        // What came before the cut is a playable file with those frames.
        assert_eq!(frames_of(cut_path), 7);
        for (path, r) in &results[1..] {
            assert_eq!(r.as_ref().ok(), Some(&20), "{}", path.display());
            assert_eq!(frames_of(path), 20, "{}", path.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn headers() {
        assert!(parse_header("YUV4MPEG2 W640 H360 F30000:1001 Ip C420jpeg\n").is_ok());
        assert!(parse_header("YUV4MPEG2 W640 H360 F30:1 C444\n").is_err());
        assert!(parse_header("YUV4MPEG2 W0 H360\n").is_err());
        assert!(parse_header("RIFF").is_err());
    }
}
