#!/usr/bin/env python3
"""NVDEC decode benchmark harness behind scripts/bench-nvdec.sh (see bench/README.md).

Runs video-hw (the nvdec_bench example), ffmpeg (-hwaccel cuda -hwaccel_output_format cuda
-f null) and PyNvVideoCodec (scripts/peers/pynvc_decode.py) on the same inputs, interleaved
(order rotated every round), 1 warm-up + N repeats, and writes a markdown table with median,
p95, min and max run times, frames/s and the ratios, plus a JSON file with every run, under
bench/results/ (and $OUT when set). Standard library only (Python >= 3.8).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import time

from nvdec_harness.common import (
    CONTENDERS, OPTIONAL, PIXELS_1080P, PYNVC_WARM, REUSE, ROOT, SECTIONS, SEGMENTED, WARM, contender_env,
    last_json, median, parse_env_overrides, repeats_for, result_paths,
)
from nvdec_harness.procs import Smi, capture, gpu_info, run_procs, tail
from nvdec_harness.contenders import Bench, discover_inputs, ffmpeg_version, probe, pynvc_available
from nvdec_harness.report import report_markdown
from nvdec_harness.selftest import self_test


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="bench-nvdec.sh", description="NVDEC decode benchmark: video-hw vs ffmpeg vs "
                                "PyNvVideoCodec (run on the GPU machine; see bench/README.md)")
    p.add_argument("--only", default="startup,single,multi,soak",
                   help="comma list of sections: startup, single, multi, soak [all]")
    p.add_argument("--input", action="append", default=[], help="input file (repeatable) [bench/inputs/*, .gpu/data/bench/inputs/*]")
    p.add_argument("--streams", default="7,14", help="stream counts of the multi section [7,14]")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--frames", type=int, default=3000, help="frames per single-stream run, 1080p-equivalent [3000]")
    p.add_argument("--stream-frames", type=int, default=3000,
                   help="frames per stream in a multi-stream run, 1080p-equivalent: the issue's peer figures are "
                        "for 3,030 frames per stream and process [3000]")
    p.add_argument("--multi-frames", type=int, default=0,
                   help="instead of --stream-frames: total frames per multi-stream run, 1080p-equivalent, split "
                        "over the streams (runs before 75a5f53 used 21000: 1,500 per stream at 14 streams)")
    p.add_argument("--device", type=int, default=0)
    p.add_argument("--contenders", default=",".join(CONTENDERS))
    p.add_argument("--deadline", type=float, default=450, help="start no run after this many seconds [450]")
    p.add_argument("--run-timeout", type=float, default=120, help="longest one run may take [120]")
    p.add_argument("--soak-seconds", type=float, default=120)
    p.add_argument("--soak-streams", type=int, default=14)
    p.add_argument("--soak-seed", type=int, default=1)
    p.add_argument("--out-dir", default=os.path.join(ROOT, "bench", "results"))
    p.add_argument("--tag", default="", help="added to the result file names")
    p.add_argument("--seg-sessions", type=int, default=7, help="sessions of the segmented contender [7]")
    p.add_argument("--vh-args", default="", help="extra nvdec_bench arguments (e.g. '--chunk 1m')")
    p.add_argument("--env", action="append", default=[], metavar="VAR=VALUE",
                   help="set in every contender's environment, peers included (repeatable), e.g. "
                        "CUDA_DEVICE_MAX_CONNECTIONS=2: a setting is compared on equal terms or not at all")
    p.add_argument("--ffmpeg-hwaccel", default="cuda", help="cuda, or none (software decode: only to try the harness without a GPU)")
    p.add_argument("--smi-period-ms", type=int, default=200)
    p.add_argument("--self-test", action="store_true", help="run the harness's own tests and exit")
    a = p.parse_args(argv)
    a.sections = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in a.sections if s not in SECTIONS]
    if bad:
        p.error("unknown section(s) %s (startup, single, multi, soak)" % ", ".join(bad))
    a.contender_list = [c.strip() for c in a.contenders.split(",") if c.strip()]
    badc = [c for c in a.contender_list if c not in CONTENDERS + OPTIONAL]
    if badc or "video-hw" not in a.contender_list:
        p.error("contenders: video-hw plus any of %s" % ", ".join(CONTENDERS[1:] + OPTIONAL))
    a.stream_counts = [int(x) for x in a.streams.split(",") if x.strip()]
    try:
        a.env_overrides = parse_env_overrides(a.env)
    except ValueError as e:
        p.error(str(e))
    if a.repeats < 1 or a.warmup < 0:
        p.error("--repeats >= 1, --warmup >= 0")
    return a


def git_rev():
    """The commit the tree is at, with "+changes" when tracked files differ from it (the
    staged binaries are built from the working tree, so a report must not pass an edited
    tree off as the commit). On the GPU machine the copy's git history can be older than the
    tree that built the binaries: .gpu/REVISION, written when staging (bench/README.md), wins."""
    try:
        with open(os.path.join(ROOT, ".gpu", "REVISION")) as f:
            staged = f.read().strip()
        if staged:
            return staged
    except OSError:
        pass
    r = capture(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if not r:
        return "?"
    dirty = capture(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return r + ("+changes" if dirty else "")


def main(argv=None):
    a = parse_args(argv)
    if a.self_test:
        return self_test()
    b = Bench(a)
    if not b.nvdec_bench:
        print("bench-nvdec: nvdec_bench not found (stage it: cargo build --release --example nvdec_bench, then "
              "../shared/tools/gpu-stage ... -- --release --example nvdec_bench)", file=sys.stderr)
        return 2
    paths = a.input or discover_inputs()
    if not paths:
        print("bench-nvdec: no inputs (--input FILE, or bench/inputs/ / .gpu/data/bench/inputs/)", file=sys.stderr)
        return 2
    inputs = []
    for pth in paths:
        try:
            inputs.append(probe(b.nvdec_bench, pth))
        except Exception as e:
            b.notes.append("input %s skipped: %s" % (pth, e))
    now = datetime.datetime.now()
    meta = {"date": now.strftime("%Y-%m-%d %H:%M"), "host": platform.node(), "cpus": os.cpu_count(), "device": a.device,
            "warmup": a.warmup, "repeats": a.repeats, "smi_period_ms": a.smi_period_ms, "inputs": inputs,
            "video_hw_rev": git_rev(), "vh_desc": "cuda-nv12 output, 64 KiB submits, passes as one stream" + (
                ", extra args `%s`" % a.vh_args if a.vh_args else ""),
            "ffmpeg_cmd": " ".join(["ffmpeg -benchmark", "-hwaccel", a.ffmpeg_hwaccel, "-hwaccel_output_format", a.ffmpeg_hwaccel,
                                    "-i IN", "-f null -"]) if a.ffmpeg_hwaccel != "none" else "ffmpeg -benchmark -i IN -f null - (software decode)",
            "sections": a.sections, "notes": b.notes, "seg_sessions": a.seg_sessions, "env": a.env_overrides}
    b.log("GPU info, peers")
    meta["gpu"] = gpu_info(a.device)
    unavailable = {}
    if "ffmpeg" in a.contender_list:
        meta["ffmpeg_version"] = ffmpeg_version(b.ffmpeg)
        if not b.ffmpeg:
            unavailable["ffmpeg"] = "ffmpeg not on PATH (stage with --peer ffmpeg)"
    if "pynvc" in a.contender_list or PYNVC_WARM in a.contender_list:
        meta["pynvc_version"] = pynvc_available()
        if not meta["pynvc_version"]:
            for c in ("pynvc", PYNVC_WARM):
                unavailable[c] = "import PyNvVideoCodec failed (stage with --peer pynvvideocodec)"
    b.log("GPU: %s; ffmpeg: %s; PyNvVideoCodec: %s; inputs: %s" % (
        meta["gpu"] or "(no nvidia-smi)", meta.get("ffmpeg_version"), meta.get("pynvc_version"),
        ", ".join(i["name"] for i in inputs)))
    b.smi = Smi(a.device, a.smi_period_ms)
    if b.smi.note:
        b.notes.append(b.smi.note)
        b.smi = None
    else:
        time.sleep(1.2)
        mem = [x[3] for x in b.smi.samples if x[3] is not None]
        b.idle_mem = median(mem)
        meta["idle_mem_used_mib"] = b.idle_mem
    cells = []
    soak = None
    try:
        for inp in inputs:
            name = inp["name"]
            px = inp["width"] * inp["height"] / PIXELS_1080P
            if "startup" in a.sections:
                b.log("startup %s" % name)
                startup = [c for c in a.contender_list if c != SEGMENTED]
                startup += [c for c in (WARM, REUSE) if c not in startup]
                cells.append(b.cell("startup", inp, 1, 1, 1, startup, unavailable, 3))
            if "single" in a.sections:
                k = repeats_for(inp["frames"], inp["width"], inp["height"], a.frames)
                b.log("single %s: %d passes" % (name, k))
                cells.append(b.cell("single", inp, 1, k, 0, a.contender_list, unavailable, k * inp["frames"] * px / 500))
            if "multi" in a.sections:
                for n in a.stream_counts:
                    per_stream = a.multi_frames / n if a.multi_frames > 0 else a.stream_frames
                    k = repeats_for(inp["frames"], inp["width"], inp["height"], per_stream)
                    b.log("multi %s x%d: %d passes per stream" % (name, n, k))
                    cells.append(b.cell("multi", inp, n, k, 0, a.contender_list, unavailable,
                                        n * k * inp["frames"] * px / 2500))
            b.drop_copies()
        if "soak" in a.sections:
            soak = run_soak(b, inputs)
    finally:
        if b.smi:
            b.smi.stop()
        b.drop_copies()
        if b.workdir:
            shutil.rmtree(b.workdir, ignore_errors=True)
    os.makedirs(a.out_dir, exist_ok=True)
    md = report_markdown(meta, cells, soak, a.contender_list)
    md_path, js_path = result_paths(a.out_dir, a.tag, now, meta["video_hw_rev"])
    with open(md_path, "w") as f:
        f.write(md + "\n")
    raw = {"meta": meta, "cells": cells, "soak": soak,
           "smi_samples": [list(x) for x in (b.smi.samples if b.smi else [])]}
    with open(js_path, "w") as f:
        json.dump(raw, f, default=str)
    out_env = os.environ.get("OUT")
    if out_env and os.path.isdir(out_env):
        for pth in (md_path, js_path):
            shutil.copy(pth, out_env)
    print(md)
    b.log("wrote %s and %s%s" % (md_path, js_path, (" (copied to $OUT)" if out_env else "")))
    if soak is not None and soak.get("pass") is False:
        return 1
    return 0


def run_soak(b, inputs):
    a = b.a
    need = a.soak_seconds + 60
    if b.out_of_time(need) and b.elapsed() > 1:
        return {"skipped": "not enough time left in --deadline %d s for a %d s soak" % (a.deadline, a.soak_seconds)}
    if not inputs:
        return {"skipped": "no inputs"}
    cmd = [b.nvdec_bench, "soak", "--streams", str(a.soak_streams), "--duration", str(a.soak_seconds), "--seed",
           str(a.soak_seed), "--device", str(a.device)]
    for i in inputs:
        cmd += ["--input", i["path"]]
    cmd += a.vh_args.split()
    b.log("soak: %s" % " ".join(cmd))
    (res,), wall = run_procs([cmd], a.soak_seconds + 180, env=contender_env(a.env_overrides))
    j = last_json(res["stdout"])
    sys.stderr.write(res["stderr"][-4000:])
    out = {"cmd": " ".join(os.path.basename(c) if c == b.nvdec_bench else c for c in cmd), "outer_wall_s": wall,
           "rc": res["rc"], "report": j, "pass": bool(j and j.get("pass")) and res["rc"] == 0}
    if not j:
        out["error"] = res["error"] or "exit %s: %s" % (res["rc"], tail(res["stderr"], 600))
    b.log("soak: %s" % ("PASS" if out["pass"] else "FAIL"))
    return out


if __name__ == "__main__":
    sys.exit(main())
