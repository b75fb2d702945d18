//! The encode pipeline's quality meter (`PipelineOptions::quality`): every frame of the
//! camera clip is measured, in Annex-B and in length-prefixed output (decoded with the
//! encoder's configuration record), and the figures agree between the two (the same
//! encode) and with a comparison made here from a decode of the output.

use crate::common;

use video_hw::frame::HostFrame;
use video_hw::pipeline::{EncodePipeline, PipelineOptions, QualityOptions, Shutdown};
use video_hw::pixels::quality::{FrameQuality, QualitySummary};
use video_hw::{
    Codec, Decoder, DecoderConfig, EncoderConfig, Engine, EnginePreference, Frame, FrameOptions, Input, Output,
    PacketLayout, PixelFormat, RateControl,
};

const ONLY: EnginePreference = EnginePreference::Only(Engine::OpenH264);

fn camera() -> Vec<Vec<u8>> {
    let stream = std::fs::read(common::fixtures_dir().join("real/camera-640x360.h264")).unwrap();
    let mut dec = Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
    dec.submit(Input::annexb(&stream, None)).unwrap();
    let mut frames: Vec<Frame> = std::iter::from_fn(|| dec.try_reap().unwrap()).collect();
    frames.extend(dec.flush().unwrap());
    frames.iter().map(|f| f.host_data().unwrap().as_bytes().to_vec()).collect()
}

#[test]
fn every_frame_is_measured_in_both_layouts() {
    let input = camera();
    let mut summaries = Vec::new();
    for layout in [PacketLayout::AnnexB, PacketLayout::LengthPrefixed] {
        let config = EncoderConfig::new(Codec::H264, 640, 360)
            .engine(ONLY)
            .layout(layout)
            .rate_control(RateControl::Cbr { bitrate: 400_000 });
        let options = PipelineOptions::default().quality(Some(QualityOptions { psnr: true, ssim: true }));
        let pipeline = EncodePipeline::open(config, options).unwrap();
        let mut packets = Vec::new();
        for (i, raw) in input.iter().enumerate() {
            let host = HostFrame::from_packed(PixelFormat::Yuv420p, 640, 360, raw.clone()).unwrap();
            pipeline
                .submit(
                    Frame::host(PixelFormat::Yuv420p, 640, 360, host),
                    FrameOptions { pts: Some(i as i64 * 3003), force_keyframe: false },
                )
                .unwrap();
            while let Some(p) = pipeline.try_recv_packet().unwrap() {
                packets.push(p);
            }
        }
        let drained = pipeline.shutdown(Shutdown::Drain).unwrap();
        packets.extend(drained.items);
        let report = drained.stats.quality.expect("quality asked for");
        assert_eq!((report.summary.frames, report.unmatched, report.note.as_deref()), (90, 0, None), "{layout:?}");
        if layout == PacketLayout::AnnexB {
            // The same comparison from a decode made here.
            let stream: Vec<u8> = packets.iter().flat_map(|p| p.data.iter().copied()).collect();
            let mut dec =
                Decoder::open(DecoderConfig::new(Codec::H264).output(Output::HOST_YUV420P).engine(ONLY)).unwrap();
            dec.submit(Input::annexb(&stream, None)).unwrap();
            let mut decoded: Vec<Frame> = std::iter::from_fn(|| dec.try_reap().unwrap()).collect();
            decoded.extend(dec.flush().unwrap());
            let mut here = QualitySummary::default();
            for (src, d) in input.iter().zip(&decoded) {
                here.add(&FrameQuality::measure(src, d.host_data().unwrap().as_bytes(), 640, 360, true));
            }
            assert_eq!(here, report.summary);
        }
        summaries.push(report.summary);
    }
    assert_eq!(summaries[0], summaries[1], "the same encode in both layouts");
}
