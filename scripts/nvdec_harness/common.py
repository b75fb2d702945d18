"""Constants and small pure helpers: statistics, formatting, parsing of the contenders' output, the
per-cell rows of the tables (unit-tested by the self-test).
"""
import json
import os
import re

# The checkout: scripts/nvdec_harness/ is two levels below it.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTENDERS = ("video-hw", "ffmpeg", "pynvc", "video-hw-seg")
LABEL = {"video-hw": "video-hw", "ffmpeg": "ffmpeg", "pynvc": "PyNvVideoCodec",
         "video-hw-warm": "video-hw, warm process", "pynvc-warm": "PyNvVideoCodec, warm process",
         "video-hw-reuse": "video-hw, warm process, decoder reused", "video-hw-seg": "video-hw, segmented"}
# Throughput only: video-hw's SegmentedDecode (`nvdec_bench --segmented N`): each stream cut
# at its random access points, N sessions take the segments (one stream uses several engines;
# many streams leave no engine idle at the end).
SEGMENTED = "video-hw-seg"
# video-hw after one session was opened and closed in the process (CUDA context and
# libraries loaded), what a long-running service's later sessions see. Always in the startup
# section; in the throughput sections when named in --contenders (with PYNVC_WARM beside it,
# the fair peer: ffmpeg has no warm process, each of its processes pays CUDA's start-up).
WARM = "video-hw-warm"
# PyNvVideoCodec with the same head start (`pynvc_decode.py --warm`: one decoder decoded a
# frame before the clock and stays alive).
PYNVC_WARM = "pynvc-warm"
# video-hw after one warm-up session per timed session decoded the input and closed
# cleanly, so their decoder objects are parked and the timed sessions reuse them (a
# service's stream restart, or its next batch of streams). Always in the startup section;
# in the throughput sections when named in --contenders.
REUSE = "video-hw-reuse"
# Optional contenders, named in --contenders.
OPTIONAL = (WARM, PYNVC_WARM, REUSE)
SECTIONS = ("startup", "single", "multi", "soak")
PIXELS_1080P = 1920 * 1080
# Chip ceilings the issue measured (frames/s, 1080p, other content): shown for orientation.
ISSUE_CEILING = {"hevc": 7650, "h264": 4480}


# ---------------------------------------------------------------------------------------
# small pure helpers (unit-tested by --self-test)
# ---------------------------------------------------------------------------------------

def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def p95(v):
    """Nearest-rank 95th percentile (with 5 samples: the largest)."""
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    k = max(1, -(-95 * len(v) // 100))  # ceil(0.95 n)
    return v[k - 1]


def parse_env_overrides(items):
    """`VAR=VALUE` strings (--env) as an ordered dict; raises ValueError on a malformed one."""
    env = {}
    for item in items:
        var, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
            raise ValueError("--env wants VAR=VALUE, got %r" % item)
        env[var] = value
    return env


def contender_env(overrides):
    """The environment of a contender's process: ours plus --env (None when there is none to
    add, so the child inherits ours unchanged)."""
    if not overrides:
        return None
    env = dict(os.environ)
    env.update(overrides)
    return env


def fmt(x, digits=1, unit=""):
    if x is None:
        return "–"
    if isinstance(x, float) and (x != x):
        return "–"
    if isinstance(x, int):
        return "{:,}{}".format(x, unit)
    return "{:,.{d}f}{}".format(x, unit, d=digits)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "–" if r is None else "{:.2f}x".format(r)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        cells = [str(c).replace("|", "\\|").replace("\n", " ") for c in r]
        cells += [""] * (len(headers) - len(cells))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def last_json(text):
    """The last line of `text` that parses as a JSON object."""
    for line in reversed((text or "").strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def parse_ffmpeg(stderr):
    """frames (last 'frame=' of the progress line) and -benchmark times from ffmpeg's stderr."""
    frames = None
    for m in re.finditer(r"frame=\s*(\d+)", stderr or ""):
        frames = int(m.group(1))
    b = re.search(r"bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s", stderr or "")
    if not b:
        return frames, None
    return frames, {"utime": float(b.group(1)), "stime": float(b.group(2)), "rtime": float(b.group(3))}


def repeats_for(frames_per_pass, width, height, target_1080p):
    """Passes over the input so that a run decodes about `target_1080p` 1080p-equivalent frames."""
    if not frames_per_pass:
        return 1
    scale = PIXELS_1080P / max(1, width * height)
    return max(1, int(round(target_1080p * scale / frames_per_pass)))


def summarize_runs(runs):
    """Statistics over the measured (non-warm-up) runs of one contender in one cell."""
    ok = [r for r in runs if r.get("ok")]
    walls = [r["wall_s"] for r in ok if r.get("wall_s")]
    s = {
        "runs": len(runs),
        "ok_runs": len(ok),
        "failed": [r.get("error") or "failed" for r in runs if not r.get("ok")],
        "frames": sorted(set(r.get("frames") for r in ok)),
        "wall_median": median(walls),
        "wall_p95": p95(walls),
        "wall_min": min(walls) if walls else None,
        "wall_max": max(walls) if walls else None,
        "ttff_ms": median([r.get("ttff_ms") for r in ok]),
        "ttff_ms_p95": p95([r.get("ttff_ms") for r in ok]),
        "ttff_ms_min": min([r["ttff_ms"] for r in ok if r.get("ttff_ms") is not None], default=None),
        "ttff_ms_max": max([r["ttff_ms"] for r in ok if r.get("ttff_ms") is not None], default=None),
        "cpu_ms_per_frame": median([r.get("cpu_ms_per_frame") for r in ok]),
        "outer_wall_median": median([r.get("outer_wall_s") for r in ok]),
        "mem_per_session_mib": median([r.get("mem_per_session_mib") for r in ok]),
        "smi_mem_per_session_mib": median([r.get("smi_mem_per_session_mib") for r in ok]),
        "video_clock_mhz": median([r.get("video_clock_mhz") for r in ok]),
        "dec_util": median([r.get("dec_util") for r in ok]),
    }
    fr = s["frames"][0] if len(s["frames"]) == 1 else None
    s["fps"] = fr / s["wall_median"] if fr and s["wall_median"] else None
    return s


def peer_of(contender, peer, stats):
    """The peer a video-hw row is compared with, or None: the warm one for a warm row when it
    was run (PyNvVideoCodec), else the cold one (ffmpeg has no warm process)."""
    if contender in (WARM, REUSE) and peer == "pynvc" and stats.get(PYNVC_WARM, {}).get("ok_runs"):
        return stats[PYNVC_WARM]
    return stats.get(peer)


def peer_ratio(contender, peer, stats, key):
    """video-hw row ÷ its peer (see peer_of) for `key`, formatted; blank for peer rows."""
    if not contender.startswith("video-hw"):
        return ""
    p = peer_of(contender, peer, stats)
    return fmt_ratio(ratio(stats[contender][key], p and p[key])) if p else ""


def cell_rows(cell, contenders, ceiling=None):
    """Markdown rows for one throughput cell: one row per contender, ratios on video-hw's."""
    stats = {c: summarize_runs(cell["runs"].get(c, [])) for c in contenders}
    expected = cell.get("expected_frames")
    seen = set()
    for c in contenders:
        seen.update(stats[c]["frames"])
    frames_equal = len(seen) == 1 and (expected is None or seen == {expected})
    vh = stats.get("video-hw")
    rows = []
    for c in contenders:
        s = stats[c]
        if cell.get("unavailable", {}).get(c):
            rows.append([cell["input"], cell["streams"], LABEL[c], "not available: " + cell["unavailable"][c]])
            continue
        if s["ok_runs"] == 0:
            why = (s["failed"][0] if s["failed"] else cell.get("skipped") or "no runs")
            rows.append([cell["input"], cell["streams"], LABEL[c], "failed: " + str(why)[:160]])
            continue
        frames = ", ".join(fmt(f) for f in s["frames"])
        mark = "" if (expected is None or s["frames"] == [expected]) else " ≠ %s" % fmt(expected)
        is_vh = c.startswith("video-hw")
        row = [
            cell["input"], cell["streams"], LABEL[c] + ("" if s["ok_runs"] == s["runs"] else " (%d/%d ok)" % (s["ok_runs"], s["runs"])),
            frames + mark,
            fmt(s["wall_median"], 3), fmt(s["wall_p95"], 3), fmt(s["wall_min"], 3), fmt(s["wall_max"], 3),
            fmt(s["fps"], 0),
            peer_ratio(c, "ffmpeg", stats, "fps"),
            peer_ratio(c, "pynvc", stats, "fps"),
            ("%.0f%%" % (100 * s["fps"] / ceiling)) if (ceiling and s["fps"]) else "–",
            fmt(s["cpu_ms_per_frame"], 3),
            fmt(s["mem_per_session_mib"] if is_vh and s["mem_per_session_mib"] is not None else s["smi_mem_per_session_mib"], 1),
            fmt(s["video_clock_mhz"], 0),
            fmt(s["dec_util"], 0),
        ]
        rows.append(row)
    return rows, stats, frames_equal


THROUGHPUT_HEADERS = ["input", "streams", "contender", "frames", "median s", "p95 s", "min s", "max s", "fps (median)",
                      "vs ffmpeg", "vs PyNvVideoCodec", "% of issue's ceiling", "CPU ms/frame", "device MiB/session",
                      "video clock MHz", "NVDEC util %"]

STARTUP_HEADERS = ["input", "contender", "open→first frame ms (median)", "p95", "min", "max", "vs ffmpeg",
                   "vs PyNvVideoCodec", "process start→exit ms (median)"]


def startup_rows(cell, contenders):
    stats = {c: summarize_runs(cell["runs"].get(c, [])) for c in contenders}
    rows = []
    for c in contenders:
        s = stats[c]
        if cell.get("unavailable", {}).get(c):
            rows.append([cell["input"], LABEL[c], "not available: " + cell["unavailable"][c]])
            continue
        if s["ok_runs"] == 0:
            why = s["failed"][0] if s["failed"] else cell.get("skipped") or "no runs"
            rows.append([cell["input"], LABEL[c], "failed: " + str(why)[:160]])
            continue
        rows.append([
            cell["input"], LABEL[c], fmt(s["ttff_ms"], 1), fmt(s["ttff_ms_p95"], 1), fmt(s["ttff_ms_min"], 1),
            fmt(s["ttff_ms_max"], 1),
            peer_ratio(c, "ffmpeg", stats, "ttff_ms"),
            peer_ratio(c, "pynvc", stats, "ttff_ms"),
            fmt(s["outer_wall_median"] * 1e3 if s["outer_wall_median"] else None, 0),
        ])
    return rows, stats


def result_paths(out_dir, tag, now, rev):
    """`nvdec[-TAG]-YYYYMMDD-COMMIT.{md,json}` in `out_dir` (a tree with changes on top of the
    commit: `COMMIT-changes`), with `-2`, `-3`, … when a run of the same name is there already:
    runs are named by what, the date and the commit measured."""
    rev = re.sub(r"[^0-9A-Za-z]+", "-", rev.replace("+changes", "-changes")).strip("-") or "unknown"
    base = "nvdec%s-%s-%s" % ("-" + tag if tag else "", now.strftime("%Y%m%d"), rev)
    name, n = base, 1
    while os.path.exists(os.path.join(out_dir, name + ".md")) or os.path.exists(os.path.join(out_dir, name + ".json")):
        n += 1
        name = "%s-%d" % (base, n)
    return os.path.join(out_dir, name + ".md"), os.path.join(out_dir, name + ".json")
