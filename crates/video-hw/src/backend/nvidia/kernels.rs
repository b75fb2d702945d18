//! The conversion kernels of `kernels/convert.cu`, shipped as PTX (compiled offline by
//! `scripts/build-ptx.sh`) and JIT-compiled by the driver when first used in a context.
//!
//! PTX instead of NVRTC: the driver alone can load PTX, so no CUDA toolkit or NVRTC
//! library is needed where video-hw runs. `VIDEO_HW_CUDA_PTX=/path/file.ptx` loads
//! another build of the same kernels (for kernel development).

use std::collections::HashMap;
use std::ffi::{CString, c_uint, c_void};
use std::ptr;
use std::sync::{Arc, Mutex, OnceLock};

use super::cuda::{Context, Stream, check};
use super::loader::CudaApi;
use super::sys::cuda::{CUfunction, CUmodule};
use crate::error::{Error, Result};

/// The committed PTX.
const PTX: &str = include_str!("kernels/convert.ptx");

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
    nv12_to_rgb: CUfunction,
}

// SAFETY: module and function handles are driver objects usable from any thread with
// their context current (every launch pushes it); they are never dereferenced in Rust.
unsafe impl Send for Kernels {}
// SAFETY: as above; launching the same function from several threads is allowed.
unsafe impl Sync for Kernels {}

impl Drop for Kernels {
    fn drop(&mut self) {
        let Ok(api) = CudaApi::get() else { return };
        let _current = self.ctx.push();
        // SAFETY: the module is live and unloaded once; no launch can be running on a
        // value being dropped (launches borrow it).
        let r = unsafe { (api.cuModuleUnload)(self.module) };
        if let Err(e) = check(r, "cuModuleUnload") {
            tracing::warn!("{e}");
        }
    }
}

impl Kernels {
    /// The kernels of `ctx`, loaded once per context and process.
    pub fn get(ctx: &Context) -> Result<Arc<Kernels>> {
        static LOADED: OnceLock<Mutex<HashMap<usize, Arc<Kernels>>>> = OnceLock::new();
        let map = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        let key = ctx.raw() as usize;
        if let Some(k) = map.get(&key) {
            return Ok(k.clone());
        }
        let k = Arc::new(Kernels::load(ctx)?);
        map.insert(key, k.clone());
        Ok(k)
    }

    fn load(ctx: &Context) -> Result<Kernels> {
        let api = CudaApi::get()?;
        let text = match std::env::var_os("VIDEO_HW_CUDA_PTX") {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| Error::invalid_input(format!("VIDEO_HW_CUDA_PTX={}: {e}", path.to_string_lossy())))?,
            None => PTX.to_owned(),
        };
        let image = CString::new(text).map_err(|_| Error::invalid_input("PTX text contains a NUL byte"))?;
        let _current = ctx.push()?;
        let mut module: CUmodule = ptr::null_mut();
        // SAFETY: `image` is a NUL-terminated PTX text that outlives the call; the
        // out-pointer is a live local; the context is current.
        check(unsafe { (api.cuModuleLoadData)(&mut module, image.as_ptr().cast()) }, "cuModuleLoadData (PTX JIT)")?;
        let mut kernels = Kernels { ctx: ctx.clone(), module, nv12_to_rgb: ptr::null_mut() };
        kernels.nv12_to_rgb = kernels.function(api, "nv12_to_rgb")?;
        Ok(kernels)
    }

    fn function(&self, api: &CudaApi, name: &str) -> Result<CUfunction> {
        let cname = CString::new(name).map_err(|_| Error::invalid_input("kernel name"))?;
        let mut f: CUfunction = ptr::null_mut();
        // SAFETY: the module is live; the name is NUL-terminated; the out-pointer is a
        // live local; the context is current (pushed by the caller).
        check(unsafe { (api.cuModuleGetFunction)(&mut f, self.module, cname.as_ptr()) }, "cuModuleGetFunction")?;
        Ok(f)
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
        let api = CudaApi::get()?;
        let to_i32 = |v: usize, what: &str| i32::try_from(v).map_err(|_| Error::invalid_input(format!("{what} {v}")));
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
        let grid_x = width.div_ceil(2).div_ceil(bx).max(1) as c_uint;
        let grid_y = height.div_ceil(2).div_ceil(by).max(1) as c_uint;
        let _current = self.ctx.push()?;
        // SAFETY: `params` holds one pointer per kernel parameter, in order and of the
        // C types convert.cu declares (pointers as u64, ints as i32, long long as i64, the
        // #[repr(C)] struct by value), all live locals for the call; the caller
        // guarantees the memory the kernel reads and writes.
        let r = unsafe {
            (api.cuLaunchKernel)(
                self.nv12_to_rgb,
                grid_x,
                grid_y,
                1,
                bx,
                by,
                1,
                0,
                stream.raw(),
                params.as_mut_ptr(),
                ptr::null_mut(),
            )
        };
        check(r, "cuLaunchKernel(nv12_to_rgb)")
    }
}
