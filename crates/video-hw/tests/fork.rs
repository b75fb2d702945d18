//! Sessions across `fork` (a DataLoader worker made from a process that opened them): a
//! frame reader opened and used in the parent works in the child, exactly, with sessions of
//! its own, and goes on in the parent; a decoder or encoder used in the child is a clear
//! error; nothing the child does or drops waits on the parent's threads. Every child runs
//! under a deadline: a hang fails the test.
#![cfg(unix)]

mod common;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use common::readers::{md5, reader};
use video_hw::{
    Codec, Decoder, DecoderConfig, Encoder, EncoderConfig, Frame, FrameOptions, HostFrame, Input, Output, PixelFormat,
};

/// Runs `check` in a child made by `fork` and waits for it, at most `limit`: true when it
/// returned true. The child leaves with `_exit` (no destructors of the parent's state, no
/// return into the test harness) and prints nothing (another thread may hold a lock of the
/// standard streams at the fork).
fn in_child(limit: Duration, check: impl FnOnce() -> bool) -> bool {
    // SAFETY: fork has no preconditions. The child runs `check`, which uses only this
    // library (which is written to notice the fork) and the allocator (glibc's works after
    // a fork), then `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(AssertUnwindSafe(check)).unwrap_or(false);
        // SAFETY: ends the child at once, as it must after a fork of a threaded process.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) }
    }
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        }
        if Instant::now() > deadline {
            // SAFETY: our own child, still running.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the forked child did not finish within {limit:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const LIMIT: Duration = Duration::from_secs(90);

/// One test, run in order: forking while other tests' threads run would copy their state.
#[test]
fn sessions_across_fork() {
    reader_opened_in_the_parent_works_in_the_child();
    decoder_and_encoder_used_in_the_child_are_clear_errors();
    async_session_in_the_child_ends_with_an_error();
}

fn reader_opened_in_the_parent_works_in_the_child() {
    let path = common::repo_root().join("testdata/media/h264-aac.mp4");
    let straight: Vec<String> = reader(&path).frames_from_index(0).unwrap().map(|f| md5(&f.unwrap())).collect();
    // Two sessions: random access decodes GOPs on two threads, and sequential reading
    // decodes ahead on the kept worker threads; the parent is in the middle of that.
    let mut r = reader(&path).sessions(2);
    let some = r.frames_at(&[90, 3, 50]).unwrap();
    assert_eq!(
        some.iter().map(|f| md5(f)).collect::<Vec<_>>(),
        [straight[90].clone(), straight[3].clone(), straight[50].clone()]
    );
    let seq = r.frames_from_index(10).unwrap();
    let read: Vec<String> = seq.take(10).map(|f| md5(&f.unwrap())).collect();
    assert_eq!(read, straight[10..20]);
    let opened = r.stats().sessions;
    assert!(opened >= 1);
    let ok = in_child(LIMIT, || {
        let r = &mut r;
        // Goes on reading where the parent was, then random access, then a forward loop.
        let seq: Vec<String> = (20..40).map(|_| md5(&r.next_frame().unwrap().unwrap())).collect();
        let jumps = r.frames_at(&[99, 0, 42]).unwrap();
        let mut ok = seq == straight[20..40] && r.stats().sessions >= 1;
        ok &= jumps.iter().map(|f| md5(f)).collect::<Vec<_>>()
            == [straight[99].clone(), straight[0].clone(), straight[42].clone()];
        for (k, want) in straight.iter().enumerate().take(70).skip(60) {
            ok &= &md5(&r.frames_at(&[k]).unwrap()[0]) == want;
        }
        ok
    });
    assert!(ok, "the reader in the child gave other frames, or failed");
    // A reader the child never used, dropped there with the parent's read-ahead running.
    let mut idle = reader(&path).sessions(2);
    idle.frames_from_index(0).unwrap().next().unwrap().unwrap();
    assert!(in_child(LIMIT, move || {
        drop(idle);
        true
    }));
    // The parent goes on with its sessions.
    assert_eq!(md5(&r.next_frame().unwrap().unwrap()), straight[20]);
    assert_eq!(md5(&r.frames_at(&[77]).unwrap()[0]), straight[77]);
}

fn decoder_and_encoder_used_in_the_child_are_clear_errors() {
    let stream = std::fs::read(common::repo_root().join("testdata/h264/gop12-idr-cars-320x240.h264")).unwrap();
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::Host(PixelFormat::Yuv420p))).unwrap();
    dec.submit(Input::annexb(&stream[..stream.len() / 2], None)).unwrap();
    let (w, h) = (64, 48);
    let mut enc = Encoder::open(EncoderConfig::new(Codec::H264, w, h)).unwrap();
    let raw = vec![128; (w * h * 3 / 2) as usize];
    let picture =
        Frame::host(PixelFormat::Yuv420p, w, h, HostFrame::from_packed(PixelFormat::Yuv420p, w, h, raw).unwrap());
    enc.submit(&picture, FrameOptions::default()).unwrap();
    let ok = in_child(LIMIT, move || {
        let refused =
            |e: video_hw::Error| matches!(e, video_hw::Error::Unsupported { .. }) && e.to_string().contains("fork");
        let mut ok = dec.submit(Input::annexb(&stream[stream.len() / 2..], None)).map_err(refused) == Err(true);
        ok &= dec.flush().map(|f| f.len()).map_err(refused) == Err(true);
        ok &= enc.submit(&picture, FrameOptions::default()).map_err(refused) == Err(true);
        ok &= enc.flush().map(|p| p.len()).map_err(refused) == Err(true);
        // Dropped in the child: leaked, not closed (closing joins the engine's threads).
        drop((dec, enc));
        ok
    });
    assert!(ok, "a session used in a forked child was not refused with the fork named");
}

/// An async session's thread is the parent's: in the child its stream gives the error once
/// and ends, and its sink refuses, instead of waiting for ever.
fn async_session_in_the_child_ends_with_an_error() {
    use futures::{SinkExt, StreamExt};
    use video_hw::async_session::{AsyncDecoder, AsyncInput};
    let stream = std::fs::read(common::repo_root().join("testdata/h264/gop12-idr-cars-320x240.h264")).unwrap();
    let config = DecoderConfig::new(Codec::H264).output(Output::Host(PixelFormat::Yuv420p));
    let (mut input, mut frames) = AsyncDecoder::open(config, 4).unwrap().split();
    futures::executor::block_on(input.send(AsyncInput::annexb(stream[..4096].to_vec(), None))).unwrap();
    let ok = in_child(LIMIT, move || {
        futures::executor::block_on(async {
            let first = frames.next().await;
            let ok = matches!(&first, Some(Err(e)) if e.to_string().contains("fork"));
            ok && frames.next().await.is_none()
                && input.send(AsyncInput::annexb(stream[4096..].to_vec(), None)).await.is_err()
        })
    });
    assert!(ok, "an async session in a forked child did not end with the fork named");
}
