//! The FFmpeg entry points the engine calls, resolved once from the loaded libraries.
//!
//! Only functions are declared here, never a struct: their fields are reached through the
//! per-major offsets of [`super::layout`]. Every signature below is the same in libavcodec
//! 59-63 and libavutil 57-61 (FFmpeg keeps function signatures stable; the few changed in
//! those majors are not used).

use std::ffi::{c_char, c_int, c_uint, c_void};

use libloading::Library;

/// Declares opaque FFmpeg types: only ever used behind pointers.
macro_rules! opaque {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("FFmpeg's `", stringify!($name), "`, opaque here (fields through the layout tables).")]
            #[repr(C)]
            pub(crate) struct $name {
                _private: [u8; 0],
            }
        )*
    };
}

opaque!(
    AVFrame,
    AVCodecContext,
    AVCodec,
    AVPacket,
    AVBufferRef,
    AVDictionary,
    AVCodecHWConfig,
    AVPixFmtDescriptor,
    AVOption,
    SwsContext,
);

/// Declares the function table of the libraries and its loader. `required` entries must
/// all resolve or the library set is refused; `optional` ones are `None` where missing.
macro_rules! entry_points {
    (
        required {
            $($lib:ident fn $name:ident($($arg:ty),*) $(-> $ret:ty)?;)*
        }
        optional {
            $($olib:ident fn $oname:ident($($oarg:ty),*) $(-> $oret:ty)?;)*
        }
    ) => {
        /// FFmpeg's entry points, as resolved from the loaded libraries.
        #[allow(non_snake_case, reason = "fields are named as the C symbols they hold")]
        pub(crate) struct Fns {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub(crate) $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,
            )*
            $(
                #[doc = concat!("`", stringify!($oname), "`, where the library has it.")]
                pub(crate) $oname: Option<unsafe extern "C" fn($($oarg),*) $(-> $oret)?>,
            )*
        }

        impl Fns {
            /// Resolves every entry point; `Err` names the first one missing.
            pub(crate) fn resolve(libs: &Libs<'_>) -> Result<Fns, String> {
                Ok(Fns {
                    $(
                        // SAFETY: the field's type is the C declaration of this symbol in
                        // every supported major.
                        $name: unsafe { symbol(libs.$lib, stringify!($lib), concat!(stringify!($name), "\0")) }?,
                    )*
                    $(
                        // SAFETY: as above.
                        $oname: Option::<&Library>::from(libs.$olib).and_then(|l| unsafe { symbol(l, stringify!($olib), concat!(stringify!($oname), "\0")) }.ok()),
                    )*
                })
            }
        }
    };
}

/// The libraries symbols are resolved from.
pub(crate) struct Libs<'a> {
    /// libavutil.
    pub avutil: &'a Library,
    /// libavcodec.
    pub avcodec: &'a Library,
    /// libswscale, where found.
    pub swscale: Option<&'a Library>,
}

/// Resolves `name` (NUL-terminated) in `lib`.
///
/// # Safety
///
/// `F` must be the function-pointer type of the symbol's C declaration.
unsafe fn symbol<F: Copy>(lib: &Library, lib_name: &str, name: &str) -> Result<F, String> {
    // SAFETY: `Option<F>` of a function-pointer type is a nullable C pointer, which is
    // what dlsym yields; the caller guarantees the signature.
    match unsafe { lib.get::<Option<F>>(name.as_bytes()) } {
        Ok(s) => (*s).ok_or_else(|| format!("lib{lib_name} exports {} as a null pointer", name.trim_end_matches('\0'))),
        Err(_) => Err(format!("lib{lib_name} lacks {}", name.trim_end_matches('\0'))),
    }
}

entry_points! {
    required {
        avutil fn avutil_version() -> c_uint;
        avutil fn av_version_info() -> *const c_char;
        avutil fn av_log_set_level(c_int);
        avutil fn av_mallocz(usize) -> *mut c_void;
        avutil fn av_strerror(c_int, *mut c_char, usize) -> c_int;
        avutil fn av_frame_alloc() -> *mut AVFrame;
        avutil fn av_frame_free(*mut *mut AVFrame);
        avutil fn av_frame_unref(*mut AVFrame);
        avutil fn av_frame_get_buffer(*mut AVFrame, c_int) -> c_int;
        avutil fn av_frame_is_writable(*mut AVFrame) -> c_int;
        avutil fn av_frame_copy_props(*mut AVFrame, *const AVFrame) -> c_int;
        avutil fn av_buffer_ref(*const AVBufferRef) -> *mut AVBufferRef;
        avutil fn av_buffer_unref(*mut *mut AVBufferRef);
        avutil fn av_dict_set(*mut *mut AVDictionary, *const c_char, *const c_char, c_int) -> c_int;
        avutil fn av_dict_free(*mut *mut AVDictionary);
        avutil fn av_opt_set(*mut c_void, *const c_char, *const c_char, c_int) -> c_int;
        avutil fn av_opt_find(*mut c_void, *const c_char, *const c_char, c_int, c_int) -> *const AVOption;
        avutil fn av_get_pix_fmt(*const c_char) -> c_int;
        avutil fn av_get_pix_fmt_name(c_int) -> *const c_char;
        avutil fn av_pix_fmt_desc_get(c_int) -> *const AVPixFmtDescriptor;
        avutil fn av_hwdevice_find_type_by_name(*const c_char) -> c_int;
        avutil fn av_hwdevice_ctx_create(*mut *mut AVBufferRef, c_int, *const c_char, *mut AVDictionary, c_int) -> c_int;
        avutil fn av_hwframe_ctx_alloc(*mut AVBufferRef) -> *mut AVBufferRef;
        avutil fn av_hwframe_ctx_init(*mut AVBufferRef) -> c_int;
        avutil fn av_hwframe_get_buffer(*mut AVBufferRef, *mut AVFrame, c_int) -> c_int;
        avutil fn av_hwframe_transfer_data(*mut AVFrame, *const AVFrame, c_int) -> c_int;
        avcodec fn avcodec_version() -> c_uint;
        avcodec fn avcodec_find_decoder_by_name(*const c_char) -> *const AVCodec;
        avcodec fn avcodec_find_decoder(c_int) -> *const AVCodec;
        avcodec fn avcodec_find_encoder_by_name(*const c_char) -> *const AVCodec;
        avcodec fn avcodec_alloc_context3(*const AVCodec) -> *mut AVCodecContext;
        avcodec fn avcodec_free_context(*mut *mut AVCodecContext);
        avcodec fn avcodec_open2(*mut AVCodecContext, *const AVCodec, *mut *mut AVDictionary) -> c_int;
        avcodec fn avcodec_send_packet(*mut AVCodecContext, *const AVPacket) -> c_int;
        avcodec fn avcodec_receive_frame(*mut AVCodecContext, *mut AVFrame) -> c_int;
        avcodec fn avcodec_send_frame(*mut AVCodecContext, *const AVFrame) -> c_int;
        avcodec fn avcodec_receive_packet(*mut AVCodecContext, *mut AVPacket) -> c_int;
        avcodec fn avcodec_flush_buffers(*mut AVCodecContext);
        avcodec fn avcodec_get_hw_config(*const AVCodec, c_int) -> *const AVCodecHWConfig;
        avcodec fn av_packet_alloc() -> *mut AVPacket;
        avcodec fn av_packet_free(*mut *mut AVPacket);
        avcodec fn av_packet_unref(*mut AVPacket);
        avcodec fn av_new_packet(*mut AVPacket, c_int) -> c_int;
    }
    optional {
        // Decoded pictures in buffers of this crate's (`buffers.rs`); without any of
        // these, libavcodec's own buffers are used and each picture is copied out.
        avcodec fn avcodec_default_get_buffer2(*mut AVCodecContext, *mut AVFrame, c_int) -> c_int;
        avcodec fn avcodec_default_execute(*mut AVCodecContext, *mut c_void, *mut c_void, *mut c_int, c_int, c_int) -> c_int;
        avcodec fn avcodec_align_dimensions2(*mut AVCodecContext, *mut c_int, *mut c_int, *mut c_int);
        avutil fn av_buffer_create(*mut u8, usize, Option<unsafe extern "C" fn(*mut c_void, *mut u8)>, *mut c_void, c_int) -> *mut AVBufferRef;
        avutil fn av_frame_get_plane_buffer(*const AVFrame, c_int) -> *mut AVBufferRef;
        avutil fn av_image_fill_linesizes(*mut c_int, c_int, c_int) -> c_int;
        avutil fn av_image_fill_plane_sizes(*mut usize, c_int, c_int, *const isize) -> c_int;
        // libavcodec 61.13 and later; older majors have AVCodec.pix_fmts instead (the
        // field is gone from 63 on, where this is the only way).
        avcodec fn avcodec_get_supported_config(*const AVCodecContext, *const AVCodec, c_int, c_uint, *mut *const c_void, *mut c_int) -> c_int;
        swscale fn sws_getContext(c_int, c_int, c_int, c_int, c_int, c_int, c_int, *mut c_void, *mut c_void, *const f64) -> *mut SwsContext;
        swscale fn sws_scale(*mut SwsContext, *const *const u8, *const c_int, c_int, c_int, *const *mut u8, *const c_int) -> c_int;
        swscale fn sws_freeContext(*mut SwsContext);
        swscale fn sws_getColorspaceDetails(*mut SwsContext, *mut *mut c_int, *mut c_int, *mut *mut c_int, *mut c_int, *mut c_int, *mut c_int, *mut c_int) -> c_int;
        swscale fn sws_setColorspaceDetails(*mut SwsContext, *const c_int, c_int, *const c_int, c_int, c_int, c_int, c_int) -> c_int;
    }
}
