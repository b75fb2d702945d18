//! The committed real clip (cars, 320x240) as I420 pictures, for the encoder tests.

use std::sync::OnceLock;

use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Frame, Input, Output};

/// The clip decoded to I420 (by OpenH264, so every build has it), played forward then
/// backward, looped to `n` frames: real camera motion without a hard cut. Decoded once
/// per test binary.
pub fn cars_i420(n: usize) -> Vec<Vec<u8>> {
    static FRAMES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let base = FRAMES.get_or_init(|| {
        let data = std::fs::read(super::fixtures_dir().join("real/cars-320x240.h264")).expect("fixture");
        let cfg = DecoderConfig::new(Codec::H264)
            .output(Output::HOST_YUV420P)
            .engine(EnginePreference::Only(Engine::OpenH264));
        let mut dec = Decoder::open(cfg).unwrap();
        dec.submit(Input::annexb(&data, None)).unwrap();
        let mut frames: Vec<Frame> = Vec::new();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
        frames.extend(dec.flush().unwrap());
        frames.iter().map(|f| f.host_data().unwrap().as_bytes().to_vec()).collect()
    });
    let mut order: Vec<usize> = (0..base.len()).collect();
    order.extend((1..base.len() - 1).rev());
    (0..n).map(|i| base[order[i % order.len()]].clone()).collect()
}
