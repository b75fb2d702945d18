//! NVDEC host frames (NV12/P010, YUV420P/yuv420p10le) copied into page-locked memory while
//! the session decodes on: bit-exact and in order whether the caller holds every frame
//! (the session's first slots, then a staging buffer), drops them as they come (slots
//! reused), or the copies that do not wait are off. Needs an NVIDIA GPU: `VIDEO_HW_TEST_GPU=1 cargo test
//! -p video-hw --release --test gpu_host`.

mod common;

use video_hw::diagnostics::{nvdec_call_times, set_nvdec_host_slots};
use video_hw::{Codec, DecoderConfig, Engine, EnginePreference, Output, PixelFormat};

fn nvdec(codec: Codec, output: Output) -> DecoderConfig {
    DecoderConfig::new(codec).engine(EnginePreference::Only(Engine::Nvdec)).output(output)
}

/// Decodes `data` in 64 KiB + 1 pieces; `hold`: every frame kept until the decoder is
/// dropped, then hashed; else each hashed and dropped as it comes. The MD5s, how many
/// frames were copied without waiting, and how many of those through the staging buffer.
fn md5s(data: &[u8], config: DecoderConfig, hold: bool) -> (Vec<String>, u64, u64) {
    let counts = || {
        let t = nvdec_call_times();
        (t.host_async.calls, t.host_staged.calls)
    };
    let before = counts();
    let mut dec = video_hw::Decoder::open(config).expect("nvdec opens");
    let (mut held, mut sums) = (Vec::new(), Vec::new());
    let mut take = |frame: video_hw::Frame| {
        if hold {
            held.push(frame);
        } else {
            sums.push(common::frame_md5(&frame).1);
        }
    };
    for piece in data.chunks(65_537) {
        dec.submit(video_hw::Input::annexb(piece, None)).expect("decodes");
        while let Some(frame) = dec.try_reap().unwrap() {
            take(frame);
        }
    }
    dec.flush().unwrap().into_iter().for_each(&mut take);
    drop(dec);
    sums.extend(held.iter().map(|frame| common::frame_md5(frame).1));
    let after = counts();
    (sums, after.0 - before.0, after.1 - before.1)
}

#[test]
fn gpu_nvdec_host_frames_copied_while_decoding_on_are_bitexact_held_or_not() {
    let Some(_turn) = common::gpu_test() else {
        return;
    };
    let base = common::GpuBaseline::take();
    let mut fixtures: Vec<_> = common::fixtures();
    // NVDEC decodes 8-bit H.264 and 8/10-bit HEVC.
    fixtures.retain(|f| (f.codec == "h264" && f.bit_depth == 8) || f.codec == "hevc");
    assert!(fixtures.iter().any(|f| f.bit_depth > 8), "no 10-bit fixture");
    for f in &fixtures {
        let codec = if f.codec == "h264" { Codec::H264 } else { Codec::Hevc };
        let data = std::fs::read(&f.path).unwrap();
        for (format, tag) in
            [(PixelFormat::Nv12, if f.bit_depth > 8 { "p010" } else { "nv12" }), (PixelFormat::Yuv420p, "yuv")]
        {
            let want = common::fixture_reference_md5s(f, tag);
            let n = want.len() as u64;
            for (slots, hold) in [(None, true), (None, false), (Some(2), true), (Some(0), false)] {
                set_nvdec_host_slots(slots);
                let (got, copied, staged) = md5s(&data, nvdec(codec, Output::Host(format)), hold);
                set_nvdec_host_slots(None);
                let what = format!(
                    "{} {format} slots {slots:?} held {hold}: {copied} of {} copied while decoding on, {staged} staged",
                    f.rel,
                    got.len()
                );
                assert_eq!(got, want, "{what}");
                // Every frame but those that found no output surface to spare is copied
                // without waiting. A caller holding them all gets the first slots' frames,
                // then the staging buffer's (the session makes slots as they come back);
                // one dropping them as it gets them may still get staged frames, as a
                // submit decodes many pictures before it returns.
                match slots {
                    Some(0) => assert_eq!((copied, staged), (0, 0), "{what}"),
                    _ if hold => {
                        assert!(copied * 2 >= n && copied <= n && staged + 2 >= copied && staged > 0, "{what}")
                    }
                    _ => assert!(copied * 2 >= n && copied <= n && staged <= copied, "{what}"),
                }
                eprintln!("{what}");
            }
        }
    }
    base.assert_restored("host frames");
}
