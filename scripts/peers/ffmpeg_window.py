#!/usr/bin/env python3
"""What ffmpeg's `-benchmark` window leaves out: runs ffmpeg as scripts/bench_nvdec.py does
(`-benchmark`, NVDEC to device frames, null output) and reads the process's CPU time from
/proc the moment ffmpeg prints its `bench: utime=... rtime=...` line (the end of its
transcode(), where the window closes), then again when the process has exited. What comes
after the line is ffmpeg's cleanup (freeing the filter graph, the last frames and, with
them, the NVDEC decoder and the CUDA device). Prints one JSON line per run.

Why: video-hw's own CPU figure is read after its decoders are destroyed; to compare the
two figures fairly we need to know whether ffmpeg's decoder destroy falls inside its window.

usage: python3 scripts/peers/ffmpeg_window.py [--runs N] [--gpu N] INPUT
"""
import json
import os
import subprocess
import sys
import time


def proc_cpu_s(pid):
    """utime + stime of a live process (all threads), from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def one_run(ffmpeg, path, gpu):
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-benchmark", "-hwaccel", "cuda", "-hwaccel_output_format", "cuda",
           "-hwaccel_device", str(gpu), "-i", path, "-f", "null", "-"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    at_line, bench, t_line = None, None, None
    for line in p.stderr:
        if line.startswith("bench: utime="):
            t_line = time.perf_counter()
            at_line = proc_cpu_s(p.pid)
            kv = dict(x.split("=") for x in line.split()[1:])
            bench = {k: float(v.rstrip("s")) for k, v in kv.items()}
    _, status, ru = os.wait4(p.pid, 0)
    t_end = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)
    total = ru.ru_utime + ru.ru_stime
    return {
        "rc": p.returncode,
        "bench_cpu_ms": round((bench["utime"] + bench["stime"]) * 1e3, 1) if bench else None,
        "bench_rtime_ms": round(bench["rtime"] * 1e3, 1) if bench else None,
        "process_cpu_at_bench_line_ms": round(at_line * 1e3, 1) if at_line is not None else None,
        "process_cpu_total_ms": round(total * 1e3, 1),
        "cpu_after_bench_line_ms": round((total - at_line) * 1e3, 1) if at_line is not None else None,
        "ms_from_bench_line_to_exit": round((t_end - t_line) * 1e3, 1) if t_line else None,
        "process_wall_ms": round((t_end - t0) * 1e3, 1),
    }


def main():
    args = sys.argv[1:]
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 3
    gpu = int(args[args.index("--gpu") + 1]) if "--gpu" in args else 0
    path = args[-1]
    ffmpeg = os.environ.get("FFMPEG", "ffmpeg")
    for _ in range(runs):
        print(json.dumps(one_run(ffmpeg, path, gpu)), flush=True)


if __name__ == "__main__":
    main()
