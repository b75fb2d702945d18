//! The committed real clip (cars, 320x240) as I420 pictures, for the encoder tests.

use std::sync::OnceLock;

use video_hw::{Codec, Decoder, DecoderConfig, Engine, EnginePreference, Frame, Input, Output, Packet, PixelFormat};

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

/// The clip's width.
pub const W: u32 = 320;
/// The clip's height.
pub const H: u32 = 240;

/// PSNR of two 8-bit planes (99 dB where they are equal).
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a.iter().zip(b).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 { 99.0 } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

/// Average luma PSNR of decoded I420 pictures of the clip's size against the sources (the
/// same number of each).
pub fn luma_psnr(sources: &[Vec<u8>], decoded: &[Vec<u8>]) -> f64 {
    assert_eq!(sources.len(), decoded.len(), "frame count");
    let y = (W * H) as usize;
    sources.iter().zip(decoded).map(|(a, b)| psnr(&a[..y], &b[..y])).sum::<f64>() / sources.len() as f64
}

/// AV1 packets decoded by the built-in rav1d to 8-bit I420 pictures (10-bit output rounded
/// to 8 bits), for the AV1 encoders' tests.
pub fn rav1d_i420(packets: &[Packet]) -> Vec<Vec<u8>> {
    let cfg = DecoderConfig::new(Codec::Av1).output(Output::HOST_YUV420P).engine(EnginePreference::Only(Engine::Rav1d));
    let mut dec = Decoder::open(cfg).unwrap();
    let mut frames = Vec::new();
    for p in packets {
        dec.submit(Input::packet(&p.data, p.pts.unwrap_or(0))).unwrap();
        while let Some(f) = dec.try_reap().unwrap() {
            frames.push(f);
        }
    }
    frames.extend(dec.flush().unwrap());
    frames
        .iter()
        .map(|f| {
            let b = f.host_data().unwrap().as_bytes();
            if f.format == PixelFormat::Yuv420p10 {
                b.chunks_exact(2).map(|s| ((u16::from_le_bytes([s[0], s[1]]) + 2) >> 2).min(255) as u8).collect()
            } else {
                b.to_vec()
            }
        })
        .collect()
}
