"""The markdown report: throughput and start-up tables, the issue's targets, the soak.
"""

from .common import (
    ISSUE_CEILING, LABEL, PYNVC_WARM, REUSE, SEGMENTED, STARTUP_HEADERS, THROUGHPUT_HEADERS, WARM, cell_rows,
    fmt, fmt_ratio, md_table, peer_of, ratio, startup_rows, summarize_runs,
)
from .procs import closes_note, engines_from_runs, startup_breakdown

def report_markdown(meta, cells, soak, contenders):
    L = ["# NVDEC decode: video-hw vs ffmpeg vs PyNvVideoCodec", ""]
    g = dict(meta.get("gpu", {}))
    engines = engines_from_runs(cells)
    if "nvdec_engines" not in g and engines is not None:
        g["nvdec_engines"] = engines
    L.append("%s; GPU %s: %s, driver %s, CUDA %s, %s NVDEC engines, max video clock %s; host %s, %s CPUs." % (
        meta["date"], meta["device"], g.get("name", "?"), g.get("driver", "?"), g.get("cuda", "?"),
        g.get("nvdec_engines", "?"), g.get("video_clock_max", "?"), meta["host"], meta["cpus"]))
    L.append("")
    L.append("Contenders: **video-hw** %s (`nvdec_bench`, %s); **ffmpeg** %s (`%s`); **PyNvVideoCodec** %s "
             "(`scripts/peers/pynvc_decode.py`: CreateDemuxer + CreateDecoder(usedevicememory=True), one thread "
             "per stream)." % (meta.get("video_hw_rev", "?"), meta.get("vh_desc", ""), meta.get("ffmpeg_version") or "–",
                               meta.get("ffmpeg_cmd", ""), meta.get("pynvc_version") or "–"))
    if meta.get("env"):
        L.append("")
        L.append("Environment set for every contender's process, peers included: %s." % ", ".join(
            "`%s=%s`" % kv for kv in meta["env"].items()))
    if WARM in contenders or PYNVC_WARM in contenders:
        L.append("")
        L.append("**warm process** (throughput rows): the process brought CUDA up before the clock — video-hw "
                 "`nvdec_bench --warm` (`Decoder::prepare`: driver loaded, primary context made), "
                 "PyNvVideoCodec `pynvc_decode.py --warm` (one decoder decoded a frame and stays alive, idle) — so "
                 "the timed sessions pay only their own set-up, as a long-running service's sessions do. " + (
                     "The warm video-hw row's PyNvVideoCodec ratio is taken against PyNvVideoCodec's warm row (whose "
                     "memory figure includes the idle warm-up decoder); " if PYNVC_WARM in contenders else
                     "PyNvVideoCodec's warm row was not run, so ratios are against its usual run; ") +
                 "ffmpeg has no warm process (each of its processes starts CUDA), so that ratio is against its "
                 "usual run.")
    if REUSE in contenders:
        L.append("")
        L.append("**warm process, decoders reused** (throughput rows): `nvdec_bench --warm-decode` — before the "
                 "clock one warm-up session per timed session decodes the input and closes cleanly, so each timed "
                 "session takes a parked decoder object instead of creating one (video-hw keeps one per NVDEC "
                 "engine): a service's next batch of streams. " + (
                     "Its PyNvVideoCodec ratio is against PyNvVideoCodec's warm row (PyNvVideoCodec does not reuse "
                     "decoders across sessions)." if PYNVC_WARM in contenders else
                     "Its PyNvVideoCodec ratio is against PyNvVideoCodec's usual run."))
    if SEGMENTED in contenders:
        L.append("")
        L.append("**video-hw, segmented**: the same bytes through `SegmentedDecode` (`nvdec_bench --segmented %d`): "
                 "each stream (its K passes as one buffer) is cut at its IDR access units (and HEVC CRA/BLA ones "
                 "without RASL pictures), %d sessions take the segments in turn and the frames reach the consumer in "
                 "each stream's order; splitting is inside the timed part. One stream thus uses several NVDEC "
                 "engines, which one session cannot." % (meta.get("seg_sessions", 7), meta.get("seg_sessions", 7)))
    L.append("")
    L.append("Method: %d warm-up + %d measured runs per contender and cell, interleaved (the order rotates every "
             "round); every run decodes the same bytes: the input repeated K times (video-hw: `--repeat-input K` "
             "over the file read into memory; ffmpeg and PyNvVideoCodec: a file holding K copies, made before the "
             "cell — ffmpeg 5.1's `-stream_loop` cannot loop a raw elementary stream), frames left in device memory "
             "and dropped. Run time = each "
             "contender's in-process clock, session open (CUDA context included) to the last frame and teardown "
             "(video-hw: until the sessions' drops return — its decoders are then destroyed on a closer thread, "
             "whose end is noted under the table), "
             "input read/probe and process start excluded: video-hw's and PyNvVideoCodec's own timers; ffmpeg's "
             "`-benchmark` rtime (for N processes the slowest one's; total frames / that). p95 is nearest-rank "
             "(with 5 runs: the slowest). CPU ms/frame: in-process user+sys (video-hw /proc/self/stat, "
             "PyNvVideoCodec getrusage, ffmpeg -benchmark utime+stime, summed over processes). Device MiB/session: "
             "video-hw's own reading (free memory with the context alive after the run minus the lowest free "
             "memory during it, / streams); the peers' from nvidia-smi memory.used (peak during the run minus "
             "idle, / streams, so contexts are included — one per ffmpeg process). Video clock and NVDEC "
             "utilisation: means of nvidia-smi samples (%s ms) during the runs." % (
                 meta["warmup"], meta["repeats"], meta["smi_period_ms"]))
    L.append("")
    if meta.get("inputs"):
        L.append(md_table(["input", "codec", "size", "frames/pass", "MB", "Mb/s @30fps"], [
            [i["name"], i["codec"], "%dx%d" % (i["width"], i["height"]), i["frames"], "%.1f" % (i["bytes"] / 1e6),
             "%.1f" % i["mbps"]] for i in meta["inputs"]]))
        L.append("")
    thr = [c for c in cells if c["kind"] in ("single", "multi")]
    if thr:
        L += ["## Throughput", ""]
        rows = []
        notes = []
        closes = []
        for c in thr:
            inp = next((i for i in meta["inputs"] if i["name"] == c["input"]), {})
            ceiling = ISSUE_CEILING.get(inp.get("codec")) if (inp.get("height") == 1080 and c["streams"] > 1) else None
            r, stats, equal = cell_rows(c, contenders, ceiling)
            rows += r
            if not equal:
                seen = {LABEL[k]: s["frames"] for k, s in stats.items() if s["frames"]}
                notes.append("%s x%d: frame counts differ (expected %s): %s" % (
                    c["input"], c["streams"], c["expected_frames"], seen))
            if c.get("skipped"):
                notes.append("%s x%d: %s" % (c["input"], c["streams"], c["skipped"]))
            closes.append(closes_note(c))
        L.append(md_table(THROUGHPUT_HEADERS, rows))
        L.append("")
        L.append("Frames: every contender decoded exactly the expected frames in every measured run%s." % (
            "" if not notes else " — except as noted below"))
        for n in notes:
            L.append("- " + n)
        L.append("")
        L += ["- " + n for n in closes if n]
        if any(closes):
            L.append("")
        L.append("\"%% of issue's ceiling\": aggregate fps / the chip ceiling the issue measured at 1080p "
                 "(%s); other content, so orientation only." % ", ".join("%s %s fps" % (k.upper(), v) for k, v in ISSUE_CEILING.items()))
        L.append("")
    st = [c for c in cells if c["kind"] == "startup"]
    if st:
        L += ["## Time to first frame", ""]
        rows = []
        for c in st:
            rows += startup_rows(c, [k for k in LABEL if k in c["runs"]])[0]
        L.append(md_table(STARTUP_HEADERS, rows))
        L.append("")
        L.append("One stream, stop at the first frame (`--max-frames 1` / `-frames:v 1`). In-process: video-hw "
                 "from before `Decoder::open` to the first frame reaped; PyNvVideoCodec from before CreateDecoder "
                 "(after its demuxer is made) to the first frame Decode returns; ffmpeg: -benchmark rtime of the "
                 "1-frame run (hw device and decoder open, first frame, decoder close). Process start→exit: the "
                 "whole command, as a user waits for it (Python interpreter start and imports included). "
                 "\"video-hw, warm process\": `nvdec_bench --warm`, `Decoder::prepare` before the "
                 "timer, so the CUDA context exists (video-hw shares one per GPU): what every session after the "
                 "first costs in a long-running service; ffmpeg pays a context per process every time. "
                 "\"decoder reused\": `nvdec_bench --warm-decode`, the warm-up session decodes the input and "
                 "is flushed and closed, so its decoder object is parked and the timed session takes it instead "
                 "of creating one (a service's stream that restarts).")
        L.append("")
        for c in st:
            line = startup_breakdown(c)
            if line:
                L += [line, ""]
    L += targets_section(cells, contenders, meta)
    if soak is not None:
        L += ["## Soak", ""]
        L += soak_lines(soak)
        L.append("")
    if meta.get("notes"):
        L += ["## Notes", ""] + ["- " + n for n in meta["notes"]] + [""]
    return "\n".join(L)


def targets_section(cells, contenders, meta):
    """The issue's targets, checked against what was measured."""
    L = []
    items = []
    for c in cells:
        # Every contender of the cell: the startup cell also runs the warm and reuse rows.
        stats = {k: summarize_runs(c["runs"].get(k, [])) for k in set(contenders) | set(c["runs"])}

        def ran(key):
            return stats[key] if key in stats and stats[key]["ok_runs"] else None

        vh = ran("video-hw")
        if not vh:
            continue
        ff, py = stats.get("ffmpeg"), stats.get("pynvc")
        name = "%s x%d" % (c["input"], c["streams"])
        seg_label = "segmented over %d sessions" % meta.get("seg_sessions", 7)
        py_warm = ran(PYNVC_WARM)
        warm_label = "warm process (CUDA up before the clock%s)" % (", PyNvVideoCodec likewise" if py_warm else "")
        reuse_label = "warm process, decoders reused (a service's next batch%s)" % (
            "; PyNvVideoCodec warm, it has no reuse" if py_warm else "")
        if c["kind"] == "single":
            for label, key in (("", "video-hw"), (", " + seg_label, SEGMENTED)):
                s = ran(key)
                if not s:
                    continue
                rp = ratio(s["fps"], py and py["fps"])
                rf = ratio(s["fps"], ff and ff["fps"])
                items.append("%s%s: fps %s PyNvVideoCodec (target ≥ 1.00x) %s; %s ffmpeg (target ≥ 1.05x) %s" % (
                    name, label, fmt_ratio(rp), verdict(rp, 1.0, True), fmt_ratio(rf), verdict(rf, 1.05, True)))
            warm = ran(WARM)
            if warm:
                pyv = peer_of(WARM, "pynvc", stats)
                rp = ratio(warm["fps"], pyv and pyv["fps"])
                items.append("%s, %s: fps %s PyNvVideoCodec (target ≥ 1.00x) %s" % (
                    name, warm_label, fmt_ratio(rp), verdict(rp, 1.0, True)))
            rc = ratio(vh["cpu_ms_per_frame"], ff and ff["cpu_ms_per_frame"])
            items.append("%s: CPU/frame %s ffmpeg's (target ≤ 0.50x) %s" % (name, fmt_ratio(rc), verdict(rc, 0.5, False)))
        elif c["kind"] == "multi":
            inp = next((i for i in meta["inputs"] if i["name"] == c["input"]), {})
            ceiling = ISSUE_CEILING.get(inp.get("codec")) if inp.get("height") == 1080 else None
            for label, key in (("", "video-hw"), (", " + seg_label, SEGMENTED), (", " + warm_label, WARM),
                               (", " + reuse_label, REUSE)):
                s = ran(key)
                if not s:
                    continue
                if ceiling and c["streams"] >= 7:
                    r = ratio(s["fps"], ceiling)
                    items.append("%s%s: %s of the issue's %s ceiling (target ≥ 95%%; ceiling measured on other content) %s" % (
                        name, label, "–" if r is None else "%.1f%%" % (100 * r), ceiling, verdict(r, 0.95, True)))
                pyv = peer_of(key, "pynvc", stats)
                rp = ratio(s["fps"], pyv and pyv["fps"])
                rf = ratio(s["fps"], ff and ff["fps"])
                items.append("%s%s: fps %s PyNvVideoCodec threads (target ≥ 1.15x) %s, %s ffmpeg processes (target ≥ 1.40x) %s" % (
                    name, label, fmt_ratio(rp), verdict(rp, 1.15, True), fmt_ratio(rf), verdict(rf, 1.4, True)))
            seven = seven_stream_peers(cells, c) if c["streams"] > 7 else None
            if seven:
                # The issue states the ratios against the peers' 7 threads / 7 processes ("≥ 95% of
                # the ceiling, which is ≥ 1.15x PyNvVideoCodec's 7 threads and ≥ 1.4x ffmpeg's 7
                # processes"); the line above is the stricter same-count comparison.
                rp, rf = ratio(vh["fps"], seven.get("pynvc")), ratio(vh["fps"], seven.get("ffmpeg"))
                items.append("%s: fps %s PyNvVideoCodec's 7 threads (target ≥ 1.15x) %s, %s ffmpeg's 7 processes "
                             "(target ≥ 1.40x) %s (the issue's reference rows, same run)" % (
                                 name, fmt_ratio(rp), verdict(rp, 1.15, True), fmt_ratio(rf), verdict(rf, 1.4, True)))
            if vh["mem_per_session_mib"] is not None:
                items.append("%s: device memory %.1f MiB per session" % (name, vh["mem_per_session_mib"]))
        elif c["kind"] == "startup":
            for key, what in (("video-hw", "cold process"), (WARM, "warm process (later sessions of a service)"),
                              (REUSE, "warm process with a parked decoder (a stream restart)")):
                s = ran(key)
                if s:
                    r = ratio(s["ttff_ms"], ff and ff["ttff_ms"])
                    items.append("%s: open→first frame, %s: %s ffmpeg's (target ≤ 0.50x) %s" % (
                        c["input"], what, fmt_ratio(r), verdict(r, 0.5, False)))
    if items:
        L += ["## The issue's targets", ""] + ["- " + i for i in items] + [""]
    return L


def seven_stream_peers(cells, cell):
    """The peers' median fps in the 7-stream multi cell of the same input in this run, if any."""
    for c in cells:
        if c["kind"] == "multi" and c["input"] == cell["input"] and c["streams"] == 7:
            out = {}
            for peer in ("pynvc", "ffmpeg"):
                st = summarize_runs(c["runs"].get(peer, []))
                if st["ok_runs"]:
                    out[peer] = st["fps"]
            return out
    return None


def verdict(r, target, higher_is_better):
    if r is None:
        return "(not measured)"
    ok = r >= target if higher_is_better else r <= target
    return "**met**" if ok else "**not met**"


def soak_lines(s):
    if s.get("skipped"):
        return ["Skipped: %s" % s["skipped"]]
    j = s.get("report") or {}
    L = ["**%s** — `%s` (%.0f s wall)" % ("PASS" if s.get("pass") else "FAIL", s.get("cmd", ""), s.get("outer_wall_s") or 0)]
    if j:
        c = j.get("corrupt") or {}
        L.append("")
        L.append(md_table(["streams", "s", "clean passes checked", "wrong counts", "opens (restarts)", "interrupted passes",
                           "frames", "NVDEC sessions start→end (peak)", "free MiB start→end (min)", "corrupt stream"], [[
            j.get("streams"), fmt(j.get("duration_s"), 0), j.get("passes_checked"), j.get("passes_mismatched"),
            j.get("opens"), j.get("interrupted_passes"), fmt(j.get("frames")),
            "%s→%s (%s)" % (j.get("sessions_start"), j.get("sessions_end"), j.get("sessions_peak")),
            "%s→%s (%s)" % (fmt(j.get("free_start_mib"), 0), fmt(j.get("free_end_mib"), 0), fmt(j.get("free_min_mib"), 0)),
            "#%s: %s bit flips, %s frames, %s damaged-input reports, %s units dropped as damaged, %s pictures "
            "concealed, %s other errors" % (
                c.get("session"), c.get("bit_flips"), c.get("frames"), c.get("bitstream_errors"),
                c.get("dropped_units", "?"), c.get("concealed", "?"), c.get("other_errors")),
        ]]))
        for f in j.get("failures") or []:
            L.append("- FAIL: %s" % f)
    elif s.get("error"):
        L.append("- %s" % s["error"])
    return L
