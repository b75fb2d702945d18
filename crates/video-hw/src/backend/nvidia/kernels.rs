//! The conversion kernels of `kernels/convert.cu` and the transform kernel of
//! `kernels/transform.cu`, shipped as PTX (compiled offline by `scripts/build-ptx.sh`) and
//! JIT-compiled by the driver when first used in a context.
//!
//! PTX instead of NVRTC: the driver alone can load PTX, so no CUDA toolkit or NVRTC
//! library is needed where video-hw runs. `VIDEO_HW_CUDA_PTX=/path/file.ptx` loads
//! another build of the same kernels (for kernel development).

use std::ffi::{CString, c_uint, c_void};
use std::ptr;
use std::sync::Arc;

use super::cuda::{Context, PerContext, Stream, check};
use super::loader::CudaApi;
use super::sys::cuda::{CUfunction, CUmodule};
use crate::error::{Error, Result};

/// The committed PTX.
const PTX: &str = include_str!("kernels/convert.ptx");
/// The committed PTX of the transform kernel (clang-built: a module of its own).
const TRANSFORM_PTX: &str = include_str!("kernels/transform.ptx");

/// One axis's taps in device memory (`Taps` in transform.cu).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeviceTaps {
    /// `u32[n + 1]`: output sample `j` reads taps `off[j]..off[j + 1]`.
    pub off: u64,
    /// `u32[]`: source sample of each tap.
    pub idx: u64,
    /// `f32[]`: weight of each tap.
    pub w: u64,
}

/// The parameters of `transform_rgb` and `transform_yuv` (`Params` in transform.cu: same
/// field order, same C layout, 280 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct TransformParams {
    pub luma: u64,
    pub chroma: u64,
    pub dst: u64,
    pub lx: DeviceTaps,
    pub ly: DeviceTaps,
    pub cx: DeviceTaps,
    pub cy: DeviceTaps,
    pub luma_pitch: i32,
    pub chroma_pitch: i32,
    pub wide: i32,
    pub width: i32,
    pub height: i32,
    pub y_off: f32,
    pub y_scale: f32,
    pub c_off: f32,
    pub c_scale: f32,
    pub rv: f32,
    pub gu: f32,
    pub gv: f32,
    pub bu: f32,
    pub identity: i32,
    pub pad: [f32; 3],
    pub mul: [f32; 3],
    pub add: [f32; 3],
    pub sample: i32,
    pub channels: i32,
    pub pos: [i32; 3],
    pub planar: i32,
    pub dst_pitch: i32,
    pub yuv_store: i32,
    pub chroma_width: i32,
    pub chroma_height: i32,
    pub chroma_pitch_out: i32,
    pub u_offset: i32,
    pub v_offset: i32,
    pub gain: f32,
    pub max_code: f32,
    /// Quarter turns counter-clockwise each sample is stored with (0-3).
    pub rotate: i32,
    /// Rows of each output plane of planar RGB as stored (the turned output's height).
    pub out_height: i32,
}

/// Coefficients of `YuvToRgb` in convert.cu (same field order, same C layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct YuvToRgb {
    pub y_off: i32,
    pub y_mul: i32,
    pub r_cr: i32,
    pub g_cb: i32,
    pub g_cr: i32,
    pub b_cb: i32,
}

/// How `nv12_to_rgb` lays its output out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RgbLayout {
    Packed = 0,
    Planar = 1,
    Bgra = 2,
}

/// The loaded module of one context and its functions.
pub(crate) struct Kernels {
    ctx: Context,
    module: CUmodule,
    transform_module: CUmodule,
    nv12_to_rgb: CUfunction,
    transform_rgb: CUfunction,
    transform_yuv: CUfunction,
    deinterleave_uv8: CUfunction,
    deinterleave_uv16: CUfunction,
    shift_luma16: CUfunction,
}

/// Threads of a block of the one-sample-per-thread kernels (32 x 8: a warp reads 32
/// neighbouring samples of a row).
const BLOCK: (u32, u32) = (32, 8);

// SAFETY: module and function handles are driver objects usable from any thread with
// their context current (every launch pushes it); they are never dereferenced in Rust.
unsafe impl Send for Kernels {}
// SAFETY: as above; launching the same function from several threads is allowed.
unsafe impl Sync for Kernels {}

impl Drop for Kernels {
    fn drop(&mut self) {
        let Ok(api) = CudaApi::get() else { return };
        let _current = self.ctx.push();
        for module in [self.module, self.transform_module] {
            if module.is_null() {
                continue;
            }
            // SAFETY: the module is live and unloaded once; no launch can be running on a
            // value being dropped (launches borrow it).
            let r = unsafe { (api.cuModuleUnload)(module) };
            if let Err(e) = check(r, "cuModuleUnload") {
                tracing::warn!("{e}");
            }
        }
    }
}

impl Kernels {
    /// The kernels of `ctx`, loaded once per context and process.
    pub fn get(ctx: &Context) -> Result<Arc<Kernels>> {
        static LOADED: PerContext<Kernels> = PerContext::new();
        LOADED.get_or_make(ctx, Kernels::load)
    }

    fn load(ctx: &Context) -> Result<Kernels> {
        let api = CudaApi::get()?;
        let text = match &crate::env::settings().cuda_ptx {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| Error::invalid_input(format!("VIDEO_HW_CUDA_PTX={}: {e}", path.display())))?,
            None => PTX.to_owned(),
        };
        let _current = ctx.push()?;
        let null = ptr::null_mut();
        let mut kernels = Kernels {
            ctx: ctx.clone(),
            module: load_module(api, &text)?,
            transform_module: ptr::null_mut(),
            nv12_to_rgb: null,
            transform_rgb: null,
            transform_yuv: null,
            deinterleave_uv8: null,
            deinterleave_uv16: null,
            shift_luma16: null,
        };
        kernels.nv12_to_rgb = kernels.function(api, "nv12_to_rgb")?;
        kernels.deinterleave_uv8 = kernels.function(api, "deinterleave_uv8")?;
        kernels.deinterleave_uv16 = kernels.function(api, "deinterleave_uv16")?;
        kernels.shift_luma16 = kernels.function(api, "shift_luma16")?;
        kernels.transform_module = load_module(api, TRANSFORM_PTX)?;
        kernels.transform_rgb = function_of(api, kernels.transform_module, "transform_rgb")?;
        kernels.transform_yuv = function_of(api, kernels.transform_module, "transform_yuv")?;
        Ok(kernels)
    }

    fn function(&self, api: &CudaApi, name: &str) -> Result<CUfunction> {
        function_of(api, self.module, name)
    }

    /// Queues the transform `params` describes on `stream`: `transform_rgb` (one output
    /// pixel per thread), or with `yuv` `transform_yuv` (one output sample of one plane per
    /// thread; the grid's third dimension is the component).
    ///
    /// # Safety
    ///
    /// Every pointer in `params` must be device memory of this context that stays
    /// allocated until the stream has run the kernel: the source planes hold the rows and
    /// columns the taps read at their pitches, the tap tables hold the entries their
    /// offsets name (an offsets table has `width + 1` / `height + 1` entries), and `dst`
    /// holds the output (its planes at the rows, offsets and pitches `params` gives).
    pub unsafe fn transform(&self, stream: &Stream, params: &TransformParams, yuv: bool) -> Result<()> {
        let mut p = *params;
        let mut args: [*mut c_void; 1] = [(&raw mut p).cast()];
        let (gx, gy) = grid(params.width.max(0) as u32, params.height.max(0) as u32);
        let (f, what, gz) = if yuv {
            (self.transform_yuv, "cuLaunchKernel(transform_yuv)", 3)
        } else {
            (self.transform_rgb, "cuLaunchKernel(transform_rgb)", 1)
        };
        // SAFETY: one pointer to the kernel's one parameter, a live local of its C layout
        // (`TransformParams`); the caller guarantees the memory it points at.
        unsafe { self.launch_grid(f, what, (gx, gy, gz), BLOCK, stream, &mut args) }
    }

    /// Queues YUV 4:2:0 (NV12, or P016 when `wide`) → RGB on `stream`.
    ///
    /// # Safety
    ///
    /// `luma` / `chroma` must point at `height` / `height/2` rows of `luma_pitch` /
    /// `chroma_pitch` bytes holding `width` samples, and `dst` at an output large enough for
    /// `layout` (`height` rows of `dst_pitch`, three planes `plane_stride` apart when
    /// planar), all device memory of this context that stays allocated until the stream
    /// has run the kernel.
    #[allow(clippy::too_many_arguments, reason = "mirrors the kernel's parameter list")]
    pub unsafe fn nv12_to_rgb(
        &self,
        stream: &Stream,
        (luma, luma_pitch): (u64, usize),
        (chroma, chroma_pitch): (u64, usize),
        (dst, dst_pitch, plane_stride): (u64, usize, usize),
        (width, height): (u32, u32),
        coefficients: YuvToRgb,
        layout: RgbLayout,
        wide: bool,
    ) -> Result<()> {
        let (mut luma, mut chroma, mut dst) = (luma, chroma, dst);
        let mut luma_pitch = to_i32(luma_pitch, "pitch")?;
        let mut chroma_pitch = to_i32(chroma_pitch, "pitch")?;
        let mut dst_pitch = to_i32(dst_pitch, "pitch")?;
        let mut plane_stride = plane_stride as i64;
        let mut w = to_i32(width as usize, "width")?;
        let mut h = to_i32(height as usize, "height")?;
        let mut m = coefficients;
        let mut layout = layout as i32;
        let mut wide = i32::from(wide);
        let mut params: [*mut c_void; 12] = [
            (&raw mut luma).cast(),
            (&raw mut luma_pitch).cast(),
            (&raw mut chroma).cast(),
            (&raw mut chroma_pitch).cast(),
            (&raw mut dst).cast(),
            (&raw mut dst_pitch).cast(),
            (&raw mut plane_stride).cast(),
            (&raw mut w).cast(),
            (&raw mut h).cast(),
            (&raw mut m).cast(),
            (&raw mut layout).cast(),
            (&raw mut wide).cast(),
        ];
        let (bx, by) = (16u32, 8u32);
        let grid_x = width.div_ceil(2).div_ceil(bx).max(1);
        let grid_y = height.div_ceil(2).div_ceil(by).max(1);
        // SAFETY: `params` holds one pointer per kernel parameter, in order and of the
        // C types convert.cu declares (pointers as u64, ints as i32, long long as i64, the
        // #[repr(C)] struct by value), all live locals for the call; the caller
        // guarantees the memory the kernel reads and writes.
        unsafe {
            self.launch(
                self.nv12_to_rgb,
                "cuLaunchKernel(nv12_to_rgb)",
                (grid_x, grid_y),
                (bx, by),
                stream,
                &mut params,
            )
        }
    }

    /// Queues 4:2:0 interleaved chroma → a U plane and a V plane of `cwidth` x `cheight`
    /// samples: NV12 bytes as they are (`shift` `None`: YUV420P's chroma), or P016 words
    /// (value in the high bits) shifted right by `shift` (yuv420p10le's chroma for
    /// `16 - bit_depth`). Pitches are in bytes.
    ///
    /// # Safety
    ///
    /// `chroma` must hold `cheight` rows of `chroma_pitch` bytes with `2 * cwidth` samples
    /// each; `u` and `v` `cheight` rows of `dst_pitch` bytes with `cwidth` samples each; all
    /// device memory of this context that stays allocated until the stream has run the
    /// kernel.
    pub unsafe fn deinterleave_uv(
        &self,
        stream: &Stream,
        (chroma, chroma_pitch): (u64, usize),
        (u, v, dst_pitch): (u64, u64, usize),
        (cwidth, cheight): (u32, u32),
        shift: Option<u32>,
    ) -> Result<()> {
        let (mut chroma, mut u, mut v) = (chroma, u, v);
        // The 16-bit kernel takes its pitches in words.
        let unit = if shift.is_some() { 2 } else { 1 };
        let mut chroma_pitch = to_i32(chroma_pitch / unit, "pitch")?;
        let mut dst_pitch = to_i32(dst_pitch / unit, "pitch")?;
        let (mut w, mut h) = (to_i32(cwidth as usize, "width")?, to_i32(cheight as usize, "height")?);
        let mut bits = to_i32(shift.unwrap_or(0) as usize, "shift")?;
        let mut params: [*mut c_void; 8] = [
            (&raw mut chroma).cast(),
            (&raw mut chroma_pitch).cast(),
            (&raw mut u).cast(),
            (&raw mut v).cast(),
            (&raw mut dst_pitch).cast(),
            (&raw mut w).cast(),
            (&raw mut h).cast(),
            (&raw mut bits).cast(),
        ];
        let (f, what, count) = match shift {
            None => (self.deinterleave_uv8, "cuLaunchKernel(deinterleave_uv8)", 7),
            Some(_) => (self.deinterleave_uv16, "cuLaunchKernel(deinterleave_uv16)", 8),
        };
        // SAFETY: the first `count` pointers are one per parameter of the kernel chosen
        // (`deinterleave_uv8` has no shift), in order and of its C types, all live locals;
        // the caller guarantees the memory.
        unsafe { self.launch(f, what, grid(cwidth, cheight), BLOCK, stream, &mut params[..count]) }
    }

    /// Queues P016 luma → 16-bit words shifted right by `shift` (yuv420p10le's luma).
    /// Pitches are in bytes (even).
    ///
    /// # Safety
    ///
    /// `src` and `dst` must each hold `height` rows of their pitch with `2 * width` bytes
    /// each, device memory of this context that stays allocated until the stream has run
    /// the kernel.
    pub unsafe fn shift_luma16(
        &self,
        stream: &Stream,
        (src, src_pitch): (u64, usize),
        (dst, dst_pitch): (u64, usize),
        (width, height): (u32, u32),
        shift: u32,
    ) -> Result<()> {
        let (mut src, mut dst) = (src, dst);
        let (mut src_words, mut dst_words) = (to_i32(src_pitch / 2, "pitch")?, to_i32(dst_pitch / 2, "pitch")?);
        let (mut w, mut h) = (to_i32(width as usize, "width")?, to_i32(height as usize, "height")?);
        let mut shift = to_i32(shift as usize, "shift")?;
        let mut params: [*mut c_void; 7] = [
            (&raw mut src).cast(),
            (&raw mut src_words).cast(),
            (&raw mut dst).cast(),
            (&raw mut dst_words).cast(),
            (&raw mut w).cast(),
            (&raw mut h).cast(),
            (&raw mut shift).cast(),
        ];
        // SAFETY: one pointer per parameter of `shift_luma16`, in order and of its C
        // types, all live locals; the caller guarantees the memory.
        unsafe {
            self.launch(
                self.shift_luma16,
                "cuLaunchKernel(shift_luma16)",
                grid(width, height),
                BLOCK,
                stream,
                &mut params,
            )
        }
    }

    /// Launches `f` on `stream` with this context current (`what` names the call in errors).
    ///
    /// # Safety
    ///
    /// `params` must hold one pointer per parameter of `f`, to values of its C types; the
    /// memory the kernel touches must stay valid until the stream has run it.
    unsafe fn launch(
        &self,
        f: CUfunction,
        what: &str,
        (grid_x, grid_y): (u32, u32),
        block: (u32, u32),
        stream: &Stream,
        params: &mut [*mut c_void],
    ) -> Result<()> {
        // SAFETY: as this function's own contract.
        unsafe { self.launch_grid(f, what, (grid_x, grid_y, 1), block, stream, params) }
    }

    /// [`launch`](Self::launch) with a grid of three dimensions.
    ///
    /// # Safety
    ///
    /// As [`launch`](Self::launch).
    unsafe fn launch_grid(
        &self,
        f: CUfunction,
        what: &str,
        (grid_x, grid_y, grid_z): (u32, u32, u32),
        (bx, by): (u32, u32),
        stream: &Stream,
        params: &mut [*mut c_void],
    ) -> Result<()> {
        let api = CudaApi::get()?;
        let _current = self.ctx.push()?;
        // SAFETY: `f` is a function of this module (loaded in this context, now current);
        // the caller vouches for the parameters and the memory.
        let r = unsafe {
            (api.cuLaunchKernel)(
                f,
                grid_x as c_uint,
                grid_y as c_uint,
                grid_z as c_uint,
                bx,
                by,
                1,
                0,
                stream.raw(),
                params.as_mut_ptr(),
                ptr::null_mut(),
            )
        };
        check(r, what)
    }
}

/// Loads a PTX module into the current context.
fn load_module(api: &CudaApi, text: &str) -> Result<CUmodule> {
    let image = CString::new(text).map_err(|_| Error::invalid_input("PTX text contains a NUL byte"))?;
    let mut module: CUmodule = ptr::null_mut();
    // SAFETY: `image` is a NUL-terminated PTX text that outlives the call; the out-pointer
    // is a live local; the caller made the context current.
    check(unsafe { (api.cuModuleLoadData)(&mut module, image.as_ptr().cast()) }, "cuModuleLoadData (PTX JIT)")?;
    Ok(module)
}

/// The function `name` of `module` (its context current).
fn function_of(api: &CudaApi, module: CUmodule, name: &str) -> Result<CUfunction> {
    let cname = CString::new(name).map_err(|_| Error::invalid_input("kernel name"))?;
    let mut f: CUfunction = ptr::null_mut();
    // SAFETY: the module is live; the name is NUL-terminated; the out-pointer is a live
    // local; the context is current (pushed by the caller).
    check(unsafe { (api.cuModuleGetFunction)(&mut f, module, cname.as_ptr()) }, "cuModuleGetFunction")?;
    Ok(f)
}

/// A kernel parameter as C `int`.
fn to_i32(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::invalid_input(format!("{what} {v}")))
}

/// Blocks of [`BLOCK`] covering `width` x `height` samples (at least one).
fn grid(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(BLOCK.0).max(1), height.div_ceil(BLOCK.1).max(1))
}
