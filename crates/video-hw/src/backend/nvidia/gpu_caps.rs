//! Lists the NVIDIA GPUs of the machine and what their NVDEC engines can decode.

use std::fmt;

use super::cuda::{CudaDriver, Device, DriverVersion, check_cuvid};
use super::loader::CuvidApi;
use super::sys::cuvid::{
    CUVIDDECODECAPS, cudaVideoChromaFormat, cudaVideoChromaFormat_420, cudaVideoCodec, cudaVideoCodec_AV1,
    cudaVideoCodec_H264, cudaVideoCodec_HEVC, cudaVideoCodec_JPEG, cudaVideoCodec_MPEG2, cudaVideoCodec_MPEG4,
    cudaVideoCodec_NumCodecs, cudaVideoCodec_VP8, cudaVideoCodec_VP9, cudaVideoSurfaceFormat_NV12,
    cudaVideoSurfaceFormat_P016, cudaVideoSurfaceFormat_YUV444, cudaVideoSurfaceFormat_YUV444_16Bit,
};
use crate::{Codec, Error, Result};

/// The NVDEC codec id of a [`Codec`].
pub(crate) fn cuvid_codec(codec: Codec) -> cudaVideoCodec {
    match codec {
        Codec::H264 => cudaVideoCodec_H264,
        Codec::Hevc => cudaVideoCodec_HEVC,
        Codec::Vp9 => cudaVideoCodec_VP9,
        Codec::Av1 => cudaVideoCodec_AV1,
        // The registry gives NVDEC only the four codecs above (`Codec::is_parsed`): the
        // reader's feed and the session's bookkeeping are written for them. These are
        // the driver's ids of the others, for the day they are wired.
        Codec::Vp8 => cudaVideoCodec_VP8,
        Codec::Mpeg2 => cudaVideoCodec_MPEG2,
        Codec::Mpeg4 => cudaVideoCodec_MPEG4,
        Codec::Mjpeg => cudaVideoCodec_JPEG,
        // `Codec` is `#[non_exhaustive]` (and defined in video-hw-types): a codec added
        // there has no driver id until it is wired here.
        Codec::ProRes | Codec::Other(_) => cudaVideoCodec_NumCodecs,
        _ => cudaVideoCodec_NumCodecs,
    }
}

/// The `nOutputFormatMask` of `CUVIDDECODECAPS`: bit `n` set when the decoder can write
/// `cudaVideoSurfaceFormat` `n`.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OutputFormats(pub(crate) u16);

impl OutputFormats {
    const NAMES: [(u32, &'static str); 4] = [
        (cudaVideoSurfaceFormat_NV12, "NV12"),
        (cudaVideoSurfaceFormat_P016, "P016"),
        (cudaVideoSurfaceFormat_YUV444, "YUV444"),
        (cudaVideoSurfaceFormat_YUV444_16Bit, "YUV444_16Bit"),
    ];

    /// Whether the decoder can output surface format `format` (`cudaVideoSurfaceFormat_*`).
    pub(crate) fn contains(self, format: u32) -> bool {
        format < 16 && self.0 & (1 << format) != 0
    }

    /// Names of the formats in the mask (unknown bits as `bit<n>`).
    pub(crate) fn names(self) -> Vec<String> {
        (0..16u32)
            .filter(|&b| self.contains(b))
            .map(|b| match Self::NAMES.iter().find(|(f, _)| *f == b) {
                Some((_, n)) => (*n).to_owned(),
                None => format!("bit{b}"),
            })
            .collect()
    }
}

impl fmt::Debug for OutputFormats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// What `cuvidGetDecoderCaps` says about one (codec, bit depth, 4:2:0) combination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DecodeCaps {
    /// The codec asked about.
    pub(crate) codec: Codec,
    /// Luma/chroma bit depth asked about (8 or 10).
    pub(crate) bit_depth: u8,
    /// Chroma format asked about (`cudaVideoChromaFormat_420`).
    pub(crate) chroma_format: cudaVideoChromaFormat,
    /// Whether the hardware decodes it (`bIsSupported`); the limits below are 0 when not.
    pub(crate) supported: bool,
    /// Number of NVDEC engines that can decode it (`nNumNVDECs`).
    pub(crate) num_engines: u8,
    /// Largest coded width in pixels.
    pub(crate) max_width: u32,
    /// Largest coded height in pixels.
    pub(crate) max_height: u32,
    /// Smallest coded width in pixels.
    pub(crate) min_width: u16,
    /// Smallest coded height in pixels.
    pub(crate) min_height: u16,
    /// Largest `coded_width * coded_height / 256`.
    pub(crate) max_mb_count: u32,
    /// Surface formats the decoder can write for it.
    pub(crate) output_formats: OutputFormats,
}

/// One GPU as the CUDA driver and NVDEC see it.
#[derive(Debug)]
pub(crate) struct GpuInfo {
    /// CUDA ordinal (after `CUDA_VISIBLE_DEVICES`).
    pub(crate) index: u32,
    /// Marketing name.
    pub(crate) name: String,
    /// Device memory in bytes.
    pub(crate) total_memory: u64,
    /// Compute capability `(major, minor)`.
    pub(crate) compute_capability: (u32, u32),
    /// The CUDA version the driver implements.
    pub(crate) driver_version: DriverVersion,
    /// The kernel driver release (`550.54.14`, …) from `/proc/driver/nvidia/version`,
    /// where readable.
    pub(crate) kernel_driver: Option<String>,
    /// NVDEC capabilities for H.264, HEVC, VP9 and AV1 at 8 and 10 bits, 4:2:0; `Err`
    /// when NVDEC cannot be used at all (e.g. `libnvcuvid.so.1` missing in a container
    /// started without the `video` driver capability).
    pub(crate) decode: Result<Vec<DecodeCaps>>,
}

/// The codecs and bit depths [`probe_gpus`] asks NVDEC about.
const PROBED: [(Codec, u8); 8] = [
    (Codec::H264, 8),
    (Codec::H264, 10),
    (Codec::Hevc, 8),
    (Codec::Hevc, 10),
    (Codec::Vp9, 8),
    (Codec::Vp9, 10),
    (Codec::Av1, 8),
    (Codec::Av1, 10),
];

/// Lists every GPU with its NVDEC capabilities. Without the driver (no
/// `libcuda.so.1`), or with a driver but no device, the error is
/// [`Error::Unsupported`].
pub(crate) fn probe_gpus() -> Result<Vec<GpuInfo>> {
    let driver = CudaDriver::get()?;
    let driver_version = driver.version()?;
    let kernel_driver = kernel_driver_version();
    let count = driver.device_count()?;
    let mut gpus = Vec::with_capacity(count as usize);
    for index in 0..count {
        let device = driver.device(index)?;
        gpus.push(GpuInfo {
            index,
            name: device.name()?,
            total_memory: device.total_memory()?,
            compute_capability: device.compute_capability()?,
            driver_version,
            kernel_driver: kernel_driver.clone(),
            decode: decode_caps(device),
        });
    }
    Ok(gpus)
}

/// Answers of `cuvidGetDecoderCaps` per (device ordinal, codec, bit depth).
type CapsCache = Vec<(u32, Codec, u8, DecodeCaps)>;

/// Asks `cuvidGetDecoderCaps` about every combination of [`PROBED`] on `device` (for
/// listings: `video-hw probe --gpus`). Opening a session asks only what it needs
/// ([`decode_caps_of`]): each query is a driver round trip of ~8 ms on an H200.
pub(crate) fn decode_caps(device: Device) -> Result<Vec<DecodeCaps>> {
    PROBED.iter().map(|&(codec, bit_depth)| decode_caps_of(device, codec, bit_depth)).collect()
}

/// What NVDEC on `device` can do for `codec` at `bit_depth`, 4:2:0; asked once per
/// process and combination (the answers do not change). A combination outside
/// [`PROBED`] (12-bit, …) is answered "not supported" without asking.
pub(crate) fn decode_caps_of(device: Device, codec: Codec, bit_depth: u8) -> Result<DecodeCaps> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<CapsCache>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(|| std::sync::Mutex::new(Vec::new()));
    let key = (device.ordinal(), codec, bit_depth);
    let cached = |cache: &CapsCache| cache.iter().find(|(d, c, b, _)| (*d, *c, *b) == key).map(|e| e.3.clone());
    if let Some(caps) = cached(&cache.lock().unwrap_or_else(|p| p.into_inner())) {
        return Ok(caps);
    }
    if !PROBED.contains(&(codec, bit_depth)) {
        return Ok(unsupported(codec, bit_depth));
    }
    // One query at a time per GPU: sessions opened together would otherwise all miss the
    // cache and ask at once, and concurrent queries slow each other (7 at once: ~130 ms
    // each). Different GPUs ask at once (the first query makes the GPU's context).
    static ASKING: [std::sync::Mutex<()>; 16] = [const { std::sync::Mutex::new(()) }; 16];
    let _asking = ASKING[device.ordinal() as usize % ASKING.len()].lock().unwrap_or_else(|p| p.into_inner());
    if let Some(caps) = cached(&cache.lock().unwrap_or_else(|p| p.into_inner())) {
        return Ok(caps);
    }
    let cuvid = CuvidApi::get()?;
    let ctx = device.primary_context()?;
    let _current = ctx.push()?;
    let caps = super::call_times::DECODER_CAPS.time(|| query(cuvid, codec, bit_depth, cudaVideoChromaFormat_420))?;
    cache.lock().unwrap_or_else(|p| p.into_inner()).push((key.0, codec, bit_depth, caps.clone()));
    Ok(caps)
}

/// The record of a combination NVDEC does not decode (all limits 0, as the driver says).
fn unsupported(codec: Codec, bit_depth: u8) -> DecodeCaps {
    DecodeCaps::from_driver(codec, bit_depth, cudaVideoChromaFormat_420, &CUVIDDECODECAPS::default())
}

/// One `cuvidGetDecoderCaps` call; needs a current context.
fn query(cuvid: &CuvidApi, codec: Codec, bit_depth: u8, chroma_format: cudaVideoChromaFormat) -> Result<DecodeCaps> {
    let request = CUVIDDECODECAPS {
        eCodecType: cuvid_codec(codec),
        eChromaFormat: chroma_format,
        nBitDepthMinus8: u32::from(bit_depth.saturating_sub(8)),
        ..CUVIDDECODECAPS::default()
    };
    let mut caps = request;
    // SAFETY: `caps` is a live, fully initialised CUVIDDECODECAPS (layout checked by
    // the sys layout test) that the driver fills in; the caller made a context current.
    let r = unsafe { (cuvid.cuvidGetDecoderCaps)(&mut caps) };
    match check_cuvid(r, "cuvidGetDecoderCaps") {
        Ok(()) => {}
        // Some drivers refuse a codec they do not know instead of answering "0":
        // report it as unsupported, with all limits 0 as the driver does.
        Err(Error::Unsupported { .. }) => caps = request,
        Err(e) => return Err(e),
    }
    Ok(DecodeCaps::from_driver(codec, bit_depth, chroma_format, &caps))
}

impl DecodeCaps {
    /// The driver's answer `caps` about (`codec`, `bit_depth`, `chroma_format`).
    fn from_driver(codec: Codec, bit_depth: u8, chroma_format: cudaVideoChromaFormat, caps: &CUVIDDECODECAPS) -> Self {
        DecodeCaps {
            codec,
            bit_depth,
            chroma_format,
            supported: caps.bIsSupported != 0,
            num_engines: caps.nNumNVDECs,
            max_width: caps.nMaxWidth,
            max_height: caps.nMaxHeight,
            min_width: caps.nMinWidth,
            min_height: caps.nMinHeight,
            max_mb_count: caps.nMaxMBCount,
            output_formats: OutputFormats(caps.nOutputFormatMask),
        }
    }
}

/// `550.54.14` out of `/proc/driver/nvidia/version`
/// ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 …").
pub(crate) fn kernel_driver_version() -> Option<String> {
    let text = std::fs::read_to_string("/proc/driver/nvidia/version").ok()?;
    parse_kernel_driver_version(&text)
}

fn parse_kernel_driver_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    line.split_whitespace()
        .find(|w| w.contains('.') && w.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Must pass everywhere: with no driver the error is the typed `Unsupported` naming
    /// the missing library; with a driver and GPUs, the list is sane.
    #[test]
    fn probe_gpus_is_ok_or_unsupported() {
        match probe_gpus() {
            Ok(gpus) => {
                for g in &gpus {
                    eprintln!("{g:#?}");
                    assert!(!g.name.is_empty());
                    assert!(g.total_memory > 0);
                    if let Ok(caps) = &g.decode {
                        assert_eq!(caps.len(), PROBED.len());
                    }
                }
            }
            Err(Error::Unsupported { what, why }) => {
                assert!(what == "nvdec" || what == "cuda", "{what}: {why}");
                if why.contains("libcuda.so.1") {
                    assert!(why.contains("libcuda.so.1 not found"), "{why}");
                }
            }
            Err(e) => panic!("probe_gpus failed with a non-Unsupported error: {e}"),
        }
    }

    #[test]
    fn output_format_names() {
        assert_eq!(OutputFormats(0b11).names(), ["NV12", "P016"]);
        assert_eq!(format!("{:?}", OutputFormats(1 << 5)), r#"["bit5"]"#);
        assert!(OutputFormats(0b100).contains(cudaVideoSurfaceFormat_YUV444));
    }

    #[test]
    fn kernel_driver_line() {
        let t = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC version: gcc 12\n";
        assert_eq!(parse_kernel_driver_version(t).as_deref(), Some("550.54.14"));
        assert_eq!(parse_kernel_driver_version("nothing"), None);
    }

    #[test]
    fn an_unprobed_combination_is_unsupported_with_zero_limits() {
        let c = unsupported(Codec::Hevc, 12);
        assert_eq!((c.codec, c.bit_depth, c.chroma_format), (Codec::Hevc, 12, cudaVideoChromaFormat_420));
        assert!(!c.supported);
        assert_eq!((c.num_engines, c.max_width, c.max_height, c.max_mb_count), (0, 0, 0, 0));
        assert_eq!(c.output_formats, OutputFormats(0));
    }

    #[test]
    fn codec_ids() {
        assert_eq!(cuvid_codec(Codec::H264), 4);
        assert_eq!(cuvid_codec(Codec::Av1), 11);
    }
}
