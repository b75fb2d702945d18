//! Cisco OpenH264, compiled from the sources bundled in the `openh264-sys2` crate with
//! video-hw's patches (`patches/`, described in `docs/openh264-patches.md`) applied at
//! build time, and with OpenH264's x86 assembly where `nasm` is installed.
//!
//! The types and constants are `openh264-sys2`'s bindings, re-exported; the five entry
//! points of the library are declared here (OpenH264's `codec_api.h`). Everything else is
//! reached through the `ISVCDecoder` / `ISVCEncoder` vtables.

#![allow(non_snake_case)]

use std::os::raw::{c_int, c_long};

pub use openh264_sys2::*;

unsafe extern "C" {
    /// Creates an encoder; writes it to `ppEncoder`; 0 on success.
    pub fn WelsCreateSVCEncoder(ppEncoder: *mut *mut ISVCEncoder) -> c_int;
    /// Destroys an encoder made by [`WelsCreateSVCEncoder`].
    pub fn WelsDestroySVCEncoder(pEncoder: *mut ISVCEncoder);
    /// Creates a decoder; writes it to `ppDecoder`; 0 on success.
    pub fn WelsCreateDecoder(ppDecoder: *mut *mut ISVCDecoder) -> c_long;
    /// Destroys a decoder made by [`WelsCreateDecoder`].
    pub fn WelsDestroyDecoder(pDecoder: *mut ISVCDecoder);
    /// Writes the library's version to `pVersion`.
    pub fn WelsGetCodecVersionEx(pVersion: *mut OpenH264Version);
}

/// Which assembly the build includes: `"x86"` (nasm was found) or `"none"` (C++ only).
pub const ASSEMBLY: &str = env!("VIDEO_HW_OPENH264_ASM");

/// The patches applied to the sources, comma-separated file names without `.patch`
/// (empty when built with `VIDEO_HW_OPENH264_PATCHES=none`).
pub const PATCHES: &str = env!("VIDEO_HW_OPENH264_PATCHES");

/// `ISVCEncoder::SetOption` id of the first IDR picture's lowest QP under rate control
/// (an `int`, 0 for none), added by patch 0012 outside the public `ENCODER_OPTION` enum;
/// refused (`cmInitParaError`) by a build without the patch.
pub const ENCODER_OPTION_FIRST_IDR_QP_FLOOR: ENCODER_OPTION = 1000;
