#!/usr/bin/env python3
"""The Python package against torchcodec on the CPU, random access as ML data loading does
it, on the same files, in the same run, interleaved (issue #42).

    python3 scripts/bench_python_cpu.py --long LONG.mp4 --clips DIR [--runs 5]
        [--patterns uniform,single,clips] [--clip-count 8] [--threads N] [--cpus LIST]
        [--vhw-engine auto] [--tc-seek-mode exact] [--tc-clip-workers 1] [--out DIR]
    python3 scripts/bench_python_cpu.py --self-test     # tiny inputs made here, one run

LONG is the 10-minute 1080p H.264 MP4 and DIR the ten-second clips that
scripts/make-python-bench-inputs.sh makes. Both contenders run on the CPU, hand back RGB
uint8 as (N, 3, H, W) (video_hw pixel_format="rgb24", dimension_order="NCHW"; torchcodec's
default) and open files with seek_mode="exact".

Patterns (one fresh process per contender, pattern and run):
  uniform  32 uniformly spaced frames of LONG in one call (both: VideoDecoder.get_frames_at)
  single   32 random frames of LONG, one call each (both: VideoDecoder.get_frame_at)
  clips    --clip-count clips of 16 frames, stride 4 (61 frames end to end), each from a
           random file of DIR at a random start: video_hw decode_many (its call for many
           files, files on as many threads at once as the engine runs sessions);
           torchcodec a VideoDecoder per clip and get_frames_at, one after another (it
           has no call for many files; --tc-clip-workers N runs them on N threads)

Threads: by default each library does what it does by default. video_hw: the engine
"auto" picks (with no GPU, FFmpeg's H.264 decoder where FFmpeg's libraries are found, one
session frame-threaded by libavcodec over the cores; else OpenH264, one single-threaded
session per core), decode_many one worker per session the engine runs best. torchcodec:
num_ffmpeg_threads=1 (its default). The table's first line says what each used.
--threads N passes threads=N (and sessions=N, workers=N for decode_many) to video_hw and
num_ffmpeg_threads=N to torchcodec; --cpus 0 (a CPU list) pins every child to those cores
(video_hw counts the cores it is allowed).

Timing: whole-process wall time (time.perf_counter in this parent around the child's
launch and exit: Python start-up, imports and file opening included) is the figure of
record. The child also reports its import time and its work time (opening the file(s) to
the last frame). CPU: the child's user + system time as cores busy (CPU s / wall s);
memory: the child's peak RSS. Run 0 warms the page cache and is not counted; the order of
the contenders alternates from run to run; medians of --runs runs.

Checked outside the timed runs, in one process that runs both libraries: the frame counts
of LONG and of every clip file used, and for each pattern that both return the same frames
(same timestamps, and the luma torchcodec's RGB was made from matching video_hw's decoded
luma within SAME_FRAME_DB: the two RGB conversions may use different colour matrices, see
check_child); the RGB difference (max, mean, lowest PSNR) is reported too.

Prints a Markdown table (ratio = torchcodec's time / video_hw's; above 1 means video_hw is
faster) and writes it with the raw figures as JSON under --out.
"""
import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

T0 = time.perf_counter()
HERE = os.path.abspath(__file__)
SEED = 20261125
CONTENDERS = ("video_hw", "torchcodec")
CLIP_FRAMES, CLIP_STRIDE = 16, 4
SPAN = (CLIP_FRAMES - 1) * CLIP_STRIDE + 1  # 61 frames end to end
# Below this luma PSNR (dB) two libraries' pictures count as different frames: the same
# frame gave 41-47 dB (rounding and the clipping of the RGB conversions), neighbouring
# frames of the noisy test pattern (make-python-bench-inputs.sh) 27 dB.
SAME_FRAME_DB = 35.0


# ---- the contenders ------------------------------------------------------------------------


class VideoHw:
    name = "video_hw"

    def __init__(self, a):
        t = time.perf_counter()
        import video_hw

        self.import_s = time.perf_counter() - t
        self.vh = video_hw
        self.args = {"device": "cpu", "pixel_format": "rgb24", "dimension_order": "NCHW", "seek_mode": "exact"}
        if a.vhw_engine != "auto":
            self.args["engine"] = a.vhw_engine
        if a.threads:
            self.args.update(threads=a.threads, sessions=a.threads)
        self.workers = a.threads or None
        self.info = {"engine": a.vhw_engine, "threads": self.args.get("threads")}

    def open(self, path):
        return self.vh.VideoDecoder(path, **self.args)

    def describe(self, path):
        """The engine and sessions a decoder of ``path`` ends up with (known once it has
        decoded)."""
        dec = self.open(path)
        dec.get_frame_at(0)
        self.info.update(backend=dec.backend, sessions=dec.max_sessions)

    def count(self, dec):
        return len(dec)

    def batch(self, dec, indices):
        return dec.get_frames_at(indices)

    def single(self, dec, i):
        return dec.get_frame_at(i)

    def clips(self, jobs):
        return self.vh.decode_many([p for p, _ in jobs], [i for _, i in jobs], workers=self.workers, **self.args)

    @staticmethod
    def pixels(obj):
        import numpy as np

        return np.from_dlpack(obj.data)

    @staticmethod
    def pts(obj):
        p = obj.pts_seconds
        return list(p) if isinstance(p, (list, tuple)) else [p]


class TorchCodec:
    name = "torchcodec"

    def __init__(self, a):
        t = time.perf_counter()
        from torchcodec.decoders import VideoDecoder

        self.import_s = time.perf_counter() - t
        self.VideoDecoder = VideoDecoder
        self.args = {"device": "cpu", "seek_mode": a.tc_seek_mode}
        if a.threads:
            self.args["num_ffmpeg_threads"] = a.threads
        self.workers = a.tc_clip_workers
        import torchcodec
        from torchcodec._core import ops

        try:
            ffmpeg = ops.get_ffmpeg_library_versions().get("ffmpeg_version")
        except Exception:  # noqa: BLE001 - informational only
            ffmpeg = None
        self.info = {
            "version": torchcodec.__version__,
            "ffmpeg": ffmpeg,
            "num_ffmpeg_threads": self.args.get("num_ffmpeg_threads", 1),
            "seek_mode": a.tc_seek_mode,
        }

    def open(self, path):
        return self.VideoDecoder(path, **self.args)

    def count(self, dec):
        return dec.metadata.num_frames

    def batch(self, dec, indices):
        return dec.get_frames_at(indices)

    def single(self, dec, i):
        return dec.get_frame_at(i)

    def clips(self, jobs):
        def one(job):
            path, indices = job
            return self.open(path).get_frames_at(indices)

        if self.workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                return list(pool.map(one, jobs))
        return [one(j) for j in jobs]

    @staticmethod
    def pixels(obj):
        return obj.data.numpy()

    @staticmethod
    def pts(obj):
        p = obj.pts_seconds
        return [float(x) for x in p] if hasattr(p, "__len__") else [float(p)]


def contender(who, a):
    return (VideoHw if who == "video_hw" else TorchCodec)(a)


# ---- the children ---------------------------------------------------------------------------


def child(a):
    """One contender, one pattern: times the work, prints one JSON line."""
    import faulthandler

    faulthandler.dump_traceback_later(max(a.child_timeout - 10, 5), exit=True)
    c = contender(a.child, a)
    plan = json.load(open(a.plan))
    t = time.perf_counter()
    frames = 0
    if a.pattern == "uniform":
        dec = c.open(plan["long"])
        frames += len(c.batch(dec, plan["uniform"]).pts_seconds)
    elif a.pattern == "single":
        dec = c.open(plan["long"])
        for i in plan["single"]:
            c.single(dec, i)
            frames += 1
    elif a.pattern == "clips":
        frames += sum(len(b.pts_seconds) for b in c.clips(plan["clips"]))
    work = time.perf_counter() - t
    if a.child == "video_hw" and a.pattern in ("uniform", "single"):
        c.info.update(backend=dec.backend, sessions=dec.max_sessions)  # known once it has decoded
    print(json.dumps({"frames": frames, "import_s": c.import_s, "work_s": work, "info": c.info}))


def compare(x, y):
    """Max and mean absolute difference and PSNR (dB) of two uint8 frames."""
    import numpy as np

    d = np.abs(x.astype(np.int16) - y.astype(np.int16))
    mse = float(np.mean(d.astype(np.float64) ** 2))
    psnr = math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
    return int(d.max()), float(d.mean()), psnr


# Y'CbCr -> R'G'B' matrices (Kr, Kb) and ranges a library may have used for RGB.
MATRICES = {"BT.601": (0.299, 0.114), "BT.709": (0.2126, 0.0722)}
RANGES = {"limited": (16.0, 219.0), "full": (0.0, 255.0)}


def luma_of(rgb, matrix, rng):
    """The 8-bit luma plane an RGB frame (3, H, W) was made from, under a matrix and range."""
    import numpy as np

    kr, kb = MATRICES[matrix]
    off, scale = RANGES[rng]
    r, g, b = (rgb[c].astype(np.float32) for c in range(3))
    y = kr * r + (1 - kr - kb) * g + kb * b
    return np.clip(np.rint(off + y * (scale / 255.0)), 0, 255).astype(np.uint8)


def check_child(a):
    """Both libraries in one process, outside the timed runs: frame counts, and whether both
    return the same frames for each pattern. The two libraries' RGB may differ by more than
    rounding (each picks a colour matrix for a stream that does not say which: video_hw
    BT.709 from 720 lines up, FFmpeg's swscale BT.601), so the frames count as the same when
    their timestamps are equal and the luma that torchcodec's RGB was made from (under the
    best-fitting of BT.601/BT.709, limited/full range) matches video_hw's decoded luma
    (pixel_format="yuv420p": no colour conversion) within SAME_FRAME_DB. The RGB difference
    is reported as well."""
    plan = json.load(open(a.plan))
    v, t = VideoHw(a), TorchCodec(a)
    vy = VideoHw(a)
    vy.args["pixel_format"] = "yuv420p"
    files = [plan["long"]] + sorted({p for p, _ in plan["clips"]})
    counts = {}
    for f in files:
        counts[f] = {"video_hw": v.count(v.open(f)), "torchcodec": t.count(t.open(f))}
    out = {"counts": counts, "patterns": {}}

    def judge(triples):
        # triples: (video_hw RGB, video_hw YUV, torchcodec RGB), batches or single frames
        res = {"frames": [0, 0], "pts_mismatch": 0, "max_abs": 0, "mean_abs": None, "min_psnr": math.inf}
        res.update(luma_min_psnr=math.inf, luma_max_abs=0, tc_matrix={}, vhw_matrix={}, different=0)
        means = []
        for vo, yo, to in triples:
            vp, tp = v.pts(vo), t.pts(to)
            vx, yx, tx = v.pixels(vo), vy.pixels(yo), t.pixels(to)
            if vx.ndim == 3:
                vx, yx, tx = vx[None], yx[None], tx[None]
            res["frames"][0] += len(vp)
            res["frames"][1] += len(tp)
            if vx.shape != tx.shape:
                res["shape"] = [list(vx.shape), list(tx.shape)]
                res["different"] += max(len(vp), len(tp))
                continue
            h = vx.shape[2]
            for k in range(vx.shape[0]):
                bad = abs(vp[k] - tp[k]) > 1e-3
                res["pts_mismatch"] += bad
                mx, mean, psnr = compare(vx[k], tx[k])
                res["max_abs"] = max(res["max_abs"], mx)
                means.append(mean)
                res["min_psnr"] = min(res["min_psnr"], psnr)
                y = yx[k][:h]
                fits = {}
                for who, rgb in (("tc", tx[k]), ("vhw", vx[k])):
                    best = max(
                        ((m, r) for m in MATRICES for r in RANGES), key=lambda mr: compare(luma_of(rgb, *mr), y)[2]
                    )
                    fits[who] = (best, compare(luma_of(rgb, *best), y))
                    name = f"{best[0]} {best[1]}"
                    res[f"{who}_matrix"][name] = res[f"{who}_matrix"].get(name, 0) + 1
                lmx, _, lpsnr = fits["tc"][1]
                res["luma_max_abs"] = max(res["luma_max_abs"], lmx)
                res["luma_min_psnr"] = min(res["luma_min_psnr"], lpsnr)
                if bad or lpsnr < SAME_FRAME_DB:
                    res["different"] += 1
        res["mean_abs"] = statistics.mean(means) if means else None
        for k in ("min_psnr", "luma_min_psnr"):
            if res[k] == math.inf:
                res[k] = "inf"
        same = res["different"] == 0 and res["frames"][0] == res["frames"][1]
        res["verdict"] = "same frames" if same else "DIFFERENT"
        return res

    long_ = plan["long"]
    for pattern in a.patterns.split(","):
        if pattern == "uniform":
            idx = plan["uniform"]
            triples = [(v.batch(v.open(long_), idx), vy.batch(vy.open(long_), idx), t.batch(t.open(long_), idx))]
        elif pattern == "single":
            vd, yd, td = v.open(long_), vy.open(long_), t.open(long_)
            triples = ((v.single(vd, i), vy.single(yd, i), t.single(td, i)) for i in plan["single"])
        elif pattern == "clips":
            vb, yb = v.clips(plan["clips"]), vy.clips(plan["clips"])
            triples = ((vb[k], yb[k], t.batch(t.open(p), idx)) for k, (p, idx) in enumerate(plan["clips"]))
        out["patterns"][pattern] = judge(triples)
    v.describe(long_)
    out["info"] = {"video_hw": v.info, "torchcodec": t.info}
    print(json.dumps(out))


# ---- the parent ----------------------------------------------------------------------------


def launch(cmd, timeout, cpus):
    """Runs a child; its wall time (parent's perf_counter around launch and exit), CPU time
    and peak RSS (wait4), and its last stdout line as JSON."""
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    pre = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, preexec_fn=pre)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    killer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read(), err.read()
    if p.returncode:
        return {"error": f"exit status {p.returncode}" + (" (timed out)" if wall >= timeout else ""), "stderr": stderr[-4000:]}
    r = json.loads(stdout.strip().splitlines()[-1])
    r.update(wall_s=wall, cpu_s=ru.ru_utime + ru.ru_stime, rss_mib=ru.ru_maxrss / 1024)
    return r


def make_plan(a):
    import video_hw

    rng = random.Random(SEED)
    n_long = len(video_hw.VideoDecoder(a.long, device="cpu"))
    step = n_long / a.frames
    plan = {
        "long": os.path.abspath(a.long),
        "long_frames": n_long,
        "uniform": [int(step * k + step / 2) for k in range(a.frames)],
        "single": [rng.randrange(n_long) for _ in range(a.frames)],
        "clips": [],
    }
    if "clips" in a.patterns.split(","):
        files = sorted(os.path.join(a.clips, f) for f in os.listdir(a.clips) if f.endswith(".mp4"))
        counts = {}
        for _ in range(a.clip_count):
            path = rng.choice(files)
            if path not in counts:
                counts[path] = len(video_hw.VideoDecoder(path, device="cpu"))
            start = rng.randrange(0, counts[path] - SPAN + 1)
            plan["clips"].append([os.path.abspath(path), [start + CLIP_STRIDE * k for k in range(CLIP_FRAMES)]])
        plan["clip_files"] = len(files)
    return plan


def db(x):
    return x if isinstance(x, str) else f"{x:.1f}"


def fmt_threads(who, info):
    if who == "video_hw":
        t = info.get("threads")
        return f"{info.get('backend')}, {info.get('sessions')} session(s), threads={t or 'default'}"
    return f"FFmpeg {info.get('ffmpeg')}, num_ffmpeg_threads={info.get('num_ffmpeg_threads')}"


def bench(a):
    os.makedirs(a.out, exist_ok=True)
    cpus = {int(c) for c in a.cpus.split(",")} if a.cpus else None
    plan = make_plan(a)
    plan_path = os.path.join(a.out, "bench-python-cpu-plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    patterns = a.patterns.split(",")
    common = ["--plan", plan_path, "--child-timeout", str(a.child_timeout), "--tc-seek-mode", a.tc_seek_mode]
    common += ["--vhw-engine", a.vhw_engine, "--tc-clip-workers", str(a.tc_clip_workers), "--patterns", a.patterns]
    common += ["--threads", str(a.threads)] if a.threads else []

    def cmd(*extra):
        return [sys.executable, HERE, *extra, *common]

    failed = 0
    checks = {}
    if not a.no_check:
        r = launch(cmd("--check"), a.child_timeout * 3, cpus)
        if "error" in r:
            print(f"FAILED check: {r['error']}\n{r['stderr']}", file=sys.stderr)
            failed += 1
        else:
            checks = r
            for f, c in r["counts"].items():
                flag = "" if c["video_hw"] == c["torchcodec"] else "  <-- DIFFERENT"
                print(f"count {os.path.basename(f)}: video_hw {c['video_hw']}, torchcodec {c['torchcodec']}{flag}", file=sys.stderr)
            for p, c in r["patterns"].items():
                print(
                    f"check {p}: {c['verdict']} (frames {c['frames'][0]}/{c['frames'][1]}, timestamps differing "
                    f"{c['pts_mismatch']}; RGB: max |diff| {c['max_abs']}, mean |diff| {c['mean_abs']:.3f}, "
                    f"min PSNR {db(c['min_psnr'])} dB; torchcodec's luma against video_hw's decoded luma: "
                    f"max |diff| {c['luma_max_abs']}, min PSNR {db(c['luma_min_psnr'])} dB; RGB made with: "
                    f"torchcodec {c['tc_matrix']}, video_hw {c['vhw_matrix']})",
                    file=sys.stderr,
                )
                failed += c["verdict"] != "same frames"

    if a.check_only:
        return 1 if failed else 0
    results, infos = {}, dict(checks.get("info", {}))
    raw_path = os.path.join(a.out, "bench-python-cpu-raw.jsonl")
    for run in range(a.runs + 1):  # run 0 warms the page cache
        for pattern in patterns:
            order = CONTENDERS if run % 2 == 0 else CONTENDERS[::-1]
            for who in order:
                r = launch(cmd("--child", who, "--pattern", pattern), a.child_timeout, cpus)
                with open(raw_path, "a") as raw:
                    raw.write(json.dumps({"run": run, "pattern": pattern, "who": who, **r}) + "\n")
                if "error" in r:
                    print(f"FAILED run {run} {pattern} {who}: {r['error']}\n{r['stderr']}", file=sys.stderr)
                    failed += 1
                    continue
                if who not in infos or (who == "video_hw" and not infos[who].get("backend")):
                    infos[who] = r["info"]
                if run:
                    results.setdefault(pattern, {}).setdefault(who, []).append(r)
                print(
                    f"run {run}{' (warm-up)' if run == 0 else ''} {pattern} {who}: wall {r['wall_s']:.3f} s, "
                    f"work {r['work_s']:.3f} s, {r['frames']} frames",
                    file=sys.stderr,
                )

    def med(rs, k):
        return statistics.median(r[k] for r in rs)

    lines = [
        f"video_hw: {fmt_threads('video_hw', infos.get('video_hw', {}))}; "
        f"torchcodec {infos.get('torchcodec', {}).get('version')}: {fmt_threads('torchcodec', infos.get('torchcodec', {}))}; "
        f"{os.cpu_count()} CPUs{', pinned to ' + a.cpus if a.cpus else ''}; medians of {a.runs} run(s)",
        "",
        "| pattern | frames | video_hw wall s | torchcodec wall s | ratio (wall) | video_hw work s | torchcodec work s "
        "| ratio (work) | import s (vhw / tc) | CPU cores (vhw / tc) | peak RSS MiB (vhw / tc) | frames check |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for pattern, by in results.items():
        v, t = by.get("video_hw"), by.get("torchcodec")
        if not v or not t:
            continue
        vw, tw, vk, tk = med(v, "wall_s"), med(t, "wall_s"), med(v, "work_s"), med(t, "work_s")
        check = checks.get("patterns", {}).get(pattern, {})
        verdict = check.get("verdict", "not checked")
        if check:
            verdict += (
                f" (RGB max diff {check['max_abs']}, min PSNR {db(check['min_psnr'])} dB; "
                f"luma min PSNR {db(check['luma_min_psnr'])} dB)"
            )
        lines.append(
            f"| {pattern} | {v[0]['frames']} | {vw:.3f} | {tw:.3f} | {tw / vw:.2f}x | {vk:.3f} | {tk:.3f} | {tk / vk:.2f}x "
            f"| {med(v, 'import_s'):.2f} / {med(t, 'import_s'):.2f} "
            f"| {med(v, 'cpu_s') / vw:.2f} / {med(t, 'cpu_s') / tw:.2f} "
            f"| {med(v, 'rss_mib'):.0f} / {med(t, 'rss_mib'):.0f} | {verdict} |"
        )
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(a.out, "bench-python-cpu.json"), "w") as f:
        json.dump({"plan": plan, "checks": checks, "infos": infos, "results": results, "table": table, "args": vars(a)}, f, indent=1)
    return 1 if failed else 0


def self_test(a):
    """Tiny inputs (320x240, 30 fps, x264 with B-frames, a key frame every 2 s) made with
    ffmpeg in a temporary folder, every pattern once, the check included."""
    work = tempfile.mkdtemp(prefix="bench-python-cpu-")
    try:
        long_ = os.path.join(work, "long.mp4")
        clips = os.path.join(work, "clips")
        os.makedirs(clips)
        enc = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-pix_fmt", "yuv420p"]
        enc += ["-x264-params", "keyint=60:scenecut=0", "-movflags", "+faststart"]
        src = "testsrc2=size=320x240:rate=30,noise=alls=16:allf=t+u:all_seed=7"
        ff = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi"]
        subprocess.run(ff + ["-i", src, "-t", "12", *enc, long_], check=True)
        for k in range(3):
            subprocess.run(ff + ["-i", src, "-ss", str(2 * k), "-t", "4", *enc, os.path.join(clips, f"c{k}.mp4")], check=True)
        a.long, a.clips, a.runs, a.clip_count = long_, clips, 1, 4
        a.out = os.path.join(work, "out")
        rc = bench(a)
        print(f"self-test: {'FAILED' if rc else 'passed'}", file=sys.stderr)
        return rc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", help="the 10-minute 1080p H.264 MP4")
    ap.add_argument("--clips", help="folder of short MP4 clips (the clips pattern)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per contender and pattern (after one warm-up)")
    ap.add_argument("--patterns", default="uniform,single,clips")
    ap.add_argument("--frames", type=int, default=32, help="frames of the uniform and single patterns")
    ap.add_argument("--clip-count", type=int, default=8, help="clips of 16 frames, stride 4")
    ap.add_argument("--threads", type=int, default=0, help="set both libraries' decode threads (0: each its default)")
    ap.add_argument("--cpus", default="", help="pin every child to these CPUs (e.g. 0 or 0,1)")
    ap.add_argument("--vhw-engine", default="auto", help="video_hw engine (auto, openh264, ffmpeg)")
    ap.add_argument("--tc-seek-mode", default="exact", choices=["exact", "approximate"])
    ap.add_argument("--tc-clip-workers", type=int, default=1, help="torchcodec threads for the clips pattern")
    ap.add_argument("--no-check", action="store_true", help="skip the frame check")
    ap.add_argument("--check-only", action="store_true", help="the frame check alone, no timed runs")
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp/bench-python-cpu"))
    ap.add_argument("--child-timeout", type=int, default=300, help="seconds a child may take")
    ap.add_argument("--self-test", action="store_true", help="tiny inputs made here, every pattern once")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pattern", help=argparse.SUPPRESS)
    ap.add_argument("--plan", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a)
    if a.check:
        return check_child(a)
    if a.self_test:
        return self_test(a)
    if not a.long or ("clips" in a.patterns.split(",") and not a.clips):
        ap.error("--long (and --clips for the clips pattern) are needed, or --self-test")
    return bench(a)


if __name__ == "__main__":
    sys.exit(main())
