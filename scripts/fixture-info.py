#!/usr/bin/env python3
"""Describe the fixtures under testdata/ and write testdata/fixtures.json.

Called by scripts/make-fixtures.sh after it has made the streams and their framemd5
references; not meant to be run on its own (but harmless to run again: it only reads the
streams and rewrites fixtures.json).

    fixture-info.py TESTDATA_DIR MANIFEST_TSV

MANIFEST_TSV has one line per file, tab-separated:

    kind  path  codec  source  exercises  curated-features  expectations

kind is "stream" (an Annex-B elementary stream with framemd5 references), "packets" (an
AV1/VP9 IVF file with framemd5 references; measured by ffprobe only), "container"
(an MP4 made from one of the streams; codec column = the stream it was copied from) or
"input" (a raw encode input; codec column = "y4m" or "yuv:WxH:fps:pixfmt").
curated-features is a comma-separated list; expectations is "key=value;key=value"
(checked against the computed entry; the script fails when one does not hold) plus
"has=feat1|feat2" (each must start one of the features) and "lacks=feat1|feat2" (none may).

Everything in an entry is measured, not copied from the encoder settings:
  * profile, level, width/height (cropped), coded_width/height, pix_fmt, field_order:
    ffprobe (the same fields as the shared corpus' metadata.json);
  * NAL unit types, slice types, slices per picture, IDR/IRAP counts, parameter-set
    flags: ffmpeg's trace_headers bitstream filter (CBS), i.e. the syntax elements;
  * frames: the number of frame lines in the framemd5 references (checked against the
    picture count from the slice headers and against ffprobe -count_frames);
  * keyframes: IDR pictures (H.264) / IRAP pictures, NAL types 16..23 (HEVC), from the
    NAL types; ffprobe's packet K flags are recorded beside it (for H.264 ffmpeg's parser
    also flags recovery-point SEI access units, so the two differ for open-GOP and
    intra-refresh streams, as expected).
"""

import collections
import hashlib
import json
import os
import re
import subprocess
import sys

TRACE_PREFIX = re.compile(r"^\[trace_headers @ [0-9a-fx]+\] ")
FIELD = re.compile(r"^(\d+)\s+(\S+)\s+(?:[01]+\s+)?= (-?\d+)$")

H264_NAL = {1: "non-IDR", 5: "IDR", 6: "SEI", 7: "SPS", 8: "PPS", 9: "AUD", 10: "EOSeq",
            11: "EOStream", 12: "filler", 13: "SPS-ext", 14: "prefix", 15: "subset-SPS", 20: "ext-slice"}
HEVC_NAL = {0: "TRAIL_N", 1: "TRAIL_R", 2: "TSA_N", 3: "TSA_R", 4: "STSA_N", 5: "STSA_R",
            6: "RADL_N", 7: "RADL_R", 8: "RASL_N", 9: "RASL_R", 16: "BLA_W_LP", 17: "BLA_W_RADL",
            18: "BLA_N_LP", 19: "IDR_W_RADL", 20: "IDR_N_LP", 21: "CRA_NUT", 32: "VPS", 33: "SPS",
            34: "PPS", 35: "AUD", 36: "EOS", 37: "EOB", 38: "FD", 39: "SEI_PREFIX", 40: "SEI_SUFFIX"}
H264_SLICE = {0: "P", 1: "B", 2: "I", 3: "SP", 4: "SI"}
HEVC_SLICE = {0: "B", 1: "P", 2: "I"}
HEVC_PROFILE_IDC = {1: "Main", 2: "Main 10", 3: "Main Still Picture", 4: "Rext"}


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"fixture-info: command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r.stdout, r.stderr


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def trace(path, fmt):
    """NAL units of the stream, grouped by packet (access unit), from trace_headers."""
    _, err = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-f", fmt,
                  "-i", path, "-map", "0:v:0", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"])
    packets = []          # list of list of NAL dicts
    cur_packet = None     # None while in extradata
    nal = None
    pending = []          # title lines not yet attributed
    for raw in err.splitlines():
        m = TRACE_PREFIX.match(raw)
        if not m:
            continue
        line = raw[m.end():].strip()
        if line.startswith("Packet:") or line == "Extradata":
            if nal is not None:
                nal["titles"] += pending
            pending = []
            nal = None
            cur_packet = [] if line.startswith("Packet:") else None
            if cur_packet is not None:
                packets.append(cur_packet)
            continue
        f = FIELD.match(line)
        if not f:
            pending.append(line)   # a NAL unit's name, or an SEI message's name inside one
            continue
        name, value = f.group(2), int(f.group(3))
        if name == "forbidden_zero_bit":
            # The title just before forbidden_zero_bit names this NAL unit; any before it
            # belonged to the previous one (trailing SEI message names).
            if nal is not None:
                nal["titles"] += pending[:-1]
            nal = {"title": pending[-1] if pending else None, "titles": [], "fields": {},
                   "all": collections.defaultdict(list)}
            pending = []
            if cur_packet is not None:
                cur_packet.append(nal)
            continue
        if nal is None:
            continue
        if pending:
            nal["titles"] += pending
            pending = []
        nal["fields"].setdefault(name, value)
        nal["all"][name].append(value)
    if nal is not None:
        nal["titles"] += pending
    return packets


def ffprobe_stream(path, fmt):
    out, _ = run(["ffprobe", "-v", "error", "-threads", "1", "-flags", "unaligned", "-f", fmt, "-i", path,
                  "-select_streams", "v:0", "-count_frames", "-count_packets", "-show_streams", "-of", "json"])
    s = json.loads(out)["streams"][0]
    out, _ = run(["ffprobe", "-v", "error", "-f", fmt, "-i", path, "-select_streams", "v:0",
                  "-show_entries", "packet=flags", "-of", "csv=p=0"])
    key_packets = sum(1 for l in out.splitlines() if "K" in l)
    return s, key_packets


def framemd5_lines(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = [c.strip() for c in line.split(",")]
            rows.append((int(cols[4]), cols[5]))
    return rows


def analyse_h264(packets):
    sps, pps = {}, {}
    nal_counts = collections.Counter()
    slice_counts = collections.Counter()
    pictures = []  # each: dict(nal_type, slices, types, field, ref_idc)
    sei = collections.Counter()
    f = collections.Counter()   # flags seen
    mmco = set()
    key_aus = 0
    for pkt in packets:
        if any(n["fields"].get("nal_unit_type") == 5 or "Recovery Point" in n["titles"] for n in pkt):
            key_aus += 1
        for n in pkt:
            t = n["fields"].get("nal_unit_type")
            nal_counts[t] += 1
            fl = n["fields"]
            if t == 7:
                if sps and sps != fl:
                    f["sps-change"] += 1
                sps = fl
            elif t == 8:
                pps = fl
            elif t == 6:
                for title in n["titles"]:
                    sei[title] += 1
            elif t in (1, 5):
                st = H264_SLICE[fl["slice_type"] % 5]
                slice_counts[st] += 1
                field = fl.get("field_pic_flag", 0)
                if fl["first_mb_in_slice"] == 0 or not pictures:
                    pictures.append({"nal_type": t, "slices": 0, "types": set(), "field": field,
                                     "ref_idc": fl["nal_ref_idc"]})
                p = pictures[-1]
                p["slices"] += 1
                p["types"].add(st)
                if any(v for k, vs in n["all"].items() if re.match(r"(luma|chroma)_weight_l[01]_flag", k) for v in vs):
                    f["explicit-weights"] += 1
                if fl.get("direct_spatial_mv_pred_flag") == 1:
                    f["spatial-direct"] += 1
                if st == "B" and fl.get("direct_spatial_mv_pred_flag") == 0:
                    f["temporal-direct"] += 1
                if fl.get("ref_pic_list_modification_flag_l0") or fl.get("ref_pic_list_modification_flag_l1"):
                    f["ref-list-modification"] += 1
                if fl.get("long_term_reference_flag"):
                    f["long-term"] += 1
                for v in n["all"].get("memory_management_control_operation", []):
                    if v:
                        mmco.add(v)
    frames = sum(1 for p in pictures if not p["field"]) + sum(1 for p in pictures if p["field"]) // 2
    width = (sps["pic_width_in_mbs_minus1"] + 1) * 16
    fmo = sps["frame_mbs_only_flag"]
    height = (sps["pic_height_in_map_units_minus1"] + 1) * 16 * (2 - fmo)
    crop = [sps.get(k, 0) for k in ("frame_crop_left_offset", "frame_crop_right_offset",
                                   "frame_crop_top_offset", "frame_crop_bottom_offset")]
    mbaff = (not fmo) and sps.get("mb_adaptive_frame_field_flag", 0) == 1
    paff = any(p["field"] for p in pictures)
    feats = []
    feats.append("CABAC" if pps.get("entropy_coding_mode_flag") else "CAVLC")
    if pps.get("transform_8x8_mode_flag"):
        feats.append("8x8dct")
    if pps.get("weighted_pred_flag"):
        if f["explicit-weights"]:
            feats.append("weighted-pred-P(explicit weights in %d slices)" % f["explicit-weights"])
        else:
            feats.append("weighted_pred_flag=1(no weights sent)")
    if pps.get("weighted_bipred_idc"):
        feats.append({1: "weighted-bipred(explicit)", 2: "weighted-bipred(implicit)"}[pps["weighted_bipred_idc"]])
    if slice_counts.get("B"):
        feats.append("B-frames")
        if any(p["ref_idc"] and "B" in p["types"] for p in pictures):
            feats.append("B-pyramid(reference B)")
        feats.append("spatial-direct" if f["spatial-direct"] else "temporal-direct")
    if mbaff:
        feats.append("MBAFF")
    if paff:
        feats.append("PAFF")
    if any(crop):
        feats.append("crop(l,r,t,b)=%d,%d,%d,%d" % tuple(crop))
    if sps.get("bit_depth_luma_minus8", 0):
        feats.append("%d-bit" % (8 + sps["bit_depth_luma_minus8"]))
    if sps.get("pic_order_cnt_type") is not None:
        feats.append("poc_type=%d" % sps["pic_order_cnt_type"])
    feats.append("max_ref=%d" % sps.get("max_num_ref_frames", 0))
    if f["ref-list-modification"]:
        feats.append("ref-list-modification")
    if mmco:
        feats.append("MMCO=" + ",".join(str(x) for x in sorted(mmco)))
    if f["long-term"]:
        feats.append("long-term-refs")
    spp = [p["slices"] for p in pictures]
    if max(spp) > 1:
        feats.append("multi-slice(%d..%d/pic)" % (min(spp), max(spp)))
    idr = sum(1 for p in pictures if p["nal_type"] == 5)
    non_idr_i = sum(1 for p in pictures if p["nal_type"] == 1 and p["types"] == {"I"})
    if idr > 1:
        feats.append("IDRx%d" % idr)
    if non_idr_i:
        feats.append("non-IDR-I-pictures x%d" % non_idr_i)
    titles = {"Recovery Point": "recovery_point", "User Data Unregistered": "user_data_unregistered",
              "Buffering Period": "buffering_period", "Picture Timing": "pic_timing"}
    seis = sorted("%s(x%d)" % (titles.get(k, k), v) for k, v in sei.items()
                  if k != "Supplemental Enhancement Information")
    if seis:
        feats.append("SEI:" + "/".join(seis))
    if nal_counts.get(7, 0) > 1:
        feats.append("SPS/PPS repeated(x%d)" % nal_counts[7])
    if nal_counts.get(9):
        feats.append("AUD")
    return {
        "sps": sps, "pps": pps, "pictures": pictures, "frames_from_headers": frames,
        "keyframes": idr, "recovery_points": sei.get("Recovery Point", 0), "key_aus": key_aus,
        "slice_types": dict(sorted(slice_counts.items())),
        "nal_types": {"%d(%s)" % (k, H264_NAL.get(k, "?")): v for k, v in sorted(nal_counts.items())},
        "coded": (width, height), "crop": crop, "bit_depth": 8 + sps.get("bit_depth_luma_minus8", 0),
        "chroma_format_idc": sps.get("chroma_format_idc", 1), "interlaced": bool(mbaff or paff),
        "b": bool(slice_counts.get("B")), "slices_per_picture": max(spp), "slices_min": min(spp),
        "features": feats,
    }


def analyse_hevc(packets):
    sps, pps = {}, {}
    nal_counts = collections.Counter()
    slice_counts = collections.Counter()
    pictures = []
    sei = collections.Counter()
    explicit_weights = 0
    for pkt in packets:
        for n in pkt:
            fl = n["fields"]
            t = fl.get("nal_unit_type")
            nal_counts[t] += 1
            if t == 33:
                sps = fl
            elif t == 34:
                pps = fl
            elif t in (39, 40):
                for title in n["titles"]:
                    sei[title] += 1
            elif t is not None and t < 32:
                if fl.get("first_slice_segment_in_pic_flag") == 1 or not pictures:
                    pictures.append({"nal_type": t, "slices": 0, "segments": 0, "types": set()})
                p = pictures[-1]
                p["segments"] += 1
                if any(v for k, vs in n["all"].items() if re.match(r"(luma|chroma)_weight_l[01]_flag", k) for v in vs):
                    explicit_weights += 1
                if not fl.get("dependent_slice_segment_flag", 0):
                    p["slices"] += 1
                    st = HEVC_SLICE[fl["slice_type"]]
                    slice_counts[st] += 1
                    p["types"].add(st)
    width, height = sps["pic_width_in_luma_samples"], sps["pic_height_in_luma_samples"]
    crop = [sps.get(k, 0) for k in ("conf_win_left_offset", "conf_win_right_offset",
                                   "conf_win_top_offset", "conf_win_bottom_offset")]
    feats = []
    depth = 8 + sps.get("bit_depth_luma_minus8", 0)
    if depth != 8:
        feats.append("%d-bit" % depth)
    if any(crop):
        feats.append("conf-window(l,r,t,b)=%d,%d,%d,%d" % tuple(crop))
    if slice_counts.get("B"):
        feats.append("B-slices")
        if any(p["nal_type"] in (1, 3, 5, 7, 9) and "B" in p["types"] for p in pictures):
            feats.append("B-pyramid(reference B)")
    flags = [(pps, "entropy_coding_sync_enabled_flag", "WPP"), (pps, "tiles_enabled_flag", "tiles"),
             (sps, "sample_adaptive_offset_enabled_flag", "SAO"), (sps, "amp_enabled_flag", "AMP"),
             (pps, "sign_data_hiding_enabled_flag", "SDH"), (sps, "sps_temporal_mvp_enabled_flag", "TMVP"),
             (pps, "weighted_bipred_flag", "weighted-bipred"),
             (pps, "transform_skip_enabled_flag", "transform-skip"), (sps, "pcm_enabled_flag", "PCM"),
             (sps, "scaling_list_enabled_flag", "scaling-lists"), (sps, "long_term_ref_pics_present_flag", "long-term-refs"),
             (pps, "dependent_slice_segments_enabled_flag", "dependent-slices-enabled"),
             (sps, "strong_intra_smoothing_enabled_flag", "strong-intra-smoothing")]
    feats += [name for d, k, name in flags if d.get(k)]
    if pps.get("weighted_pred_flag"):
        if explicit_weights:
            feats.append("weighted-pred-P(explicit weights in %d slices)" % explicit_weights)
        else:
            feats.append("weighted_pred_flag=1(no weights sent)")
    spp = [p["slices"] for p in pictures]
    if max(spp) > 1:
        feats.append("multi-slice(%d..%d/pic)" % (min(spp), max(spp)))
    irap = sum(1 for p in pictures if 16 <= p["nal_type"] <= 23)
    for t in (19, 20, 21, 16, 17, 18, 6, 7, 8, 9):
        c = sum(1 for p in pictures if p["nal_type"] == t)
        if c:
            feats.append("%sx%d" % (HEVC_NAL[t], c))
    if nal_counts.get(33, 0) > 1:
        feats.append("VPS/SPS/PPS repeated(x%d)" % nal_counts[33])
    titles = {"User Data Unregistered": "user_data_unregistered", "Recovery Point": "recovery-point",
              "Decoded Picture Hash": "decoded_picture_hash", "Active Parameter Sets": "active_parameter_sets"}
    seis = sorted("%s(x%d)" % (titles.get(k, k), v) for k, v in sei.items()
                  if "Supplemental Enhancement Information" not in k)
    if seis:
        feats.append("SEI:" + "/".join(seis))
    if nal_counts.get(35):
        feats.append("AUD")
    return {
        "sps": sps, "pps": pps, "pictures": pictures, "frames_from_headers": len(pictures),
        "keyframes": irap, "idr": sum(1 for p in pictures if p["nal_type"] in (19, 20)),
        "cra": sum(1 for p in pictures if p["nal_type"] == 21),
        "rasl": sum(1 for p in pictures if p["nal_type"] in (8, 9)),
        "slice_types": dict(sorted(slice_counts.items())),
        "nal_types": {"%d(%s)" % (k, HEVC_NAL.get(k, "?")): v for k, v in sorted(nal_counts.items())},
        "coded": (width, height), "crop": crop, "bit_depth": depth,
        "chroma_format_idc": sps.get("chroma_format_idc", 1), "interlaced": False,
        "b": bool(slice_counts.get("B")), "slices_per_picture": max(spp), "slices_min": min(spp),
        "features": feats, "profile_idc": sps.get("general_profile_idc"),
    }


def parse_expect(text):
    out = {}
    for item in filter(None, (x.strip() for x in text.split(";"))):
        k, v = item.split("=", 1)
        out[k] = v
    return out


def check(entry, expect, errors):
    for k, v in expect.items():
        if k == "has":
            for feat in v.split("|"):
                if not any(f == feat or f.startswith(feat) for f in entry["features"]):
                    errors.append(f"{entry['path']}: expected feature {feat!r}, have {entry['features']}")
            continue
        if k == "lacks":
            for feat in v.split("|"):
                if any(f.startswith(feat) for f in entry["features"]):
                    errors.append(f"{entry['path']}: expected no feature {feat!r}, have {entry['features']}")
            continue
        have = entry.get(k)
        if isinstance(have, bool):
            ok = str(have).lower() == v.lower()
        else:
            ok = str(have) == v
        if not ok:
            errors.append(f"{entry['path']}: expected {k}={v}, measured {have!r}")


def stream_entry(td, path, codec, source, exercises, curated, errors):
    full = os.path.join(td, path)
    fmt = "h264" if codec == "h264" else "hevc"
    probe, key_packets = ffprobe_stream(full, fmt)
    packets = trace(full, fmt)
    a = analyse_h264(packets) if codec == "h264" else analyse_hevc(packets)
    depth = a["bit_depth"]
    tags = ("nv12", "yuv") if depth == 8 else ("p010", "yuv")
    pix = {"nv12": "nv12", "p010": "p010le", "yuv": "yuv420p" if depth == 8 else "yuv420p10le"}
    refs, frame_counts = {}, []
    for tag in tags:
        ref = path + "." + tag + ".framemd5"
        rows = framemd5_lines(os.path.join(td, ref))
        sizes = sorted(set(r[0] for r in rows))
        refs[tag] = {"file": ref, "pix_fmt": pix[tag], "frames": len(rows), "frame_bytes": sizes}
        frame_counts.append(len(rows))
        expect_bytes = probe["width"] * probe["height"] * 3 // 2 * (1 if depth == 8 else 2)
        if sizes != [expect_bytes]:
            errors.append(f"{ref}: frame sizes {sizes}, expected [{expect_bytes}]")
    frames = frame_counts[0]
    if len(set(frame_counts)) != 1:
        errors.append(f"{path}: framemd5 frame counts differ: {frame_counts}")
    if frames != a["frames_from_headers"]:
        errors.append(f"{path}: {frames} framemd5 frames but {a['frames_from_headers']} pictures in the slice headers")
    if int(probe.get("nb_read_frames", -1)) != frames:
        errors.append(f"{path}: ffprobe -count_frames says {probe.get('nb_read_frames')}, framemd5 {frames}")
    if (probe["coded_width"], probe["coded_height"]) != a["coded"]:
        errors.append(f"{path}: ffprobe coded size {probe['coded_width']}x{probe['coded_height']} != SPS {a['coded']}")
    if codec == "hevc" and key_packets != a["keyframes"]:
        errors.append(f"{path}: ffprobe key packets {key_packets} != IRAP pictures {a['keyframes']}")
    if codec == "h264" and key_packets != a["key_aus"]:
        # ffmpeg's h264 parser flags access units holding an IDR or a recovery-point SEI.
        errors.append(f"{path}: ffprobe key packets {key_packets} != access units with IDR or recovery point {a['key_aus']}")
    feats = [c for c in curated.split(",") if c] + a["features"]
    field_order = probe.get("field_order", "progressive")
    entry = {
        "path": path,
        "codec": codec,
        "profile": probe.get("profile"),
        "level": probe.get("level"),
        "width": probe["width"],
        "height": probe["height"],
        "coded_width": probe["coded_width"],
        "coded_height": probe["coded_height"],
        "bit_depth": depth,
        "chroma_format": {1: "4:2:0", 2: "4:2:2", 3: "4:4:4", 0: "4:0:0"}[a["chroma_format_idc"]],
        "pix_fmt": probe.get("pix_fmt"),
        "frames": frames,
        "keyframes": a["keyframes"],
        "interlaced": a["interlaced"],
        "field_order": field_order,
        "b_frames": a["b"],
        "max_reorder": probe.get("has_b_frames", 0),
        "slices_per_picture": a["slices_per_picture"],
        "features": feats,
        "slice_types": a["slice_types"],
        "nal_types": a["nal_types"],
        "ffprobe_key_packets": key_packets,
        "size": os.path.getsize(full),
        "md5": md5_of(full),
        "source": source,
        "exercises": exercises,
        "refs": refs,
    }
    if codec == "h264":
        entry["recovery_points"] = a["recovery_points"]
    else:
        entry["idr"] = a["idr"]
        entry["cra"] = a["cra"]
        entry["rasl"] = a["rasl"]
    if a["slices_min"] != a["slices_per_picture"]:
        entry["slices_per_picture_min"] = a["slices_min"]
    if (field_order != "progressive") != a["interlaced"]:
        errors.append(f"{path}: ffprobe field_order {field_order} but interlaced={a['interlaced']} from the SPS/slices")
    return entry


def packets_entry(td, path, codec, source, exercises, curated, errors):
    """An AV1/VP9 IVF file: ffprobe's view of it, and its references."""
    full = os.path.join(td, path)
    probe, key_packets = ffprobe_stream(full, "ivf")
    if probe.get("codec_name") != codec:
        errors.append(f"{path}: ffprobe says codec {probe.get('codec_name')}, expected {codec}")
    refs, frame_counts = {}, []
    for tag, pix in (("nv12", "nv12"), ("yuv", "yuv420p")):
        ref = path + "." + tag + ".framemd5"
        rows = framemd5_lines(os.path.join(td, ref))
        sizes = sorted(set(r[0] for r in rows))
        refs[tag] = {"file": ref, "pix_fmt": pix, "frames": len(rows), "frame_bytes": sizes}
        frame_counts.append(len(rows))
        if sizes != [probe["width"] * probe["height"] * 3 // 2]:
            errors.append(f"{ref}: frame sizes {sizes}")
    frames = frame_counts[0]
    if len(set(frame_counts)) != 1:
        errors.append(f"{path}: framemd5 frame counts differ: {frame_counts}")
    if int(probe.get("nb_read_frames", -1)) != frames:
        errors.append(f"{path}: ffprobe -count_frames says {probe.get('nb_read_frames')}, framemd5 {frames}")
    return {
        "path": path,
        "container": "ivf",
        "codec": codec,
        "profile": probe.get("profile"),
        "width": probe["width"],
        "height": probe["height"],
        "pix_fmt": probe.get("pix_fmt"),
        "frames": frames,
        "packets": int(probe.get("nb_read_packets", -1)),
        "keyframes": key_packets,
        "features": [c for c in curated.split(",") if c],
        "size": os.path.getsize(full),
        "md5": md5_of(full),
        "source": source,
        "exercises": exercises,
        "refs": refs,
    }


def main():
    td, manifest = sys.argv[1], sys.argv[2]
    streams, packet_streams, containers, inputs, errors = [], [], [], [], []
    with open(manifest) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    for kind, path, codec, source, exercises, curated, expect in rows:
        full = os.path.join(td, path)
        if kind == "stream":
            e = stream_entry(td, path, codec, source, exercises, curated, errors)
            check(e, parse_expect(expect), errors)
            streams.append(e)
        elif kind == "packets":
            e = packets_entry(td, path, codec, source, exercises, curated, errors)
            check(e, parse_expect(expect), errors)
            packet_streams.append(e)
        elif kind == "container":
            out, _ = run(["ffprobe", "-v", "error", "-threads", "1", "-i", full, "-select_streams", "v:0",
                          "-count_packets", "-show_streams", "-show_format", "-of", "json"])
            j = json.loads(out)
            s = j["streams"][0]
            src = next(x for x in streams if x["path"] == codec)
            e = {"path": path, "container": "mp4", "codec": src["codec"], "sample_entry": s.get("codec_tag_string"),
                 "copied_from": codec, "profile": s.get("profile"), "width": s["width"], "height": s["height"],
                 "samples": int(s.get("nb_read_packets", -1)), "frames": src["frames"],
                 "features": [c for c in curated.split(",") if c], "size": os.path.getsize(full), "md5": md5_of(full),
                 "source": source, "exercises": exercises,
                 "refs": {k: v["file"] for k, v in src["refs"].items()}}
            if e["samples"] != src["frames"]:
                errors.append(f"{path}: {e['samples']} samples, source stream has {src['frames']} frames")
            check(e, parse_expect(expect), errors)
            containers.append(e)
        elif kind == "input":
            e = {"path": path, "format": codec.split(":")[0], "size": os.path.getsize(full), "md5": md5_of(full),
                 "source": source, "exercises": exercises}
            e.update(parse_expect(expect))
            for k in ("width", "height", "frames"):
                if k in e:
                    e[k] = int(e[k])
            inputs.append(e)
        else:
            errors.append(f"manifest: unknown kind {kind!r}")
    if errors:
        for e in errors:
            print("fixture-info: ERROR:", e, file=sys.stderr)
        sys.exit(1)
    doc = {
        "about": "Fixtures made by scripts/make-fixtures.sh; see testdata/README.md. Paths are relative to testdata/.",
        "reference_command": "ffmpeg -threads 1 -flags unaligned -f {h264|hevc} -i FILE -map 0:v:0 -fps_mode passthrough "
                             "-autoscale 0 -vf scale=in_range=full:out_range=full,format=PIXFMT -fflags +bitexact "
                             "-f framemd5 FILE.TAG.framemd5",
        "reference_tags": {"nv12": "nv12 (8-bit)", "p010": "p010le (10-bit)", "yuv": "yuv420p (8-bit) / yuv420p10le (10-bit)"},
        "streams": streams,
        "packet_streams": packet_streams,
        "packet_reference_command": "ffmpeg -threads 1 -flags unaligned -c:v {libdav1d|vp9} -f ivf -i FILE -map 0:v:0 "
                                    "-fps_mode passthrough -autoscale 0 -vf scale=in_range=full:out_range=full,format=PIXFMT "
                                    "-fflags +bitexact -f framemd5 FILE.TAG.framemd5",
        "containers": containers,
        "encode_inputs": inputs,
    }
    with open(os.path.join(td, "fixtures.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
