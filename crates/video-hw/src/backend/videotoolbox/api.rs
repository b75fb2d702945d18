//! The thin layer between the VideoToolbox sessions and Apple's libraries: plain Rust
//! types in, plain Rust types out. `ffi/` implements it with VideoToolbox, Core Media and
//! Core Video (macOS only); `fake.rs` implements it for the tests on every system, so
//! everything that is not a call into Apple's libraries (the session state machines,
//! parameter sets, timing, ordering, properties, errors) runs in CI on Linux.
//!
//! Pictures and samples cross the layer as copies in host memory. Frames leave the
//! callback thread as plain bytes (the `CVPixelBuffer` is unlocked and released inside the
//! callback), so nothing of Apple's outlives a call.

use std::sync::Arc;

use crate::codec::Codec;
use crate::pixels::planar::Layout;

use super::outbox::Outbox;
use super::properties::Property;

/// Apple's `OSStatus`: 0 is success; VideoToolbox's own codes are -12900 to -12999
/// (named by [`super::status::describe`]).
pub(crate) type OsStatus = i32;

/// A `CMTime`: `value / timescale` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaTime {
    /// Ticks.
    pub value: i64,
    /// Ticks per second (> 0).
    pub timescale: i32,
}

/// A sample's times (`CMSampleTimingInfo`); `None` is `kCMTimeInvalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SampleTiming {
    /// Presentation time.
    pub pts: Option<MediaTime>,
    /// Decode time.
    pub dts: Option<MediaTime>,
    /// Duration.
    pub duration: Option<MediaTime>,
}

/// The pixel buffers VideoToolbox decodes into or encodes from: bi-planar 4:2:0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VtPixels {
    /// 8-bit NV12 (`kCVPixelFormatType_420YpCbCr8BiPlanar…`) or 10-bit P010
    /// (`kCVPixelFormatType_420YpCbCr10BiPlanar…`).
    pub ten_bit: bool,
    /// The `FullRange` variant (`'420f'`, `'xf20'`) rather than `VideoRange`
    /// (`'420v'`, `'x420'`): the stream's own range, so that VideoToolbox converts nothing.
    pub full_range: bool,
}

impl VtPixels {
    /// The Core Video pixel format type (a four-character code).
    pub(crate) fn four_cc(self) -> u32 {
        let code: &[u8; 4] = match (self.ten_bit, self.full_range) {
            (false, false) => b"420v",
            (false, true) => b"420f",
            (true, false) => b"x420",
            (true, true) => b"xf20",
        };
        u32::from_be_bytes(*code)
    }
}

/// What a decompression session is made from: the format description's inputs
/// (`CMVideoFormatDescriptionCreateFromH264ParameterSets` / `…HEVCParameterSets`) and the
/// destination pixel buffers' attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeFormat {
    /// H.264 or HEVC.
    pub codec: Codec,
    /// The parameter sets without start codes: H.264 SPS then PPS; HEVC VPS, SPS, PPS.
    pub parameter_sets: Vec<Vec<u8>>,
    /// Bytes of each NAL unit's length prefix in the samples (always 4 here).
    pub nal_length_size: u8,
    /// Coded picture size from the SPS: it tells formats apart, and is not asked of
    /// VideoToolbox (it would scale its output to a size in the buffer attributes).
    pub width: u32,
    /// Coded picture height.
    pub height: u32,
    /// The pixel buffers asked for.
    pub pixels: VtPixels,
}

/// A decoded picture, copied out of its `CVPixelBuffer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picture {
    /// NV12 or P010 (the buffer's own format).
    pub layout: Layout,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Each plane's bytes and row stride: Y, then interleaved UV.
    pub planes: Vec<(Vec<u8>, usize)>,
}

/// One call of the decompression output callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// The tag the sample was decoded with (`sourceFrameRefCon`).
    pub tag: u64,
    /// The callback's status.
    pub status: OsStatus,
    /// `kVTDecodeInfo_FrameDropped` was set.
    pub dropped: bool,
    /// The picture (`None` when the status is an error or the frame was dropped).
    pub picture: Option<Picture>,
    /// The presentation time the callback reported.
    pub pts: Option<MediaTime>,
}

/// What an encoder is made from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EncodeSetup {
    /// H.264 or HEVC.
    pub codec: Codec,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// The source pixel buffers' format.
    pub pixels: VtPixels,
    /// `kVTVideoEncoderSpecification_RequireHardwareAcceleratedVideoEncoder`: a session
    /// that would run in software fails to open instead.
    pub require_hardware: bool,
    /// Session properties set before `VTCompressionSessionPrepareToEncodeFrames`, in order.
    pub properties: Vec<Property>,
}

/// A picture to encode: planes of the session's [`VtPixels`] format, copied into a
/// pixel buffer from the session's pool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputPicture<'a> {
    /// Y, then interleaved UV, each with its row stride in bytes.
    pub planes: [(&'a [u8], usize); 2],
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
}

/// An encoded sample, copied out of its `CMSampleBuffer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodedSample {
    /// NAL units with `nal_length_size`-byte big-endian length prefixes (AVCC/HVCC).
    pub data: Vec<u8>,
    /// Bytes of each length prefix (from the format description; 4 in practice).
    pub nal_length_size: u8,
    /// No `kCMSampleAttachmentKey_NotSync` attachment: a sync (IDR/IRAP) sample.
    pub keyframe: bool,
    /// Presentation and decode times.
    pub timing: SampleTiming,
    /// The format description's parameter sets (VPS, SPS, PPS), with every sync sample.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// One call of the compression output callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// The tag the frame was submitted with (`sourceFrameRefcon`).
    pub tag: u64,
    /// The callback's status.
    pub status: OsStatus,
    /// `kVTEncodeInfo_FrameDropped` was set.
    pub dropped: bool,
    /// The sample (`None` on error or a dropped frame).
    pub sample: Option<EncodedSample>,
}

/// An encoder VideoToolbox lists (`VTCopyVideoEncoderList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncoderInfo {
    /// `kVTVideoEncoderList_CodecType` as a four-character code (`avc1`, `hvc1`, …).
    pub codec_type: u32,
    /// `kVTVideoEncoderList_EncoderID`.
    pub id: String,
    /// `kVTVideoEncoderList_DisplayName`.
    pub name: String,
    /// `kVTVideoEncoderList_IsHardwareAccelerated`.
    pub hardware: bool,
}

/// The calls into VideoToolbox the engine makes.
pub(crate) trait Layer: Send + Sync {
    /// `VTIsHardwareDecodeSupported` for the codec's `CMVideoCodecType`.
    fn hardware_decode_supported(&self, codec: Codec) -> bool;

    /// `VTCopyVideoEncoderList`.
    fn encoders(&self) -> Result<Vec<EncoderInfo>, OsStatus>;

    /// Makes the format description and `VTDecompressionSessionCreate`s a session whose
    /// output callback pushes to `outbox` (on VideoToolbox's threads).
    fn open_decoder(
        &self,
        format: &DecodeFormat,
        outbox: Arc<Outbox<Decoded>>,
    ) -> Result<Box<dyn DecodeSession>, OsStatus>;

    /// `VTCompressionSessionCreate`, then each property (`VTSessionSetProperty`), then
    /// `VTCompressionSessionPrepareToEncodeFrames`; the output callback pushes to `outbox`.
    fn open_encoder(
        &self,
        setup: &EncodeSetup,
        outbox: Arc<Outbox<Encoded>>,
    ) -> Result<Box<dyn EncodeSession>, OsStatus>;
}

/// A `VTDecompressionSession`; dropping it waits for the callbacks still due
/// (`VTDecompressionSessionWaitForAsynchronousFrames`), then invalidates and releases it:
/// no callback comes after the drop.
pub(crate) trait DecodeSession: Send {
    /// Makes a format description of `format` and asks
    /// `VTDecompressionSessionCanAcceptFormatDescription`; when the session accepts it,
    /// later samples carry the new description and this returns true. When it returns
    /// false nothing changed (the caller finishes this session and opens another).
    fn accept(&mut self, format: &DecodeFormat) -> bool;

    /// Wraps one access unit (length-prefixed NAL units) in a `CMBlockBuffer` and a
    /// `CMSampleBuffer` with `timing`, and `VTDecompressionSessionDecodeFrame`s it with
    /// `kVTDecodeFrame_EnableAsynchronousDecompression` and without temporal processing
    /// (every picture comes back as soon as it is decoded, in decoding order: the engine
    /// reorders); its picture reaches the outbox with `tag`. An error here means no callback will come for it.
    fn decode(&mut self, sample: &[u8], timing: SampleTiming, tag: u64) -> Result<(), OsStatus>;

    /// `VTDecompressionSessionFinishDelayedFrames` then
    /// `VTDecompressionSessionWaitForAsynchronousFrames`: every callback has come when it
    /// returns.
    fn finish(&mut self) -> Result<(), OsStatus>;
}

/// A `VTCompressionSession`; dropping it completes the frames still in it
/// (`VTCompressionSessionCompleteFrames`), then invalidates and releases it: no callback
/// comes after the drop.
pub(crate) trait EncodeSession: Send {
    /// `VTSessionSetProperty` on the live session (bitrate, frame rate, GOP changes).
    fn set(&mut self, property: &Property) -> Result<(), OsStatus>;

    /// Copies `picture` into a pixel buffer from the session's pool and
    /// `VTCompressionSessionEncodeFrame`s it with `timing`; `force_keyframe` sets
    /// `kVTEncodeFrameOptionKey_ForceKeyFrame`. The sample reaches the outbox with `tag`.
    fn encode(
        &mut self,
        picture: &InputPicture<'_>,
        timing: SampleTiming,
        force_keyframe: bool,
        tag: u64,
    ) -> Result<(), OsStatus>;

    /// `VTCompressionSessionCompleteFrames` up to every frame submitted: every callback has
    /// come when it returns.
    fn complete(&mut self) -> Result<(), OsStatus>;
}
