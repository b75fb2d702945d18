//! Compares the Rust bindings with the C layout recorded by `scripts/gen-nvidia-ffi.sh`
//! (sizes, alignments, field offsets) and the hand-written NVENC version constants with
//! the values of the C macros. The table was measured on x86_64 Linux; LP64 Linux
//! targets share that layout.

use super::layout_expected::{OFFSETS, SIZES, VERSIONS};

#[test]
fn struct_sizes_and_alignments_match_c() {
    let bad: Vec<String> = SIZES
        .iter()
        .filter(|(_, cs, ca, rs, ra)| cs != rs || ca != ra)
        .map(|(name, cs, ca, rs, ra)| format!("{name}: C size {cs} align {ca}, Rust size {rs} align {ra}"))
        .collect();
    assert!(bad.is_empty(), "layout mismatches:\n{}", bad.join("\n"));
    assert!(SIZES.len() > 50, "the table lost most of its rows ({})", SIZES.len());
}

#[test]
fn field_offsets_and_sizes_match_c() {
    let bad: Vec<String> = OFFSETS
        .iter()
        .filter(|(_, co, cs, ro, rs)| co != ro || cs != rs)
        .map(|(name, co, cs, ro, rs)| format!("{name}: C offset {co} size {cs}, Rust offset {ro} size {rs}"))
        .collect();
    assert!(bad.is_empty(), "offset mismatches:\n{}", bad.join("\n"));
}

#[test]
fn nvenc_versions_match_c_macros() {
    let bad: Vec<String> = VERSIONS
        .iter()
        .filter(|(_, c, r)| c != r)
        .map(|(name, c, r)| format!("{name}: C {c:#010x}, Rust {r:#010x}"))
        .collect();
    assert!(bad.is_empty(), "version mismatches:\n{}", bad.join("\n"));
}

/// The fields the engines touch first are in the table (guards the script's parser).
#[test]
fn key_fields_are_covered() {
    let key = [
        "CUVIDDECODECREATEINFO.ulNumDecodeSurfaces",
        "CUVIDDECODECREATEINFO.display_area",
        "CUVIDDECODECREATEINFO.target_rect",
        "CUVIDPICPARAMS.CodecSpecific",
        "CUVIDDECODECAPS.nMaxWidth",
        "CUVIDEOFORMAT.display_area",
        "CUVIDPARSERDISPINFO.timestamp",
        "CUVIDPARSERPARAMS.pfnDisplayPicture",
        "CUVIDSOURCEDATAPACKET.payload",
        "CUVIDPROCPARAMS.output_stream",
        "CUVIDRECONFIGUREDECODERINFO.ulNumDecodeSurfaces",
        "CUVIDGETDECODESTATUS.decodeStatus",
        "CUDA_MEMCPY2D.Height",
        "NV_ENC_INITIALIZE_PARAMS.encodeConfig",
        "NV_ENC_CONFIG.rcParams",
        "NV_ENC_CONFIG.encodeCodecConfig",
        "NV_ENC_PIC_PARAMS.inputBuffer",
        "NV_ENC_PIC_PARAMS.outputBitstream",
        "NV_ENC_LOCK_BITSTREAM.bitstreamBufferPtr",
        "NV_ENC_REGISTER_RESOURCE.resourceToRegister",
        "NV_ENCODE_API_FUNCTION_LIST.nvEncEncodePicture",
    ];
    for k in key {
        assert!(OFFSETS.iter().any(|(name, ..)| *name == k), "{k} missing from layout_expected.rs");
    }
    for v in
        ["NV_ENC_INITIALIZE_PARAMS_VER", "NV_ENC_CONFIG_VER", "NV_ENCODE_API_FUNCTION_LIST_VER", "NVENCAPI_VERSION"]
    {
        assert!(VERSIONS.iter().any(|(name, _, _)| *name == v), "{v} missing from layout_expected.rs");
    }
}
