"""The contenders: how each is run (video-hw's nvdec_bench, ffmpeg, PyNvVideoCodec), the
interleaved rounds, and finding the binary, the inputs and the peers.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

from .common import PYNVC_WARM, REUSE, ROOT, SEGMENTED, WARM, contender_env, last_json, parse_ffmpeg
from .procs import capture, run_procs, tail

class Bench:
    def __init__(self, a):
        self.a = a
        self.t_start = time.perf_counter()
        self.nvdec_bench = find_nvdec_bench()
        self.ffmpeg = shutil.which("ffmpeg")
        self.smi = None
        self.idle_mem = None
        self.notes = []
        self.copies = {}
        self.workdir = None

    def elapsed(self):
        return time.perf_counter() - self.t_start

    def out_of_time(self, need=0):
        return self.elapsed() + need > self.a.deadline

    def timeout_for(self, expected_s):
        return int(min(self.a.run_timeout, max(30, 5 * expected_s + 20)))

    def annotate(self, r, t0, t1, streams):
        if self.smi:
            w = self.smi.window(t0, t1)
            r.update({k: w.get(k) for k in ("video_clock_mhz", "dec_util", "dec_util_max", "mem_used_max_mib")})
            if w.get("mem_used_max_mib") is not None and self.idle_mem is not None:
                r["smi_mem_per_session_mib"] = max(0.0, w["mem_used_max_mib"] - self.idle_mem) / streams
        return r

    def run_video_hw(self, inp, streams, passes, max_frames, timeout, warm=False, segmented=False, reuse=False):
        cmd = [self.nvdec_bench, "--input", inp["path"], "--streams", str(streams), "--repeat-input", str(passes),
               "--device", str(self.a.device)]
        if max_frames == 1:
            # Time to first frame: no memory sampling. Its keeper session and sampler thread
            # would open beside the timed session and compete with its start-up.
            cmd.append("--no-mem")
        if warm:
            cmd.append("--warm")
        if reuse:
            cmd.append("--warm-decode")
        if segmented:
            cmd += ["--segmented", str(self.a.seg_sessions)]
        if max_frames:
            cmd += ["--max-frames", str(max_frames)]
        cmd += self.a.vh_args.split()

        def error(j, res):
            return "; ".join(j.get("errors") or []) or ("frames_ok=false" if not j.get("frames_ok") else tail(res["stderr"]))

        return self.run_reporting(cmd, timeout, streams, error,
                                  lambda j: {"mem_per_session_mib": j.get("mem_per_session_mib"), "backend": j.get("backend"),
                                             "closes_done_s": j.get("closes_done_s")})

    def run_reporting(self, cmd, timeout, streams, error, extra=lambda j: {}):
        """Runs one contender process that prints its own JSON report (nvdec_bench, the
        PyNvVideoCodec script): frames, in-process wall time, time to first frame, CPU per
        frame, plus `extra(report)`; `error(report, result)` says why a run is not ok."""
        t0 = time.time()
        (res,), wall = run_procs([cmd], timeout, env=contender_env(getattr(self.a, "env_overrides", None)))
        t1 = time.time()
        j = last_json(res["stdout"])
        r = {"cmd": " ".join(cmd), "outer_wall_s": wall, "process_cpu_s": res["cpu_s"]}
        if not j:
            r.update(ok=False, error=res["error"] or "exit %s, no JSON: %s" % (res["rc"], tail(res["stderr"])))
            return r
        r.update(ok=bool(j.get("ok")) and res["rc"] == 0, frames=j.get("frames_total"), wall_s=j.get("wall_s"),
                 ttff_ms=j.get("ttff_ms_median"), cpu_ms_per_frame=j.get("cpu_ms_per_frame"), **extra(j), raw=j)
        if not r["ok"]:
            r["error"] = error(j, res)
        return self.annotate(r, t0, t1, streams)

    def ffmpeg_cmd(self, path, max_frames):
        cmd = [self.ffmpeg, "-hide_banner", "-nostdin", "-benchmark"]
        if self.a.ffmpeg_hwaccel != "none":
            cmd += ["-hwaccel", self.a.ffmpeg_hwaccel, "-hwaccel_output_format", self.a.ffmpeg_hwaccel,
                    "-hwaccel_device", str(self.a.device)]
        cmd += ["-i", path]
        if max_frames:
            cmd += ["-frames:v", str(max_frames)]
        return cmd + ["-f", "null", "-"]

    def run_ffmpeg(self, inp, streams, passes, max_frames, timeout):
        if not self.ffmpeg:
            return {"ok": False, "error": "ffmpeg not on PATH"}
        cmd = self.ffmpeg_cmd(self.repeated(inp, passes), max_frames)
        t0 = time.time()
        res, wall = run_procs([cmd] * streams, timeout, env=contender_env(getattr(self.a, "env_overrides", None)))
        t1 = time.time()
        frames, rtimes, cpus, errors = 0, [], [], []
        for i, x in enumerate(res):
            f, b = parse_ffmpeg(x["stderr"])
            if x["rc"] != 0 or b is None or f is None:
                errors.append("process %d: %s" % (i, x["error"] or "exit %s: %s" % (x["rc"], tail(x["stderr"]))))
                continue
            frames += f
            rtimes.append(b["rtime"])
            cpus.append(b["utime"] + b["stime"])
        r = {"cmd": " ".join(cmd) + ("  (x%d processes)" % streams if streams > 1 else ""), "outer_wall_s": wall,
             "process_cpu_s": sum(x["cpu_s"] or 0 for x in res)}
        if errors:
            r.update(ok=False, error="; ".join(errors)[:400], frames=frames)
            return r
        # In-process clock: -benchmark's rtime (transcode(): hw device + decoder open ... close;
        # input probing and process start excluded). N processes: the slowest one's.
        rt = max(rtimes)
        r.update(ok=True, frames=frames, wall_s=rt, cpu_ms_per_frame=sum(cpus) * 1e3 / frames if frames else None,
                 ttff_ms=rt * 1e3 if max_frames == 1 else None)
        return self.annotate(r, t0, t1, streams)

    def run_pynvc(self, inp, streams, passes, max_frames, timeout, warm=False):
        script = os.path.join(ROOT, "scripts", "peers", "pynvc_decode.py")
        cmd = [sys.executable, script, "--input", self.repeated(inp, passes), "--streams", str(streams),
               "--passes", "1", "--gpu", str(self.a.device)] + (["--warm"] if warm else [])
        if max_frames:
            cmd += ["--max-frames", str(max_frames)]
        return self.run_reporting(cmd, timeout, streams, lambda j, res: "; ".join(j.get("errors") or []) or tail(res["stderr"]))

    def repeated(self, inp, passes):
        """A file holding `passes` copies of the input, for the peers (made once, outside any
        timer). ffmpeg 5.1's -stream_loop cannot loop a raw elementary stream ("Seek to
        start failed"); a concatenation of streams that each start with their parameter
        sets and an IDR is one valid stream, the same bytes nvdec_bench --repeat-input feeds."""
        if passes <= 1:
            return inp["path"]
        key = (inp["path"], passes)
        if key not in self.copies:
            if self.workdir is None:
                self.workdir = tempfile.mkdtemp(prefix="bench-nvdec-")
            base, ext = os.path.splitext(inp["name"])
            out = os.path.join(self.workdir, "%s.x%d%s" % (base, passes, ext))
            with open(inp["path"], "rb") as f:
                data = f.read()
            with open(out, "wb") as f:
                for _ in range(passes):
                    f.write(data)
            self.copies[key] = out
        return self.copies[key]

    def drop_copies(self):
        for pth in self.copies.values():
            try:
                os.remove(pth)
            except OSError:
                pass
        self.copies = {}

    def run_one(self, contender, inp, streams, passes, max_frames, timeout):
        fn = {"video-hw": self.run_video_hw, "ffmpeg": self.run_ffmpeg, "pynvc": self.run_pynvc,
              WARM: lambda *args: self.run_video_hw(*args, warm=True),
              PYNVC_WARM: lambda *args: self.run_pynvc(*args, warm=True),
              REUSE: lambda *args: self.run_video_hw(*args, reuse=True),
              SEGMENTED: lambda *args: self.run_video_hw(*args, segmented=True)}[contender]
        try:
            return fn(inp, streams, passes, max_frames, timeout)
        except Exception as e:  # a broken contender must not stop the others
            return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}

    def cell(self, kind, inp, streams, passes, max_frames, contenders, unavailable, expected_s):
        """warm-up + repeats of every contender, interleaved, order rotated each round."""
        cell = {"kind": kind, "input": inp["name"], "streams": streams, "passes": passes, "max_frames": max_frames,
                "expected_frames": (min(max_frames, inp["frames"] * passes) if max_frames else inp["frames"] * passes) * streams,
                "runs": {c: [] for c in contenders}, "warmup": {c: [] for c in contenders},
                "unavailable": {c: unavailable[c] for c in contenders if unavailable.get(c)}}
        active = [c for c in contenders if not unavailable.get(c)]
        failures = {c: 0 for c in active}
        timeout = self.timeout_for(expected_s)
        rounds = self.a.warmup + self.a.repeats
        for rnd in range(rounds):
            order = active[rnd % len(active):] + active[:rnd % len(active)] if active else []
            for c in order:
                if failures[c] >= 2:
                    continue
                if self.out_of_time(expected_s):
                    cell["skipped"] = "time budget (--deadline %d s) reached" % self.a.deadline
                    self.log("  %s: out of time, stopping this cell" % kind)
                    return cell
                r = self.run_one(c, inp, streams, passes, max_frames, timeout)
                r["round"] = rnd
                (cell["warmup"] if rnd < self.a.warmup else cell["runs"])[c].append(r)
                if not r.get("ok"):
                    failures[c] += 1
                self.log("  [%s %s x%d r%d] %-8s %s" % (kind, inp["name"], streams, rnd, c, brief(r)))
        return cell

    def log(self, msg):
        print("%7.1fs %s" % (self.elapsed(), msg), file=sys.stderr, flush=True)


def brief(r):
    if not r.get("ok"):
        return "FAILED: " + str(r.get("error"))[:200]
    parts = ["%s frames" % r.get("frames")]
    if r.get("wall_s"):
        parts.append("%.3f s (%.0f fps)" % (r["wall_s"], (r.get("frames") or 0) / r["wall_s"]))
    if r.get("ttff_ms") is not None:
        parts.append("ttff %.1f ms" % r["ttff_ms"])
    if r.get("cpu_ms_per_frame") is not None:
        parts.append("cpu %.3f ms/f" % r["cpu_ms_per_frame"])
    if r.get("video_clock_mhz"):
        parts.append("clk %.0f MHz util %.0f%%" % (r["video_clock_mhz"], r.get("dec_util") or 0))
    return ", ".join(parts)


def find_nvdec_bench():
    for c in (shutil.which("nvdec_bench"), os.path.join(ROOT, ".gpu", "bin", "nvdec_bench"),
              os.path.join(ROOT, "target", "release", "examples", "nvdec_bench")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def discover_inputs():
    found = []
    for d in (os.path.join(ROOT, ".gpu", "data", "bench", "inputs"), os.path.join(ROOT, "bench", "inputs")):
        for ext in ("h264", "h265", "264", "265", "hevc"):
            found += glob.glob(os.path.join(d, "*." + ext))
            found += glob.glob(os.path.join(d, "*", "*." + ext))
    out, seen = [], set()
    for f in sorted(found):
        if "-big." in os.path.basename(f) or os.path.basename(f) in seen:
            continue
        seen.add(os.path.basename(f))
        out.append(f)
    return out


def probe(nvdec_bench, path):
    r = subprocess.run([nvdec_bench, "probe", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    j = last_json(r.stdout)
    if r.returncode != 0 or not j:
        raise RuntimeError("nvdec_bench probe %s: %s" % (path, tail(r.stderr)))
    f = j["inputs"][0]
    name = os.path.basename(path)
    return {"path": path, "name": name, "codec": f["codec"], "width": f["width"], "height": f["height"],
            "frames": f["frames"], "bytes": f["bytes"], "profile": f.get("profile"),
            "mbps": f["bytes"] * 8 * 30 / max(1, f["frames"]) / 1e6}


def pynvc_available():
    r = capture([sys.executable, "-c", "import PyNvVideoCodec as n; print(n.__version__)"], timeout=60)
    return r.strip().splitlines()[-1] if r else None


def ffmpeg_version(ffmpeg):
    v = capture([ffmpeg, "-hide_banner", "-version"]) if ffmpeg else None
    return v.splitlines()[0] if v else None
