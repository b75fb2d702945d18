//! Hardware decoding through FFmpeg's `hw_device_ctx`: VA-API (Linux render nodes),
//! Intel Quick Sync (the `*_qsv` decoders) and VideoToolbox (macOS). libavcodec decodes
//! into device surfaces; each picture is downloaded to host memory with
//! `av_hwframe_transfer_data` (NV12, or P010 for 10-bit) and converted like a software
//! picture.
//!
//! Before any device is opened the reasons it cannot work are checked in order, so a
//! refusal names the first missing piece: the decoder is not in this FFmpeg build, the
//! decoder has no such hardware path, there is no `/dev/dri/renderD*` node, the QSV
//! runtime is not installed, or FFmpeg could not open the device (with its error).

use std::ffi::{CString, c_int};
use std::path::PathBuf;
use std::ptr;

use super::common::{self, AvError};
use super::sys::Ffmpeg;
use super::sys::codec::{Codec as AvCodec, CodecContext, Dictionary, HW_CONFIG_METHOD_HW_DEVICE_CTX};
use super::sys::fns::{AVBufferRef, AVCodecContext};
use super::sys::frame::Frame as AvFrame;
use crate::codec::Codec;
use crate::engine::Engine;
use crate::error::{Error, Result};

/// FFmpeg's device type for a hardware engine (looked up by name: the numbers differ
/// between majors).
fn device_type(ff: &Ffmpeg, engine: Engine) -> Option<c_int> {
    ff.hw_device_type(match engine {
        Engine::Vaapi => "vaapi",
        Engine::Qsv => "qsv",
        Engine::VideoToolbox => "videotoolbox",
        _ => return None,
    })
}

/// The libavcodec decoder a hardware engine runs for `codec`: the native decoders with
/// a hardware accelerator (VA-API, VideoToolbox), or the `*_qsv` wrappers. `None` for the
/// codecs only the software engine decodes (VA-API has MPEG-2 and VP8 profiles, but they
/// are not wired: the registry gives hardware engines the parsed codecs only).
pub(super) fn decoder_name(engine: Engine, codec: Codec) -> Option<&'static str> {
    Some(match (engine, codec) {
        (Engine::Qsv, Codec::H264) => "h264_qsv",
        (Engine::Qsv, Codec::Hevc) => "hevc_qsv",
        (Engine::Qsv, Codec::Av1) => "av1_qsv",
        (Engine::Qsv, Codec::Vp9) => "vp9_qsv",
        (_, Codec::H264) => "h264",
        (_, Codec::Hevc) => "hevc",
        (_, Codec::Av1) => "av1",
        (_, Codec::Vp9) => "vp9",
        _ => return None,
    })
}

/// An opened hardware device and the surface format the decoder will produce on it.
pub(super) struct HwDevice {
    /// Our reference to the `AVHWDeviceContext`.
    device: *mut AVBufferRef,
    /// The hardware pixel format (`AV_PIX_FMT_VAAPI`, …).
    pix_fmt: c_int,
    ff: &'static Ffmpeg,
    /// What was opened, e.g. "/dev/dri/renderD128".
    pub label: String,
}

impl Drop for HwDevice {
    fn drop(&mut self) {
        // SAFETY: `device` is the reference av_hwdevice_ctx_create gave us, released once.
        unsafe { (self.ff.fns.av_buffer_unref)(&mut self.device) };
    }
}

// SAFETY: the device reference is only released by its owner; FFmpeg's device contexts
// are reference counted and usable from any thread.
unsafe impl Send for HwDevice {}

impl HwDevice {
    /// Checks everything `engine` needs for `codec` with the libavcodec decoder `codec_ref`
    /// and opens device `index`.
    pub(super) fn open(engine: Engine, codec_ref: &AvCodec, name: &str, index: u32) -> Result<HwDevice> {
        let ff = common::ffmpeg(format!("{engine} decode"))?;
        let Some(kind) = device_type(ff, engine) else {
            return Err(Error::unsupported(format!("{engine} decode"), "not a hardware engine"));
        };
        let pix_fmt = hw_pix_fmt(codec_ref, kind).ok_or_else(|| {
            Error::unsupported(
                format!("{engine} decode"),
                format!("FFmpeg's {name} decoder has no {engine} path in this build"),
            )
        })?;
        let (device, child, label) = match engine {
            Engine::Vaapi => {
                let node = render_node(index)?.display().to_string();
                (Some(node.clone()), None, node)
            }
            Engine::Qsv => {
                let node = render_node(index)?.display().to_string();
                check_qsv_runtime()?;
                // "hw": Intel's hardware implementation only, never its software one;
                // the render node is its VA-API child device.
                (Some("hw".to_string()), Some(node.clone()), format!("Intel QSV on {node}"))
            }
            Engine::VideoToolbox => {
                if !cfg!(target_os = "macos") {
                    return Err(Error::unsupported("videotoolbox decode", "VideoToolbox exists on macOS only"));
                }
                (None, None, "VideoToolbox".to_string())
            }
            _ => unreachable!("device_type() only knows hardware engines"),
        };
        let mut buf: *mut AVBufferRef = ptr::null_mut();
        let device_c = device.as_deref().map(|d| CString::new(d).expect("no NUL in device names"));
        let mut opts = Dictionary::new(ff);
        if let Some(child) = child {
            opts.set("child_device", &child).map_err(|e| common::backend_error(engine, "device options", e))?;
        }
        // SAFETY: `buf` receives a new reference on success; the device string and the
        // options are valid for the call (the dictionary is freed when `opts` drops).
        let rc = unsafe {
            (ff.fns.av_hwdevice_ctx_create)(
                &mut buf,
                kind,
                device_c.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
                opts.as_ptr(),
                0,
            )
        };
        if rc < 0 || buf.is_null() {
            let e = AvError(rc);
            return Err(Error::unsupported(
                format!("{engine} decode"),
                format!(
                    "FFmpeg could not open {label}: {e} ({}); set {}=verbose for the driver's reason",
                    e.name(),
                    common::LOG_ENV
                ),
            ));
        }
        Ok(HwDevice { device: buf, pix_fmt, ff, label })
    }

    /// Makes `ctx` (not yet opened) decode on this device: its own reference to the
    /// device, and the wanted format in `opaque`, which only `get_hw_format` reads.
    pub(super) fn attach(&self, ctx: &mut CodecContext) -> Result<()> {
        if !ctx.set_hw_device(self.device) {
            return Err(Error::backend("ffmpeg", "AVERROR(ENOMEM)", "referencing the hardware device"));
        }
        ctx.set_get_format(self.pix_fmt as isize as *mut std::ffi::c_void, get_hw_format);
        Ok(())
    }

    /// The hardware surface format.
    pub(super) fn pix_fmt(&self) -> c_int {
        self.pix_fmt
    }
}

/// The surface format `codec` decodes to on devices of `kind`, if it can.
fn hw_pix_fmt(codec: &AvCodec, kind: c_int) -> Option<c_int> {
    codec
        .hw_configs()
        .into_iter()
        .find(|c| c.methods & HW_CONFIG_METHOD_HW_DEVICE_CTX != 0 && c.device_type == kind)
        .map(|c| c.pix_fmt)
}

/// Picks the hardware format stored in the context's `opaque`; refuses (no software
/// fallback inside a hardware engine) when the decoder does not offer it, e.g. for a
/// profile the hardware cannot decode.
unsafe extern "C" fn get_hw_format(ctx: *mut AVCodecContext, formats: *const c_int) -> c_int {
    // SAFETY: libavcodec calls this with its context (whose `opaque` we set in `attach`)
    // and a list terminated by AV_PIX_FMT_NONE (-1).
    unsafe {
        let want = super::sys::codec::context_opaque(ctx) as isize as c_int;
        let mut p = formats;
        while *p != -1 {
            if *p == want {
                return *p;
            }
            p = p.add(1);
        }
    }
    -1
}

/// Downloads a hardware picture into `sw` (host memory, NV12 or P010).
pub(super) fn download(engine: Engine, hw: &AvFrame, sw: &mut AvFrame) -> Result<()> {
    sw.unref();
    // SAFETY: both frames are live; `sw` was unreferenced so the transfer allocates it
    // afresh in the device's preferred host format.
    let rc = unsafe { (hw.ffmpeg().fns.av_hwframe_transfer_data)(sw.as_mut_ptr(), hw.as_ptr(), 0) };
    if rc < 0 {
        return Err(common::backend_error_code(engine, "downloading a decoded picture", rc));
    }
    Ok(())
}

/// The VA-API / QSV render node number `index` (in name order), or why there is none.
fn render_node(index: u32) -> Result<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir("/dev/dri")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("renderD")))
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    match nodes.get(index as usize) {
        Some(node) => Ok(node.clone()),
        None if nodes.is_empty() => Err(Error::unsupported("hardware decode", "no /dev/dri/renderD* device")),
        None => Err(Error::unsupported(
            "hardware decode",
            format!("no render node {index} (this machine has {}: {})", nodes.len(), nodes[0].display()),
        )),
    }
}

/// Whether an Intel QSV runtime is installed (the Media SDK's `libmfxhw64` or oneVPL's
/// `libmfx-gen`), which FFmpeg's dispatcher loads.
fn check_qsv_runtime() -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        const RUNTIMES: [&str; 3] = ["libmfx-gen.so.1.2", "libmfxhw64.so.1", "libmfxhw64.so"];
        // SAFETY: loading a QSV runtime runs only its initialisers, which have no
        // preconditions; the handle is closed at once.
        let found = RUNTIMES.iter().any(|name| unsafe { libloading::Library::new(name) }.is_ok());
        if !found {
            return Err(Error::unsupported(
                "qsv decode",
                "QSV runtime (libmfx-gen / libmfxhw64 from oneVPL or the Media SDK) not found",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_missing_piece() {
        let Ok(ff) = common::ffmpeg("test") else { return };
        let h264 = AvCodec::decoder(ff, "h264").expect("h264 decoder");
        let has_dri = std::path::Path::new("/dev/dri").is_dir();
        match HwDevice::open(Engine::Vaapi, &h264, "h264", 0) {
            Ok(dev) => assert!(dev.label.starts_with("/dev/dri/renderD")),
            // An FFmpeg built without VA-API (PyAV's) says that first.
            Err(Error::Unsupported { why, .. }) if !has_dri => assert!(
                why == "no /dev/dri/renderD* device" || why.contains("has no vaapi path in this build"),
                "{why}"
            ),
            Err(e) => assert!(has_dri, "{e}"),
        }
        // The native decoder has no QSV path (QSV decodes through h264_qsv).
        let e = HwDevice::open(Engine::Qsv, &h264, "h264", 0).err().expect("h264 is not a QSV decoder");
        assert!(e.to_string().contains("no qsv path"), "{e}");
        assert!(HwDevice::open(Engine::Ffmpeg, &h264, "h264", 0).is_err());
    }
}
