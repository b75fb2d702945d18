//! Where the fields this engine touches lie in FFmpeg's structs, per major.
//!
//! The libraries are loaded at run time, so no header is read at build time: the offsets
//! of every field used were measured by the C compiler from each major's public headers
//! (`scripts/ffmpeg-layouts/measure.py`, output in `layouts.rs`) and the table of the
//! loaded major is picked at load time. FFmpeg keeps layouts stable within a major (it
//! only appends), so the table of a major fits every minor release of it.
//!
//! [`Layout::check_against_options`] checks the table against the loaded library itself:
//! every `AVCodecContext` field that is also an `AVOption` has its offset in the option
//! table, and they must agree, or the library is refused.

use std::ffi::c_void;

/// Every FFmpeg struct layout the engine needs, for one libavcodec major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The libavcodec major these offsets were measured for.
    pub avcodec_major: u32,
    /// The libavutil major released with it.
    pub avutil_major: u32,
    /// `AVFrame`.
    pub frame: FrameLayout,
    /// `AVCodecContext`.
    pub codec_context: CodecContextLayout,
    /// `AVPacket`.
    pub packet: PacketLayout,
    /// `AVCodec`.
    pub codec: CodecLayout,
    /// `AVCodecHWConfig`.
    pub hw_config: HwConfigLayout,
    /// `AVHWFramesContext`.
    pub hw_frames: HwFramesLayout,
    /// `AVPixFmtDescriptor`.
    pub pix_fmt_descriptor: PixFmtDescriptorLayout,
    /// `AVComponentDescriptor`.
    pub component: ComponentLayout,
    /// `AVOption`.
    pub option: OptionLayout,
}

impl Layout {
    /// The table of libavcodec major `major`, if it is one this engine knows.
    pub(crate) fn for_major(major: u32) -> Option<&'static Layout> {
        super::layouts::LAYOUTS.iter().find(|l| l.avcodec_major == major)
    }

    /// The majors this engine can load, oldest first.
    pub(crate) fn known_majors() -> impl Iterator<Item = u32> {
        super::layouts::LAYOUTS.iter().map(|l| l.avcodec_major)
    }

    /// The `AVCodecContext` fields that are also options, with the option's name.
    pub(crate) fn option_fields(&self) -> [(&'static str, Option<usize>); 19] {
        let c = &self.codec_context;
        [
            ("b", c.bit_rate),
            ("flags", c.flags),
            ("g", c.gop_size),
            ("bf", c.max_b_frames),
            ("maxrate", c.rc_max_rate),
            ("bufsize", c.rc_buffer_size),
            ("threads", c.thread_count),
            ("thread_type", c.thread_type),
            ("strict", c.strict_std_compliance),
            ("apply_cropping", c.apply_cropping),
            ("max_pixels", c.max_pixels),
            ("pixel_format", c.pix_fmt),
            ("color_range", c.color_range),
            ("colorspace", c.colorspace),
            ("ar", c.sample_rate),
            ("sample_fmt", c.sample_fmt),
            ("frame_size", c.frame_size),
            ("request_sample_fmt", c.request_sample_fmt),
            // The option is the whole AVChannelLayout, whose first member is `order`.
            ("ch_layout", c.ch_layout_order),
        ]
    }
}

/// Reads a `T` at byte `offset` of the struct at `base`.
///
/// # Safety
///
/// `base` must point to a live struct of the layout `offset` was measured for, holding a
/// valid `T` there.
pub(crate) unsafe fn read<T: Copy>(base: *const c_void, offset: usize) -> T {
    // SAFETY: the caller guarantees a `T` at this offset of a live struct; FFmpeg's
    // structs are allocated by FFmpeg with their natural alignment, but reading
    // unaligned costs nothing and never faults.
    unsafe { base.cast::<u8>().add(offset).cast::<T>().read_unaligned() }
}

/// Writes a `T` at byte `offset` of the struct at `base`.
///
/// # Safety
///
/// As [`read`], and the struct must be one the caller may write.
pub(crate) unsafe fn write<T: Copy>(base: *mut c_void, offset: usize, value: T) {
    // SAFETY: as in `read`; the caller owns the struct for writing.
    unsafe { base.cast::<u8>().add(offset).cast::<T>().write_unaligned(value) }
}

/// Offsets in `AVFrame` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameLayout {
    /// `sizeof(AVFrame)`.
    pub struct_size: usize,
    /// `AVFrame::data`.
    pub data: Option<usize>,
    /// `AVFrame::linesize`.
    pub linesize: Option<usize>,
    /// `AVFrame::width`.
    pub width: Option<usize>,
    /// `AVFrame::height`.
    pub height: Option<usize>,
    /// `AVFrame::format`.
    pub format: Option<usize>,
    /// `AVFrame::key_frame`.
    pub key_frame: Option<usize>,
    /// `AVFrame::pict_type`.
    pub pict_type: Option<usize>,
    /// `AVFrame::pts`.
    pub pts: Option<usize>,
    /// `AVFrame::best_effort_timestamp`.
    pub best_effort_timestamp: Option<usize>,
    /// `AVFrame::flags`.
    pub flags: Option<usize>,
    /// `AVFrame::color_range`.
    pub color_range: Option<usize>,
    /// `AVFrame::color_primaries`.
    pub color_primaries: Option<usize>,
    /// `AVFrame::color_trc`.
    pub color_trc: Option<usize>,
    /// `AVFrame::colorspace`.
    pub colorspace: Option<usize>,
    /// `AVFrame::chroma_location`.
    pub chroma_location: Option<usize>,
    /// `AVFrame::decode_error_flags`.
    pub decode_error_flags: Option<usize>,
    /// `AVFrame::hw_frames_ctx`.
    pub hw_frames_ctx: Option<usize>,
    /// `AVFrame::crop_top`.
    pub crop_top: Option<usize>,
    /// `AVFrame::crop_bottom`.
    pub crop_bottom: Option<usize>,
    /// `AVFrame::crop_left`.
    pub crop_left: Option<usize>,
    /// `AVFrame::crop_right`.
    pub crop_right: Option<usize>,
    /// `AVFrame::interlaced_frame`.
    pub interlaced_frame: Option<usize>,
    /// `AVFrame::top_field_first`.
    pub top_field_first: Option<usize>,
    /// `AVFrame::nb_samples`.
    pub nb_samples: Option<usize>,
    /// `AVFrame::extended_data`.
    pub extended_data: Option<usize>,
    /// `AVFrame::sample_rate`.
    pub sample_rate: Option<usize>,
    /// `AVFrame::ch_layout.order`.
    pub ch_layout_order: Option<usize>,
    /// `AVFrame::ch_layout.nb_channels`.
    pub ch_layout_nb_channels: Option<usize>,
    /// `AVFrame::ch_layout.u.mask`.
    pub ch_layout_mask: Option<usize>,
}

/// Offsets in `AVCodecContext` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodecContextLayout {
    /// `sizeof(AVCodecContext)`.
    pub struct_size: usize,
    /// `AVCodecContext::codec`.
    pub codec: Option<usize>,
    /// `AVCodecContext::priv_data`.
    pub priv_data: Option<usize>,
    /// `AVCodecContext::opaque`.
    pub opaque: Option<usize>,
    /// `AVCodecContext::bit_rate`.
    pub bit_rate: Option<usize>,
    /// `AVCodecContext::flags`.
    pub flags: Option<usize>,
    /// `AVCodecContext::extradata`.
    pub extradata: Option<usize>,
    /// `AVCodecContext::extradata_size`.
    pub extradata_size: Option<usize>,
    /// `AVCodecContext::time_base`.
    pub time_base: Option<usize>,
    /// `AVCodecContext::framerate`.
    pub framerate: Option<usize>,
    /// `AVCodecContext::width`.
    pub width: Option<usize>,
    /// `AVCodecContext::height`.
    pub height: Option<usize>,
    /// `AVCodecContext::pix_fmt`.
    pub pix_fmt: Option<usize>,
    /// `AVCodecContext::sw_pix_fmt`.
    pub sw_pix_fmt: Option<usize>,
    /// `AVCodecContext::get_format`.
    pub get_format: Option<usize>,
    /// `AVCodecContext::gop_size`.
    pub gop_size: Option<usize>,
    /// `AVCodecContext::max_b_frames`.
    pub max_b_frames: Option<usize>,
    /// `AVCodecContext::rc_max_rate`.
    pub rc_max_rate: Option<usize>,
    /// `AVCodecContext::rc_buffer_size`.
    pub rc_buffer_size: Option<usize>,
    /// `AVCodecContext::global_quality`.
    pub global_quality: Option<usize>,
    /// `AVCodecContext::thread_count`.
    pub thread_count: Option<usize>,
    /// `AVCodecContext::thread_type`.
    pub thread_type: Option<usize>,
    /// `AVCodecContext::active_thread_type`.
    pub active_thread_type: Option<usize>,
    /// `AVCodecContext::strict_std_compliance`.
    pub strict_std_compliance: Option<usize>,
    /// `AVCodecContext::apply_cropping`.
    pub apply_cropping: Option<usize>,
    /// `AVCodecContext::max_pixels`.
    pub max_pixels: Option<usize>,
    /// `AVCodecContext::hw_device_ctx`.
    pub hw_device_ctx: Option<usize>,
    /// `AVCodecContext::hw_frames_ctx`.
    pub hw_frames_ctx: Option<usize>,
    /// `AVCodecContext::color_range`.
    pub color_range: Option<usize>,
    /// `AVCodecContext::color_primaries`.
    pub color_primaries: Option<usize>,
    /// `AVCodecContext::color_trc`.
    pub color_trc: Option<usize>,
    /// `AVCodecContext::colorspace`.
    pub colorspace: Option<usize>,
    /// `AVCodecContext::chroma_sample_location`.
    pub chroma_sample_location: Option<usize>,
    /// `AVCodecContext::profile`.
    pub profile: Option<usize>,
    /// `AVCodecContext::level`.
    pub level: Option<usize>,
    /// `AVCodecContext::sample_rate`.
    pub sample_rate: Option<usize>,
    /// `AVCodecContext::sample_fmt`.
    pub sample_fmt: Option<usize>,
    /// `AVCodecContext::frame_size`.
    pub frame_size: Option<usize>,
    /// `AVCodecContext::request_sample_fmt`.
    pub request_sample_fmt: Option<usize>,
    /// `AVCodecContext::ch_layout.order`.
    pub ch_layout_order: Option<usize>,
    /// `AVCodecContext::ch_layout.nb_channels`.
    pub ch_layout_nb_channels: Option<usize>,
    /// `AVCodecContext::ch_layout.u.mask`.
    pub ch_layout_mask: Option<usize>,
}

/// Offsets in `AVPacket` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketLayout {
    /// `sizeof(AVPacket)`.
    pub struct_size: usize,
    /// `AVPacket::buf`.
    pub buf: Option<usize>,
    /// `AVPacket::pts`.
    pub pts: Option<usize>,
    /// `AVPacket::dts`.
    pub dts: Option<usize>,
    /// `AVPacket::data`.
    pub data: Option<usize>,
    /// `AVPacket::size`.
    pub size: Option<usize>,
    /// `AVPacket::flags`.
    pub flags: Option<usize>,
    /// `AVPacket::duration`.
    pub duration: Option<usize>,
}

/// Offsets in `AVCodec` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodecLayout {
    /// `sizeof(AVCodec)`.
    pub struct_size: usize,
    /// `AVCodec::name`.
    pub name: Option<usize>,
    /// `AVCodec::long_name`.
    pub long_name: Option<usize>,
    /// `AVCodec::type`.
    pub kind: Option<usize>,
    /// `AVCodec::id`.
    pub id: Option<usize>,
    /// `AVCodec::capabilities`.
    pub capabilities: Option<usize>,
    /// `AVCodec::pix_fmts`.
    pub pix_fmts: Option<usize>,
    /// `AVCodec::wrapper_name`.
    pub wrapper_name: Option<usize>,
}

/// Offsets in `AVCodecHWConfig` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HwConfigLayout {
    /// `sizeof(AVCodecHWConfig)`.
    pub struct_size: usize,
    /// `AVCodecHWConfig::pix_fmt`.
    pub pix_fmt: Option<usize>,
    /// `AVCodecHWConfig::methods`.
    pub methods: Option<usize>,
    /// `AVCodecHWConfig::device_type`.
    pub device_type: Option<usize>,
}

/// Offsets in `AVHWFramesContext` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HwFramesLayout {
    /// `sizeof(AVHWFramesContext)`.
    pub struct_size: usize,
    /// `AVHWFramesContext::device_ctx`.
    pub device_ctx: Option<usize>,
    /// `AVHWFramesContext::initial_pool_size`.
    pub initial_pool_size: Option<usize>,
    /// `AVHWFramesContext::format`.
    pub format: Option<usize>,
    /// `AVHWFramesContext::sw_format`.
    pub sw_format: Option<usize>,
    /// `AVHWFramesContext::width`.
    pub width: Option<usize>,
    /// `AVHWFramesContext::height`.
    pub height: Option<usize>,
}

/// Offsets in `AVPixFmtDescriptor` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixFmtDescriptorLayout {
    /// `sizeof(AVPixFmtDescriptor)`.
    pub struct_size: usize,
    /// `AVPixFmtDescriptor::name`.
    pub name: Option<usize>,
    /// `AVPixFmtDescriptor::nb_components`.
    pub nb_components: Option<usize>,
    /// `AVPixFmtDescriptor::log2_chroma_w`.
    pub log2_chroma_w: Option<usize>,
    /// `AVPixFmtDescriptor::log2_chroma_h`.
    pub log2_chroma_h: Option<usize>,
    /// `AVPixFmtDescriptor::flags`.
    pub flags: Option<usize>,
    /// `AVPixFmtDescriptor::comp`.
    pub comp: Option<usize>,
}

/// Offsets in `AVComponentDescriptor` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ComponentLayout {
    /// `sizeof(AVComponentDescriptor)`.
    pub struct_size: usize,
    /// `AVComponentDescriptor::plane`.
    pub plane: Option<usize>,
    /// `AVComponentDescriptor::step`.
    pub step: Option<usize>,
    /// `AVComponentDescriptor::offset`.
    pub offset: Option<usize>,
    /// `AVComponentDescriptor::shift`.
    pub shift: Option<usize>,
    /// `AVComponentDescriptor::depth`.
    pub depth: Option<usize>,
}

/// Offsets in `AVOption` (bytes; `None`: not in this major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionLayout {
    /// `sizeof(AVOption)`.
    pub struct_size: usize,
    /// `AVOption::name`.
    pub name: Option<usize>,
    /// `AVOption::offset`.
    pub offset: Option<usize>,
    /// `AVOption::type`.
    pub kind: Option<usize>,
}
