"""The harness's self-test (no GPU): the pure parts and the report on made-up runs.
"""
import datetime
import os
import tempfile

from .common import (
    CONTENDERS, OPTIONAL, PYNVC_WARM, REUSE, WARM, cell_rows, contender_env, fmt, fmt_ratio, last_json,
    md_table, median, p95, parse_env_overrides, parse_ffmpeg, ratio, repeats_for, result_paths, startup_rows,
)
from .procs import closes_note, engines_from_runs, max_video_clock, startup_breakdown
from .report import report_markdown

def self_test():
    assert median([]) is None and median([3, 1, 2]) == 2 and median([4, 1, 2, 3]) == 2.5
    assert p95([5, 1, 3, 2, 4]) == 5 and p95(list(range(1, 21))) == 19 and p95([7]) == 7
    assert fmt(None) == "–" and fmt(1234) == "1,234" and fmt(1.23456, 2) == "1.23"
    assert fmt_ratio(ratio(3.0, 2.0)) == "1.50x" and ratio(1, 0) is None
    assert repeats_for(300, 1920, 1080, 3000) == 10
    assert parse_env_overrides(["CUDA_DEVICE_MAX_CONNECTIONS=2", "A_B="]) == {"CUDA_DEVICE_MAX_CONNECTIONS": "2", "A_B": ""}
    for bad in ("NOEQUALS", "=1", "1X=2", "A B=1"):
        try:
            parse_env_overrides([bad])
        except ValueError:
            pass
        else:
            raise AssertionError("accepted %r" % bad)
    assert contender_env({}) is None and contender_env({"X_TEST_VAR": "1"})["X_TEST_VAR"] == "1"
    assert repeats_for(303, 1920, 1080, 3000) == 10
    assert repeats_for(300, 3840, 2160, 3000) == 2
    assert repeats_for(300, 1920, 1080, 1500) == 5
    assert repeats_for(0, 1920, 1080, 3000) == 1
    smi_clocks = ("    Clocks\n        Video                             : 765 MHz\n"
                  "    Max Clocks\n        Graphics                          : 1980 MHz\n"
                  "        Video                             : 1860 MHz\n"
                  "    Max Customer Boost Clocks\n        Graphics                          : 1980 MHz\n")
    assert max_video_clock(smi_clocks) == {"video_clock_max": "1860 MHz"}, max_video_clock(smi_clocks)
    assert max_video_clock("    Clocks\n        Video : 765 MHz\n") == {}
    engine_note = {"nvdec": {"notes": ["7 NVDEC engine(s); 8-bit up to 8192x8192"]}}
    assert engines_from_runs([{"runs": {"video-hw": [{"raw": engine_note}]}}]) == 7
    assert engines_from_runs([{"runs": {"ffmpeg": [{}]}}]) is None
    ff = ("frame=  100 fps=0.0 q=-0.0 size=N/A time=00:00:03.33 bitrate=N/A speed=6.6x\r"
          "frame= 3000 fps=1010 q=-0.0 Lsize=N/A time=00:01:40.00 bitrate=N/A speed=33.7x\n"
          "video:1406kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown\n"
          "bench: utime=1.234s stime=0.456s rtime=2.970s\nbench: maxrss=123456kB\n")
    assert parse_ffmpeg(ff) == (3000, {"utime": 1.234, "stime": 0.456, "rtime": 2.97})
    assert parse_ffmpeg("garbage") == (None, None)
    assert last_json('log\n{"a": 1}\n{"b": 2}\nnot json\n') == {"b": 2}
    assert last_json("") is None
    assert md_table(["a", "b"], [[1, "x|y"]]) == "| a | b |\n|---|---|\n| 1 | x\\|y |"

    def run(frames, wall, ok=True, **kw):
        d = {"ok": ok, "frames": frames, "wall_s": wall, "cpu_ms_per_frame": 0.1, "ttff_ms": 50.0}
        d.update(kw)
        if not ok:
            d["error"] = "boom"
        return d
    cell = {"kind": "single", "input": "hevc-1080p.h265", "streams": 1, "expected_frames": 3000, "runs": {
        "video-hw": [run(3000, w, mem_per_session_mib=40.0) for w in (2.5, 2.6, 2.4, 2.7, 2.5)],
        "ffmpeg": [run(3000, w, cpu_ms_per_frame=0.4) for w in (3.0, 3.1, 2.9, 3.0, 3.2)],
        "pynvc": [run(3000, 2.8)] * 4 + [run(None, None, ok=False)],
    }}
    rows, stats, equal = cell_rows(cell, list(CONTENDERS))
    assert equal, stats
    vh = rows[0]
    assert vh[2] == "video-hw" and vh[3] == "3,000" and vh[4] == "2.500" and vh[5] == "2.700", vh
    assert vh[6] == "2.400" and vh[7] == "2.700" and vh[8] == "1,200", vh
    assert vh[9] == "1.20x" and vh[10] == "1.12x", vh
    assert rows[2][2] == "PyNvVideoCodec (4/5 ok)", rows[2]
    cell["runs"]["ffmpeg"][0]["frames"] = 2999
    rows, stats, equal = cell_rows(cell, list(CONTENDERS))
    assert not equal and "≠" in rows[1][3], rows[1]
    failed = dict(cell, runs={"video-hw": cell["runs"]["video-hw"], "ffmpeg": [run(None, None, ok=False)] * 2, "pynvc": []},
                  unavailable={"pynvc": "import failed"})
    rows, _, _ = cell_rows(failed, list(CONTENDERS))
    assert rows[1][3].startswith("failed: boom") and rows[2][3].startswith("not available"), rows
    startup = {"kind": "startup", "input": "x", "streams": 1, "expected_frames": 1, "runs": {
        "video-hw": [run(1, 0.1, ttff_ms=t, outer_wall_s=0.3) for t in (40.0, 42.0, 41.0, 43.0, 44.0)],
        "ffmpeg": [run(1, 0.3, ttff_ms=t, outer_wall_s=0.6) for t in (200.0, 210.0, 190.0, 205.0, 199.0)],
        "pynvc": [run(1, 0.2, ttff_ms=t, outer_wall_s=0.9) for t in (100.0, 110.0, 90.0, 105.0, 99.0)],
        "video-hw-reuse": [run(1, 0.1, ttff_ms=t, outer_wall_s=0.3) for t in (5.0, 6.0, 5.5, 5.2, 5.1)],
    }}
    srows, _ = startup_rows(startup, list(CONTENDERS))
    assert startup_breakdown(startup) is None  # no nvdec_bench start-up report in these runs
    for r, ms in zip(startup["runs"]["video-hw"], (10.0, 12.0, 11.0, 13.0, 14.0)):
        r["raw"] = {"startup": {"cuda_init_ms": ms, "context": {"calls": 1, "ms": 20.0}, "close": {"calls": 1, "ms": 1.5}}}
    line = startup_breakdown(startup)
    assert "cuInit 12.0, primary context 20.0, the rest (first pictures" in line and " 10.0; closing" in line, line
    assert srows[0][2] == "42.0" and srows[0][6] == "0.21x" and srows[0][7] == "0.42x" and srows[0][8] == "300", srows[0]
    meta = {"date": "2026-01-01 00:00", "host": "h", "cpus": 16, "device": 0, "warmup": 1, "repeats": 5,
            "smi_period_ms": 200, "gpu": {"name": "NVIDIA H200", "driver": "580.00", "cuda": "13.0"},
            "inputs": [{"name": "hevc-1080p.h265", "codec": "hevc", "width": 1920, "height": 1080, "frames": 300,
                        "bytes": 10e6, "mbps": 8.0}, {"name": "x", "codec": "h264", "width": 1920, "height": 1080,
                                                      "frames": 300, "bytes": 1e6, "mbps": 1.0}],
            "notes": ["a note"]}
    multi = dict(cell, kind="multi", streams=7, expected_frames=21000, runs={
        "video-hw": [dict(run(21000, 3.0, mem_per_session_mib=45.0, closes_done_s=3.5),
                          raw={"startup": {"creation_barrier": {"calls": 6, "ms": 1500.0}, "cuda_init_ms": 100.0,
                                           "context": {"calls": 1, "ms": 110.0},
                                           "create_decoder": {"calls": 7, "ms": 301.0}}})] * 5,
        "ffmpeg": [run(21000, 4.5)] * 5,
        "pynvc": [run(21000, 3.6)] * 5, "video-hw-seg": [run(21000, 2.8, mem_per_session_mib=60.0)] * 5})
    soak = {"pass": True, "cmd": "nvdec_bench soak", "outer_wall_s": 125.0, "report": {
        "streams": 14, "duration_s": 120.0, "passes_checked": 900, "passes_mismatched": 0, "opens": 400,
        "interrupted_passes": 150, "frames": 300000, "sessions_start": 0, "sessions_end": 0, "sessions_peak": 14,
        "free_start_mib": 140000.0, "free_end_mib": 139990.0, "free_min_mib": 139000.0,
        "corrupt": {"session": 13, "bit_flips": 10000, "frames": 5000, "bitstream_errors": 300, "other_errors": 2,
                    "dropped_units": 40, "concealed": 700},
        "failures": []}}
    # One run of five with barrier waits: the median run had none, so no barrier sentence.
    mixed = dict(multi, runs=dict(multi["runs"], **{"video-hw": [multi["runs"]["video-hw"][0]] + [
        dict(run(21000, 3.0, closes_done_s=3.5), raw={"startup": {"creation_barrier": {"calls": 0, "ms": 0.0}}})] * 4}))
    assert "creation barrier" not in closes_note(mixed), closes_note(mixed)
    assert "CPU" not in closes_note(mixed), closes_note(mixed)
    parked = [dict(run(3000, 2.5, closes_done_s=2.6), raw={"cpu_ms_per_frame_before_parked_release": 0.093})] * 5
    assert "CPU 0.100 ms a frame counting the destroy of the decoders its sessions parked (the table's figure), " \
        "0.093 without it" in closes_note(dict(cell, runs={"video-hw": parked})), closes_note(dict(cell, runs={"video-hw": parked}))
    md = report_markdown(meta, [startup, cell, multi], soak, list(CONTENDERS))
    assert "peers included" not in md, md
    assert "peers included: `CUDA_DEVICE_MAX_CONNECTIONS=2`." in report_markdown(
        dict(meta, env={"CUDA_DEVICE_MAX_CONNECTIONS": "2"}), [cell], None, list(CONTENDERS))
    for want in ("## Throughput", "## Time to first frame", "## Soak", "**PASS**", "NVIDIA H200", "| hevc-1080p.h265 | 7 |",
                 "frame counts differ", "## The issue's targets",
                 "x7: video-hw's clock stopped at 3.000 s (median), when the last session's drop returned; its "
                 "decoders, destroyed on the closer thread, were all gone at 3.500 s (counting that, 6,000 fps). Inside its "
                 "time: `cuInit` + context 210 ms, 7 decoders created at 43.0 ms each, one at a time. 6 stream starts "
                 "of its 7 sessions waited at the creation barrier, 250.0 ms each (medians).", "segmented over 7 sessions: 98.0% of",
                 "video-hw, segmented**", "ceiling", "a note",
                 "300 damaged-input reports, 40 units dropped as damaged, 700 pictures concealed, 2 other errors",
                 "| x | video-hw, warm process, decoder reused | 5.2 |",
                 "warm process with a parked decoder (a stream restart): 0.03x ffmpeg's (target ≤ 0.50x) **met**", "0.21x ffmpeg's (target ≤ 0.50x) **met**"):
        assert want in md, (want, md)
    # the multi row: 21000 / 3.0 = 7000 fps = 92% of the HEVC ceiling
    assert "| 92% |" in md, md
    # Warm rows: video-hw's is compared with PyNvVideoCodec's warm row, ffmpeg's cold one.
    warm = dict(multi, runs=dict(multi["runs"], **{WARM: [run(21000, 2.8)] * 5, PYNVC_WARM: [run(21000, 3.5)] * 5}))
    order = list(CONTENDERS) + list(OPTIONAL)
    rows, _, equal = cell_rows(warm, order, 7650)
    assert equal and rows[4][2] == "video-hw, warm process" and rows[4][9:11] == ["1.61x", "1.25x"], rows[4]
    assert rows[5][2] == "PyNvVideoCodec, warm process" and rows[5][9] == "", rows[5]
    warm["runs"][REUSE] = [run(21000, 2.75)] * 5
    rows, _, _ = cell_rows(warm, order, 7650)
    assert rows[6][2] == "video-hw, warm process, decoder reused" and rows[6][10] == "1.27x", rows[6]
    md = report_markdown(meta, [warm], None, order)
    assert ("decoders reused (a service's next batch; PyNvVideoCodec warm, it has no reuse): 99.8% of the issue's "
            "7650 ceiling" in md and "**warm process, decoders reused**" in md), md
    assert ("x7, warm process (CUDA up before the clock, PyNvVideoCodec likewise): 98.0% of the issue's 7650 ceiling"
            in md and "fps 1.25x PyNvVideoCodec threads (target ≥ 1.15x) **met**, 1.61x ffmpeg" in md), md
    # A 14-stream row is also compared with the peers' 7-stream rows of the same run (the issue's reference).
    fourteen = dict(multi, streams=14, expected_frames=42420, runs={
        "video-hw": [run(42420, 5.5)] * 5, "ffmpeg": [run(42420, 8.5)] * 5, "pynvc": [run(42420, 6.0)] * 5})
    md = report_markdown(meta, [multi, fourteen], None, list(CONTENDERS))
    assert ("x14: fps 1.32x PyNvVideoCodec's 7 threads (target ≥ 1.15x) **met**, 1.65x ffmpeg's 7 processes "
            "(target ≥ 1.40x) **met** (the issue's reference rows, same run)" in md), md
    assert "x14: fps 1.09x PyNvVideoCodec threads (target ≥ 1.15x) **not met**" in md, md
    assert "x7: fps 1.20x PyNvVideoCodec's 7 threads" not in md and "x7: fps" in md, md
    with tempfile.TemporaryDirectory() as d:
        when = datetime.datetime(2026, 11, 21, 19, 38, 59)
        md, js = result_paths(d, "h264-6m", when, "9cfede2")
        assert os.path.basename(md) == "nvdec-h264-6m-20261121-9cfede2.md" and js.endswith("9cfede2.json"), md
        open(md, "w").close()
        assert os.path.basename(result_paths(d, "h264-6m", when, "9cfede2")[0]) == "nvdec-h264-6m-20261121-9cfede2-2.md"
        assert os.path.basename(result_paths(d, "", when, "9cfede2+changes")[1]) == "nvdec-20261121-9cfede2-changes.json"
    print("bench_nvdec self-test: ok")
    return 0
