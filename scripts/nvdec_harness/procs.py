"""Processes: running contenders in parallel with timeouts, nvidia-smi sampling, GPU facts, and
the notes drawn from the runs (start-up breakdown, set-up, closes, parked decoders).
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time

from .common import fmt, median, summarize_runs

def run_procs(cmds, timeout, env=None):
    """Starts every command at once (each in its own process group, under coreutils
    `timeout` when present) and waits for all, up to `timeout` s. Returns, per command:
    returncode (None when killed), stdout, stderr, cpu_s (user+sys of the process tree from
    wait4), and the wall time from the first start to the last exit."""
    wrap = ["timeout", "--kill-after=5", str(int(timeout))] if shutil.which("timeout") else []
    procs = []
    t0 = time.perf_counter()
    for cmd in cmds:
        out = tempfile.TemporaryFile()
        err = tempfile.TemporaryFile()
        try:
            p = subprocess.Popen(wrap + cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                 start_new_session=True)
        except OSError as e:
            procs.append({"proc": None, "out": out, "err": err, "spawn_error": str(e)})
            continue
        procs.append({"proc": p, "out": out, "err": err, "rc": None, "cpu": None})
    pending = {d["proc"].pid: d for d in procs if d.get("proc")}
    deadline = t0 + timeout + 10
    while pending:
        for pid, d in list(pending.items()):
            try:
                wpid, status, ru = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                wpid, status, ru = pid, 0, None
            if wpid == pid:
                d["rc"] = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else (status >> 8)
                d["cpu"] = (ru.ru_utime + ru.ru_stime) if ru else None
                d["proc"].returncode = d["rc"]
                del pending[pid]
        if not pending:
            break
        if time.perf_counter() > deadline:
            for pid, d in pending.items():
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    os.waitpid(pid, 0)
                except OSError:
                    pass
                d["rc"] = None
                d["killed"] = True
            break
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    res = []
    for d in procs:
        text = []
        for f in (d["out"], d["err"]):
            f.seek(0)
            text.append(f.read().decode("utf-8", "replace"))
            f.close()
        rc = d.get("rc")
        if rc == 124 or d.get("killed"):
            rc = None
        res.append({"rc": rc, "stdout": text[0], "stderr": text[1], "cpu_s": d.get("cpu"),
                    "error": d.get("spawn_error") or (("timed out after %d s" % timeout) if rc is None else None)})
    return res, wall


def tail(text, n=300):
    text = (text or "").strip().replace("\n", " / ")
    return text[-n:]


class Smi:
    """nvidia-smi sampled in the background (video clock, decoder utilisation, memory)."""

    def __init__(self, device, period_ms=200):
        self.samples = []  # (time.time(), clock MHz, decoder util %, memory used MiB)
        self.proc = None
        self.note = None
        if not shutil.which("nvidia-smi"):
            self.note = "nvidia-smi not found"
            return
        cmd = ["nvidia-smi", "--query-gpu=clocks.video,utilization.decoder,memory.used", "--format=csv,noheader,nounits",
               "-lms", str(period_ms), "-i", str(device)]
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        except OSError as e:
            self.note = "nvidia-smi: %s" % e
            return
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 3:
                continue
            try:
                vals = [float(p) if p not in ("[N/A]", "N/A", "") else None for p in parts[:3]]
            except ValueError:
                continue
            self.samples.append((time.time(), vals[0], vals[1], vals[2]))

    def window(self, t0, t1):
        s = [x for x in self.samples if t0 <= x[0] <= t1]
        if not s:
            return {}
        col = lambda i: [x[i] for x in s if x[i] is not None]
        return {
            "video_clock_mhz": statistics.mean(col(1)) if col(1) else None,
            "dec_util": statistics.mean(col(2)) if col(2) else None,
            "dec_util_max": max(col(2)) if col(2) else None,
            "mem_used_max_mib": max(col(3)) if col(3) else None,
            "samples": len(s),
        }

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def capture(cmd, timeout=30):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


STARTUP_STEPS = (("cuda_load_ms", "load libcuda"), ("cuda_init_ms", "cuInit"), ("context", "primary context"),
                 ("cuvid_load_ms", "load libnvcuvid"), ("decoder_caps", "decoder caps"),
                 ("session_setup", "stream+event"), ("create_parser", "parser"), ("create_decoder", "decoder"),
                 ("alloc", "output alloc"))  # summed in this order: none includes another


def startup_breakdown(cell):
    """One line: where video-hw's cold open→first frame went (medians over the measured runs of
    `nvdec_bench`'s `startup` report), the rest being the first pictures' decode and copy-out."""
    runs = [r for r in cell["runs"].get("video-hw", []) if r.get("ok") and (r.get("raw") or {}).get("startup")]
    if not runs:
        return None
    parts, total = [], 0.0
    for key, label in STARTUP_STEPS:
        vals = []
        for r in runs:
            v = r["raw"]["startup"].get(key)
            vals.append(v.get("ms") if isinstance(v, dict) else v)
        m = median([v for v in vals if v is not None])
        if m is not None:
            parts.append("%s %.1f" % (label, m))
            total += m
    # decoder_caps used to include the context retain it triggered; now both are separate.
    ttff = median([r.get("ttff_ms") for r in runs])
    close = median([((r["raw"]["startup"].get("close") or {}).get("ms")) for r in runs])
    if ttff is not None:
        parts.append("the rest (first pictures decoded and copied out, our code) %.1f" % max(0.0, ttff - total))
    tail = "; closing the session after it: %.1f ms" % close if close is not None else ""
    return ("Where video-hw's cold open→first frame goes on %s (ms, medians of its measured runs; "
            "`diagnostics::nvdec_setup_times`): %s%s." % (cell["input"], ", ".join(parts), tail))


def setup_note(runs, streams):
    """Where a throughput cell's video-hw runs spent time before decoding, from nvdec_bench's
    start-up counters (medians): `cuInit` + context, the decoder creations (one at a time),
    the waits at the creation barrier; "" when the runs have no start-up report."""
    startups = [((r.get("raw") or {}).get("startup") or {}) for r in runs if r.get("ok")]

    def per_call(key):
        """Median calls over the runs (0 where a run has none) and median ms per call over
        the runs with calls, of one start-up counter."""
        c = [st.get(key) or {} for st in startups]
        return (median([x.get("calls") or 0 for x in c]),
                median([(x.get("ms") or 0.0) / x["calls"] for x in c if x.get("calls")]))
    init = median([st["cuda_init_ms"] + ((st.get("context") or {}).get("ms") or 0.0)
                   for st in startups if st.get("cuda_init_ms") is not None])
    created, create_ms = per_call("create_decoder")
    waited, wait_ms = per_call("creation_barrier")
    note = ""
    if init is not None and created:
        note += " Inside its time: `cuInit` + context %.0f ms, %s decoders created at %.1f ms each, one at a time." % (
            init, fmt(created, 0), create_ms)
    if waited:
        note += " %s stream starts of its %d sessions waited at the creation barrier, %.1f ms each (medians)." % (
            fmt(waited, 0), streams, wait_ms)
    return note


def closes_note(cell):
    """One line for a throughput cell: when video-hw's decoders were all destroyed. Its clock
    stops when the last session's drop returns; `cuvidDestroyDecoder` runs after that on the
    library's closer thread (nvdec_bench's `closes_done_s`, from the same clock start). Then
    the cell's setup_note."""
    runs = cell["runs"].get("video-hw", [])
    s = summarize_runs(runs)
    done = median([r.get("closes_done_s") for r in runs if r.get("ok")])
    if not done or s["wall_median"] is None:
        return None
    frames = s["frames"][0] if len(s["frames"]) == 1 else None
    return ("%s x%d: video-hw's clock stopped at %.3f s (median), when the last session's drop returned; its "
            "decoders, destroyed on the closer thread, were all gone at %.3f s (counting that, %s fps).%s%s" % (
                cell["input"], cell["streams"], s["wall_median"], done, fmt(frames / done, 0) if frames else "–",
                setup_note(runs, cell["streams"]), parked_cpu_note(runs)))


def parked_cpu_note(runs):
    """A sentence on video-hw's CPU without destroying the decoders its sessions parked for
    reuse (nvdec_bench's `cpu_ms_per_frame_before_parked_release`; the table's figure counts
    that destroy), or "" when the runs do not report it. ffmpeg's `-benchmark` window closes
    before its cleanup (its decoder and CUDA teardown), so its figure leaves that out."""
    ok = [r for r in runs if r.get("ok")]
    before = median([(r.get("raw") or {}).get("cpu_ms_per_frame_before_parked_release") for r in ok])
    counted = median([r.get("cpu_ms_per_frame") for r in ok])
    if before is None or counted is None:
        return ""
    return (" CPU %.3f ms a frame counting the destroy of the decoders its sessions parked (the table's figure), "
            "%.3f without it; ffmpeg's `-benchmark` window ends before its cleanup, which frees its decoder and "
            "CUDA device (~95 ms of CPU after the window: scripts/peers/ffmpeg_window.py)." % (counted, before))


def gpu_info(device):
    info = {}
    # One field per query: nvidia-smi refuses the whole query when one field is unknown to
    # this driver (clocks.max.video is missing on some), which lost the name and driver too.
    for key, field in (("name", "name"), ("driver", "driver_version"), ("memory_total", "memory.total"),
                       ("video_clock_max", "clocks.max.video"), ("pci", "pci.bus_id")):
        q = capture(["nvidia-smi", "--query-gpu=" + field, "--format=csv,noheader", "-i", str(device)])
        value = q.splitlines()[0].strip() if q else ""
        if value and "not supported" not in value.lower() and "[n/a]" not in value.lower():
            info[key] = value
    h = capture(["nvidia-smi"])
    if h:
        m = re.search(r"CUDA Version:\s*([\d.]+)", h)
        if m:
            info["cuda"] = m.group(1)
    if "video_clock_max" not in info:
        # Drivers without the clocks.max.video query field (580) still print it in -q.
        clocks = capture(["nvidia-smi", "-q", "-d", "CLOCK", "-i", str(device)])
        if clocks:
            info.update(max_video_clock(clocks))
    p = capture(["video-hw", "probe"]) if shutil.which("video-hw") else None
    if p:
        m = re.search(r"(\d+) NVDEC engine", p)
        if m:
            info["nvdec_engines"] = int(m.group(1))
    return info


def max_video_clock(smi_clock_text):
    """{"video_clock_max": "1860 MHz"} from `nvidia-smi -q -d CLOCK` (its "Max Clocks" section), or {}."""
    section = re.search(r"^\s*Max Clocks\s*\n((?:\s+\S.*\n?)+?)(?=^\s*\S[^:\n]*\n|\Z)", smi_clock_text, re.M)
    m = section and re.search(r"Video\s*:\s*(\d+\s*MHz)", section.group(1))
    return {"video_clock_max": m.group(1)} if m else {}


def engines_from_runs(cells):
    """The NVDEC engine count video-hw's own runs reported (their probe notes), or None."""
    for cell in cells:
        for r in cell.get("runs", {}).get("video-hw", []):
            for note in ((r.get("raw") or {}).get("nvdec") or {}).get("notes") or []:
                m = re.search(r"(\d+) NVDEC engine", note)
                if m:
                    return int(m.group(1))
    return None
