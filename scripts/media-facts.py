#!/usr/bin/env python3
"""What ffprobe/ffmpeg say about a container fixture, as JSON (see testdata/README.md, "Container
fixtures"). Written by scripts/make-media-fixtures.sh; run from the folder holding the files so
that no absolute path ends up in the output.

  media-facts.py FILE [FRAMEMD5]            facts about a good fixture (stdout)
  media-facts.py --damaged FILE [FRAMEMD5]  what ffprobe and ffmpeg (at -v warning) make of a damaged
                                            one; FRAMEMD5 is the reference of the intact file it came from

Good fixture: container (format name, duration, ...), every stream (codec, time base, rates,
size, audio layout, language, rotation, duration_ts, nb_read_frames from -count_frames,
nb_read_packets from -count_packets), and for the first video stream its packets in file order
and its frames in presentation order (the order ffprobe's decoder returns them). With FRAMEMD5
(the fixture's reference decode) the number of frame lines is checked against nb_read_frames.
"""
import json
import os
import re
import subprocess
import sys

FFPROBE = ["ffprobe", "-hide_banner"]


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def probe_json(args, path, must=True, level="error"):
    rc, out, err = run(FFPROBE + ["-v", level] + args + ["-of", "json", "-i", path])
    if rc != 0 and must:
        sys.exit(f"media-facts: ffprobe {' '.join(args)} {path} failed: {err.strip()}")
    try:
        return json.loads(out) if out.strip() else {}, rc, err
    except json.JSONDecodeError:
        return {}, rc, err


def num(v):
    """ffprobe's JSON writes some integers as strings ("size": "1234")."""
    if v is None or v == "N/A":
        return None
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return v
    return v


def rotation(st):
    for sd in st.get("side_data_list", []):
        if "rotation" in sd:
            return num(sd["rotation"])
    return None


def stream_facts(st):
    keep = ["index", "codec_type", "codec_name", "profile", "codec_tag_string", "time_base",
            "r_frame_rate", "avg_frame_rate", "width", "height", "pix_fmt", "has_b_frames",
            "sample_rate", "channels", "channel_layout", "start_pts", "duration_ts", "nb_frames",
            "nb_read_frames", "nb_read_packets"]
    s = {}
    for k in keep:
        if k in st:
            v = st[k]
            s[k] = v if k in ("time_base", "r_frame_rate", "avg_frame_rate", "codec_tag_string", "profile") else num(v)
    tags = st.get("tags", {})
    s["language"] = tags.get("language")
    if "title" in tags:
        s["title"] = tags["title"]
    s["rotation"] = rotation(st)            # display matrix side data, as ffprobe prints it (counter-clockwise degrees)
    if "rotate" in tags:
        s["rotate_tag"] = num(tags["rotate"])  # the legacy "rotate" tag (clockwise degrees)
    s["default"] = st.get("disposition", {}).get("default")
    return s


def good(path, framemd5):
    info, _, _ = probe_json(["-threads", "1", "-count_frames", "-count_packets", "-show_format", "-show_streams"], path)
    fmt = info["format"]
    streams = [stream_facts(st) for st in info["streams"]]
    facts = {
        "file": path,
        "size": num(fmt.get("size")),
        "format_name": fmt.get("format_name"),
        "duration": fmt.get("duration"),
        "start_time": fmt.get("start_time"),
        "nb_streams": fmt.get("nb_streams"),
        "streams": streams,
    }
    videos = [s for s in streams if s["codec_type"] == "video"]
    if videos:
        v = videos[0]
        pk, _, _ = probe_json(["-select_streams", "v:0", "-show_entries", "packet=pts,dts,duration,flags,pos,size"], path)
        packets = [{k: (p.get(k) if k == "flags" else num(p.get(k))) for k in ("pts", "dts", "duration", "flags", "pos", "size")}
                   for p in pk.get("packets", [])]
        fr, _, _ = probe_json(["-threads", "1", "-select_streams", "v:0", "-show_entries",
                               "frame=pts,pkt_dts,pkt_duration,duration,key_frame,pict_type,width,height"], path)
        frames = []
        for f in fr.get("frames", []):
            frames.append({"pts": num(f.get("pts")), "pkt_dts": num(f.get("pkt_dts")),
                           "duration": num(f.get("duration", f.get("pkt_duration"))),
                           "key_frame": f.get("key_frame"), "pict_type": f.get("pict_type"),
                           "width": f.get("width"), "height": f.get("height")})
        if len({(f["width"], f["height"]) for f in frames}) <= 1:
            for f in frames:   # one size for the whole stream: it is in the stream entry already
                del f["width"], f["height"]
        if len(packets) != v["nb_read_packets"]:
            sys.exit(f"media-facts: {path}: {len(packets)} packets listed, -count_packets says {v['nb_read_packets']}")
        if len(frames) != v["nb_read_frames"]:
            sys.exit(f"media-facts: {path}: {len(frames)} frames listed, -count_frames says {v['nb_read_frames']}")
        facts["video"] = {
            "stream_index": v["index"],
            "packets": len(packets),
            "key_packets": sum(1 for p in packets if "K" in p["flags"]),
            "discard_packets": sum(1 for p in packets if "D" in p["flags"]),
            "frames": len(frames),
            "key_frames": sum(1 for f in frames if f["key_frame"]),
            "pict_types": "".join(f["pict_type"] or "?" for f in frames),
        }
        if framemd5:
            lines = [l for l in open(framemd5) if l.strip() and not l.startswith("#")]
            facts["video"]["framemd5"] = framemd5
            facts["video"]["framemd5_frames"] = len(lines)
            if len(lines) != v["nb_read_frames"]:
                sys.exit(f"media-facts: {path}: {framemd5} has {len(lines)} frames, ffprobe -count_frames says {v['nb_read_frames']}")
        facts["video_packets"] = packets
        facts["video_frames"] = frames
    return facts


def tidy(err, path, limit=6):
    """ffmpeg's messages, short and reproducible: no context addresses, unique lines, at most limit."""
    seen, out = set(), []
    for line in err.splitlines():
        line = re.sub(r" @ 0x[0-9a-f]+\]", "]", line).strip()
        if not line or line in seen:
            continue
        seen.add(line)
        out.append(line)
    more = len(out) - limit
    return out[:limit] + ([f"... {more} more distinct lines"] if more > 0 else [])


def damaged(path, framemd5):
    info, prc, perr = probe_json(["-threads", "1", "-count_frames", "-count_packets", "-show_format", "-show_streams"], path, must=False, level="warning")
    facts = {"file": path, "size": None, "ffprobe_exit": prc}
    facts["size"] = os.path.getsize(path)
    fmt = info.get("format", {})
    facts["format_name"] = fmt.get("format_name")
    facts["streams"] = [{k: num(st.get(k)) if k not in ("codec_type", "codec_name") else st.get(k)
                         for k in ("index", "codec_type", "codec_name", "nb_frames", "nb_read_frames", "nb_read_packets")}
                        for st in info.get("streams", [])]
    facts["ffprobe_errors"] = tidy(perr, path)
    rc, out, err = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "warning", "-threads", "1",
                        "-flags", "unaligned", "-noautorotate", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-autoscale", "0",
                        "-vf", "scale=in_range=full:out_range=full,format=yuv420p", "-fflags", "+bitexact",
                        "-f", "framemd5", "-"])
    got = [l.split(",")[5].strip() for l in out.splitlines() if l.strip() and not l.startswith("#")]
    facts["ffmpeg_exit"] = rc
    facts["ffmpeg_decoded_frames"] = len(got)
    if framemd5:
        ref = [l.split(",")[5].strip() for l in open(framemd5) if l.strip() and not l.startswith("#")]
        same = 0
        while same < min(len(ref), len(got)) and ref[same] == got[same]:
            same += 1
        facts["intact_reference"] = framemd5
        facts["intact_frames"] = len(ref)
        facts["frames_matching_intact_prefix"] = same  # leading decoded frames equal to the intact file's
        refset = set(ref)
        facts["frames_found_in_intact"] = sum(1 for h in got if h in refset)  # decoded frames equal to some intact frame
    facts["ffmpeg_errors"] = tidy(err, path)
    return facts


def dump(obj, indent=0):
    """JSON with one line per packet/frame (lists of flat objects), so diffs stay readable."""
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dump(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if not obj:
            return "[]"
        if all(not isinstance(x, (dict, list)) for x in obj):
            return json.dumps(obj)
        flat = all(isinstance(x, dict) and all(not isinstance(v, (dict, list)) for v in x.values()) for x in obj)
        if flat:
            return "[\n" + ",\n".join(pad + "  " + json.dumps(x, separators=(", ", ": ")) for x in obj) + "\n" + pad + "]"
        return "[\n" + ",\n".join(pad + "  " + dump(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def main(argv):
    if len(argv) >= 2 and argv[1] == "--damaged":
        if len(argv) not in (3, 4):
            sys.exit(__doc__)
        facts = damaged(argv[2], argv[3] if len(argv) == 4 else None)
    else:
        if len(argv) not in (2, 3):
            sys.exit(__doc__)
        facts = good(argv[1], argv[2] if len(argv) == 3 else None)
    sys.stdout.write(dump(facts) + "\n")


if __name__ == "__main__":
    main(sys.argv)
