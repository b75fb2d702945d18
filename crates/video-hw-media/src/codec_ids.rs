//! The containers' names for the video codecs this crate does not parse (VP8, MPEG-1/2,
//! MPEG-4 Part 2, MJPEG, ProRes and the [`Codec::OTHERS`]), mapped to a [`Codec`] that the
//! FFmpeg engine decodes: MP4 sample entry types and `esds` object types, Matroska
//! CodecIDs, the FourCCs of Matroska's `V_MS/VFW/FOURCC` (a BITMAPINFOHEADER) and MPEG-TS
//! stream types. The tables are written from the containers' specifications and the
//! registries they point to (MP4RA, the Matroska codec list, ISO/IEC 13818-1 table 2-34).

use video_hw_types::codec::Codec;

/// The codec an MP4 visual sample entry type names by itself (`mp4v` needs its `esds`:
/// [`mp4_object_type`]).
pub(crate) fn mp4_sample_entry(format: &[u8; 4]) -> Option<Codec> {
    Some(match format {
        b"vp08" => Codec::Vp8,
        // QuickTime's Photo-JPEG and Motion-JPEG A (Motion-JPEG B, `mjpb`, is another codec).
        b"jpeg" | b"mjpa" => Codec::Mjpeg,
        b"apcn" | b"apch" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => Codec::ProRes,
        // QuickTime's MPEG-2 (and the XDCAM/HDV families, all 4:2:0/4:2:2 MPEG-2).
        b"m2v1" | b"mx3p" | b"mx4p" | b"mx5p" | b"mx3n" | b"mx4n" | b"mx5n" | b"hdv1" | b"hdv2" | b"hdv3" | b"hdv4"
        | b"hdv5" | b"hdv6" | b"hdv7" | b"hdv8" | b"hdv9" | b"xdv1" | b"xdv2" | b"xdv3" | b"xdv4" | b"xdv5"
        | b"xdv6" | b"xdv7" | b"xdv8" | b"xdv9" | b"xdva" | b"xdvb" | b"xdvc" | b"xdvd" | b"xdve" | b"xdvf"
        | b"xd5a" | b"xd5b" | b"xd5c" | b"xd5d" | b"xd5e" | b"xd5f" | b"xd59" | b"xd54" | b"xd55" => Codec::Mpeg2,
        b"m1v " | b"mp1v" => Codec::Other("mpeg1video"),
        b"s263" | b"h263" | b"H263" => Codec::Other("h263"),
        b"AVdn" | b"AVdh" => Codec::Other("dnxhd"),
        b"FFV1" => Codec::Other("ffv1"),
        b"ULRA" | b"ULRG" | b"ULY0" | b"ULY2" | b"ULY4" | b"ULH0" | b"ULH2" | b"ULH4" => Codec::Other("utvideo"),
        _ => return None,
    })
}

/// The video codec of an MPEG-4 systems `objectTypeIndication` (an `esds` of an `mp4v`
/// sample entry; ISO/IEC 14496-1 table 5 and MP4RA).
pub(crate) fn mp4_object_type(object_type: u8) -> Option<Codec> {
    Some(match object_type {
        0x20 => Codec::Mpeg4,
        // MPEG-2 Simple, Main, SNR, Spatial, High and 4:2:2 profiles.
        0x60..=0x65 => Codec::Mpeg2,
        0x6a => Codec::Other("mpeg1video"),
        0x6c => Codec::Mjpeg,
        0x21 => Codec::H264,
        0x23 => Codec::Hevc,
        _ => return None,
    })
}

/// The codec of a Matroska video CodecID other than the parsed ones (`V_MS/VFW/FOURCC`
/// is read by [`vfw`]).
pub(crate) fn matroska(codec_id: &str) -> Option<Codec> {
    Some(match codec_id {
        "V_VP8" => Codec::Vp8,
        "V_MPEG2" => Codec::Mpeg2,
        "V_MPEG1" => Codec::Other("mpeg1video"),
        "V_MPEG4/ISO/SP" | "V_MPEG4/ISO/ASP" | "V_MPEG4/ISO/AP" => Codec::Mpeg4,
        "V_MPEG4/MS/V3" => Codec::Other("msmpeg4v3"),
        "V_MJPEG" => Codec::Mjpeg,
        "V_FFV1" => Codec::Other("ffv1"),
        _ => return None,
    })
}

/// The codec of a Video for Windows / AVI FourCC (`biCompression`), compared without
/// regard to case as writers differ (`XVID`, `xvid`).
pub(crate) fn fourcc(code: [u8; 4]) -> Option<Codec> {
    let upper = code.map(|b| b.to_ascii_uppercase());
    Some(match &upper {
        b"FMP4" | b"DIVX" | b"DX50" | b"XVID" | b"MP4V" | b"3IV2" | b"M4S2" | b"DIV1" | b"BLZ0" | b"DXGM" => {
            Codec::Mpeg4
        }
        b"MPG2" | b"MPEG" | b"MP2V" | b"MMES" | b"EM2V" => Codec::Mpeg2,
        b"MPG1" | b"MP1V" | b"PIM1" => Codec::Other("mpeg1video"),
        b"MJPG" | b"AVRN" | b"LJPG" | b"JPGL" | b"AVDJ" => Codec::Mjpeg,
        b"VP80" => Codec::Vp8,
        b"H263" | b"U263" | b"S263" => Codec::Other("h263"),
        b"H261" => Codec::Other("h261"),
        b"FFV1" => Codec::Other("ffv1"),
        b"HFYU" => Codec::Other("huffyuv"),
        b"FFVH" => Codec::Other("ffvhuff"),
        b"ULRA" | b"ULRG" | b"ULY0" | b"ULY2" | b"ULY4" | b"ULH0" | b"ULH2" | b"ULH4" => Codec::Other("utvideo"),
        b"AVDN" => Codec::Other("dnxhd"),
        b"MP42" | b"DIV2" => Codec::Other("msmpeg4v2"),
        b"MP43" | b"DIV3" | b"DIV4" | b"DIV5" | b"DIV6" | b"AP41" | b"COL1" => Codec::Other("msmpeg4v3"),
        b"WMV1" => Codec::Other("wmv1"),
        b"WMV2" => Codec::Other("wmv2"),
        b"WMV3" => Codec::Other("wmv3"),
        b"WVC1" | b"WMVA" => Codec::Other("vc1"),
        _ => return None,
    })
}

/// A `V_MS/VFW/FOURCC` CodecPrivate: a 40-byte BITMAPINFOHEADER (`biCompression` at byte
/// 16) whose following bytes are the codec's extradata (writers count them in `biSize`,
/// so it is not read). The codec and that extradata, or the FourCC as text where the table
/// does not know it; `None` when the header is cut short.
pub(crate) fn vfw(private: &[u8]) -> Option<(Result<Codec, String>, Vec<u8>)> {
    let code: [u8; 4] = private.get(16..20)?.try_into().ok()?;
    let extra = private.get(40..).unwrap_or_default().to_vec();
    let codec = fourcc(code).ok_or_else(|| fourcc_text(&code));
    Some((codec, extra))
}

/// A FourCC as text, `?` for bytes that are not printable ASCII.
pub(crate) fn fourcc_text(code: &[u8; 4]) -> String {
    code.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '?' }).collect()
}

/// The codec of an MPEG-TS `stream_type` other than the parsed ones (ISO/IEC 13818-1
/// table 2-34).
pub(crate) fn ts_stream_type(stream_type: u8) -> Option<Codec> {
    Some(match stream_type {
        0x01 => Codec::Other("mpeg1video"),
        0x02 => Codec::Mpeg2,
        0x10 => Codec::Mpeg4,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_name_ffmpeg_codecs() {
        assert_eq!(mp4_object_type(0x20), Some(Codec::Mpeg4));
        assert_eq!(mp4_object_type(0x61), Some(Codec::Mpeg2));
        assert_eq!(matroska("V_MPEG4/ISO/ASP"), Some(Codec::Mpeg4));
        assert_eq!(fourcc(*b"xvid"), Some(Codec::Mpeg4));
        assert_eq!(ts_stream_type(0x02), Some(Codec::Mpeg2));
        // Every Other a table gives is in Codec::OTHERS (so it parses back from its name).
        for c in [fourcc(*b"HFYU"), fourcc(*b"WVC1"), matroska("V_MPEG1"), mp4_sample_entry(b"AVdn")] {
            let c = c.unwrap();
            assert_eq!(c.name().parse::<Codec>().unwrap(), c);
        }
    }

    #[test]
    fn vfw_header_gives_codec_and_extradata() {
        let mut bih = vec![0u8; 40];
        bih[..4].copy_from_slice(&40u32.to_le_bytes());
        bih[16..20].copy_from_slice(b"XVID");
        bih.extend([0, 0, 1, 0xb0]);
        assert_eq!(vfw(&bih), Some((Ok(Codec::Mpeg4), vec![0, 0, 1, 0xb0])));
        bih[16..20].copy_from_slice(b"ABCD");
        assert_eq!(vfw(&bih).map(|v| v.0), Some(Err("ABCD".to_string())));
        // Cut short: no panic; biSize (which writers make 40 + the extradata) is not read.
        assert_eq!(vfw(&bih[..10]), None);
        assert_eq!(vfw(&bih[..30]).map(|v| v.1), Some(Vec::new()));
        bih[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(vfw(&bih).map(|v| v.1), Some(vec![0, 0, 1, 0xb0]));
    }
}
