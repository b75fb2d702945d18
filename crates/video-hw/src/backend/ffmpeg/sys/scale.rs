//! libswscale, for the pixel layouts the engine does not read itself (4:2:2, 4:4:4,
//! 4:0:0, 12-bit, …): they are converted to `yuv420p` / `yuv420p10le` first. libswscale
//! is optional; without it such pictures are refused with the reason.

use std::ffi::c_int;

use super::codec::AvError;
use super::frame::Frame;

/// `SWS_BICUBIC`, the flags of ffmpeg's `scale` filter.
const SWS_BICUBIC: c_int = 4;

/// Converts `src` to a new frame of `dst_format` at the same size, keeping sample values
/// (no range conversion, as `scale=in_range=full:out_range=full` does). `Err` with the
/// reason when libswscale is missing or cannot convert.
pub(crate) fn convert(src: &Frame, dst_format: c_int) -> Result<Frame, String> {
    let ff = src.ffmpeg();
    let (Some(get), Some(scale), Some(free), Some(get_cs), Some(set_cs)) = (
        ff.fns.sws_getContext,
        ff.fns.sws_scale,
        ff.fns.sws_freeContext,
        ff.fns.sws_getColorspaceDetails,
        ff.fns.sws_setColorspaceDetails,
    ) else {
        return Err("libswscale was not found beside libavcodec".into());
    };
    let (w, h) = (src.width() as c_int, src.height() as c_int);
    let out = Frame::new_video(ff, dst_format, src.width(), src.height()).map_err(|e: AvError| e.to_string())?;
    // SAFETY: valid sizes and formats; null filters and parameters are allowed.
    let ctx = unsafe {
        get(
            w,
            h,
            src.format(),
            w,
            h,
            dst_format,
            SWS_BICUBIC,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null(),
        )
    };
    if ctx.is_null() {
        return Err("swscale cannot convert it".into());
    }
    let mut src_data = [std::ptr::null::<u8>(); 4];
    let mut src_lines = [0 as c_int; 4];
    let mut dst_data = [std::ptr::null_mut::<u8>(); 4];
    let mut dst_lines = [0 as c_int; 4];
    for i in 0..4 {
        src_data[i] = src.data_ptr(i);
        src_lines[i] = src.linesize(i);
        dst_data[i] = out.data_ptr(i);
        dst_lines[i] = out.linesize(i);
    }
    // SAFETY: `ctx` is a live scaler; the getter fills the out-parameters, which the
    // setter takes back unchanged except for the two ranges. The planes are the frames'
    // own, sized for `h` rows; the context is freed once at the end.
    let rows = unsafe {
        let (mut inv, mut table) = (std::ptr::null_mut(), std::ptr::null_mut());
        let (mut src_range, mut dst_range, mut brightness, mut contrast, mut saturation) = (0, 0, 0, 0, 0);
        if get_cs(
            ctx,
            &mut inv,
            &mut src_range,
            &mut table,
            &mut dst_range,
            &mut brightness,
            &mut contrast,
            &mut saturation,
        ) >= 0
        {
            set_cs(ctx, inv, 1, table, 1, brightness, contrast, saturation);
        }
        let rows = scale(ctx, src_data.as_ptr(), src_lines.as_ptr(), 0, h, dst_data.as_ptr(), dst_lines.as_ptr());
        free(ctx);
        rows
    };
    if rows != h {
        return Err(format!("swscale converted {rows} of {h} rows"));
    }
    Ok(out)
}
