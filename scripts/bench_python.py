#!/usr/bin/env python3
"""The Python package against PyNvVideoCodec on an NVIDIA GPU, the access patterns of ML data
loading, frames left in GPU memory, in the same run, interleaved.

    python3 scripts/bench_python.py --long LONG.mp4 --seq SEQ.mp4 --clips DIR [--runs 5]
        [--patterns uniform,clips,sequential,single] [--formats rgb,nv12] [--out DIR]
        [--contenders video_hw,pynvc,video_hw@2G,...] [--baseline DIR]

A contender ``video_hw@SIZE`` is video_hw with ``decode_many(max_gpu_memory=SIZE)`` (``@none``:
no budget): several of them give the curve of speed against the GPU memory budget. The
contender ``baseline`` is video_hw imported from ``--baseline DIR`` (an extracted wheel of
another build, first on the child's PYTHONPATH): a change against the build before it.

Patterns (one fresh process per contender, pattern, format and run), each contender its
own documented way:
  uniform     32 uniformly spaced frames of LONG in one call (video_hw get_frames_at;
              PyNvVideoCodec SimpleDecoder.get_batch_frames_by_index)
  clips       3 batches of 32 clips of 16 frames, stride 4 (61 frames end to end), each clip
              from a random file of DIR at a random start (a video model's sampler):
              video_hw decode_many per batch; PyNvVideoCodec as its cached-decoder benchmark,
              7 threads (one per NVDEC) each with a SimpleDecoder reconfigured per file
  sequential  every frame of SEQ in order (video_hw iteration, the GOPs ahead decoding on
              every engine; PyNvVideoCodec get_batch_frames(64) until it returns none)
  single      32 random frames of LONG, one call each (get_frame_at; decoder[i])
Formats: rgb (interleaved RGB, HWC) and nv12 (the decoder's own output).

Timing: whole-process wall time (time.perf_counter in this parent around the child's
launch and exit: Python start-up, imports, CUDA and decoder creation included) is the
figure of record. The child also reports the time to its first batch (from its start) and
each batch's time (clips: the batches after the first show the pace of a running data
loader), with the GPU synchronised (cuCtxSynchronize) after every call for both
contenders. CPU: the child's user + system time (getrusage), as cores busy (CPU seconds /
wall seconds). GPU memory: peak device memory in use during the child minus before it
(NVML, sampled every 5 ms); for video_hw also that peak less the batches it had handed out
at the time (`video_hw.gpu_memory()["delivered"]`, sampled with it in the child: what it
held for its own work, comparable to PyNvVideoCodec's, whose frames live in its decoders'
memory and are overwritten by the next call), and the library's own ledger (peak, by use).

Checked outside the timed runs: both contenders return the same frames for the uniform,
clips and single patterns (MD5 of the NV12 bytes) and the same number for sequential.

Prints a Markdown table (medians of the runs; ratio = PyNvVideoCodec's time / video_hw's,
above 1 means video_hw is faster) and writes it with the raw figures as JSON under --out.
"""
import argparse
import ctypes
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time

T0 = time.perf_counter()
HERE = os.path.abspath(__file__)
SEED = 20261122
# Threads for PyNvVideoCodec's clips: one per NVDEC engine of an H200, as NVIDIA's benchmark.
PYNVC_THREADS = 7
# Batches of 32 clips per process: the first pays for start-up, the others show the pace.
CLIP_BATCHES = 3


class Cuda:
    """cuCtxSynchronize and device-to-host copies in GPU 0's primary context (both libraries
    decode there)."""

    def __init__(self):
        self.lib = ctypes.CDLL("libcuda.so.1")
        self.lib.cuInit(0)
        dev = ctypes.c_int()
        self.lib.cuDeviceGet(ctypes.byref(dev), 0)
        self.ctx = ctypes.c_void_p()
        self.lib.cuDevicePrimaryCtxRetain(ctypes.byref(self.ctx), dev)

    def thread_setup(self):
        """Makes the primary context current on this thread and gives it a stream of its own
        (what PyNvVideoCodec's own threaded benchmarks do before creating decoders)."""
        self.lib.cuCtxPushCurrent_v2(self.ctx)
        stream = ctypes.c_void_p()
        rc = self.lib.cuStreamCreate(ctypes.byref(stream), 0)
        if rc:
            raise RuntimeError(f"cuStreamCreate: CUDA error {rc}")
        return stream.value

    def sync(self):
        self.lib.cuCtxPushCurrent_v2(self.ctx)
        rc = self.lib.cuCtxSynchronize()
        self.lib.cuCtxPopCurrent_v2(ctypes.byref(ctypes.c_void_p()))
        if rc:
            raise RuntimeError(f"cuCtxSynchronize: CUDA error {rc}")

    def md5(self, obj):
        """MD5 of a frame in GPU memory (rows packed): ``__cuda_array_interface__`` where the
        object has it, else its DLPack tensor (PyNvVideoCodec's frames)."""
        import hashlib

        ptr, shape, strides, item = layout(obj)
        row = item
        for n in shape[1:]:
            row *= n  # the inner dimensions are packed in both libraries' frames
        rows, pitch = shape[0], (strides[0] if strides else row)
        buf = ctypes.create_string_buffer(pitch * rows)
        self.lib.cuCtxPushCurrent_v2(self.ctx)
        rc = self.lib.cuMemcpyDtoH_v2(buf, ctypes.c_uint64(ptr), ctypes.c_size_t(pitch * (rows - 1) + row))
        self.lib.cuCtxPopCurrent_v2(ctypes.byref(ctypes.c_void_p()))
        if rc:
            raise RuntimeError(f"cuMemcpyDtoH: CUDA error {rc}")
        raw = buf.raw  # one copy out of ctypes (each .raw is a new bytes object)
        h = hashlib.md5()
        for r in range(rows):
            h.update(raw[r * pitch : r * pitch + row])
        return h.hexdigest()


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device_type", ctypes.c_int32),
        ("device_id", ctypes.c_int32),
        ("ndim", ctypes.c_int32),
        ("code", ctypes.c_uint8),
        ("bits", ctypes.c_uint8),
        ("lanes", ctypes.c_uint16),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


def layout(obj):
    """(device address, shape, byte strides or None, item size) of a GPU array."""
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is not None:
        return cai["data"][0], tuple(cai["shape"]), cai.get("strides"), int(cai["typestr"][2:])
    capsule = obj.__dlpack__(stream=1)  # 1: the legacy default stream (PyNvVideoCodec refuses none)
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    t = DLTensor.from_address(get(capsule, b"dltensor"))  # DLManagedTensor starts with it
    shape = tuple(t.shape[i] for i in range(t.ndim))
    item = t.bits // 8
    strides = tuple(t.strides[i] * item for i in range(t.ndim)) if t.strides else None
    return t.data + t.byte_offset, shape, strides, item


# ---- the child: one contender, one pattern, one format ----------------------------------


class VideoHw:
    name = "video_hw"
    hasher = None

    def __init__(self, fmt, budget=None):
        import video_hw

        self.vh = video_hw
        self.args = {"device": "cuda", "pixel_format": "rgb24" if fmt == "rgb" else "nv12", "dimension_order": "NHWC"}
        # decode_many's budget: None leaves the default; "none" is no budget (0).
        self.many_args = {} if budget is None else {"max_gpu_memory": 0 if budget == "none" else budget}

    def open(self, path):
        return self.vh.VideoDecoder(path, **self.args)

    def batch(self, dec, indices):
        b = dec.get_frames_at(indices)
        return _rows(b.data, len(b))

    def single(self, dec, i):
        return [dec.get_frame_at(i).data]

    def clips(self, jobs):
        """One batch of clips from many files: decode_many, the package's way for that."""
        batches = self.vh.decode_many([p for p, _ in jobs], [i for _, i in jobs], **self.args, **self.many_args)
        return [row for b in batches for row in _rows(b.data, len(b))]

    def sequential(self, dec, on_batch):
        n = 0
        for frame in dec:
            on_batch([frame.data])
            n += 1
        return n


class PyNvc:
    name = "pynvc"

    def __init__(self, fmt):
        import PyNvVideoCodec as nvc

        self.nvc = nvc
        self.cuda = Cuda()
        self.hasher = None
        self.local = threading.local()
        self.color = nvc.OutputColorType.RGB if fmt == "rgb" else nvc.OutputColorType.NATIVE

    def open(self, path):
        # The primary context and a stream of this thread's, passed as NVIDIA's benchmarks do.
        local = self.local
        if not hasattr(local, "stream"):
            local.stream = self.cuda.thread_setup()
        return self.nvc.SimpleDecoder(
            path,
            gpu_id=0,
            cuda_context=self.cuda.ctx.value,
            cuda_stream=local.stream,
            use_device_memory=True,
            output_color_type=self.color,
        )

    def batch(self, dec, indices):
        return dec.get_batch_frames_by_index(indices)

    def single(self, dec, i):
        return [dec[i]]

    def clips(self, jobs):
        """One batch of clips from many files, the way NVIDIA's cached-decoder benchmark
        does it: one thread per NVDEC engine, each with a decoder of its own reconfigured
        from file to file (kept from batch to batch)."""
        from concurrent.futures import ThreadPoolExecutor

        if not hasattr(self, "pool"):
            self.pool = ThreadPoolExecutor(max_workers=PYNVC_THREADS)

        def one(job):
            path, indices = job
            local = self.local
            if not hasattr(local, "dec"):
                local.dec = self.open(path)
            else:
                local.dec.reconfigure_decoder(path)
            frames = local.dec.get_batch_frames_by_index(indices)
            if self.hasher is not None:
                # The frames live in the decoder's memory until its next call: hash them now.
                self.hasher.sync()
                return [self.hasher.md5(f) for f in frames]
            return frames

        return [f for frames in self.pool.map(one, jobs) for f in frames]

    def sequential(self, dec, on_batch):
        n = 0
        while True:
            frames = dec.get_batch_frames(64)
            if not frames:
                return n
            on_batch(frames)
            n += len(frames)


class _Row:
    """Frame k of a video_hw batch, as a view (for hashing). A class of the module: one
    made inside ``_rows`` held the batch through its ``__init__``'s closure, and a class is
    freed only by the cycle collector, so each batch outlived its use (the GPU memory peak
    counted two batches)."""

    def __init__(self, array, k):
        self.owner = array  # the batch's memory lives while a view of it does
        cai = dict(array.__cuda_array_interface__)
        shape, strides = cai["shape"], cai["strides"]
        cai["shape"], cai["strides"] = shape[1:], strides[1:]
        cai["data"] = (cai["data"][0] + k * strides[0], False)
        self.__cuda_array_interface__ = cai


def _rows(array, n):
    """A video_hw batch as n per-frame views (for hashing), without copying."""
    return [_Row(array, k) for k in range(n)]


def child(a):
    import faulthandler

    # A child that hangs shows where (every thread's stack) before the parent gives up on it.
    faulthandler.dump_traceback_later(a.child_timeout - 10, exit=True)
    who, _, budget = a.child.partition("@")
    contender = VideoHw(a.format, budget or None) if who == "video_hw" else PyNvc(a.format)
    cuda = Cuda()
    # NVML used less the batches handed out, sampled together (video_hw; module docs).
    own = {"base": None, "peak": 0, "ledger": None}
    sampling = threading.Event()
    if who == "video_hw":
        nvml = Nvml()
        own["base"] = nvml.used()

        def sample():
            vh = contender.vh
            while not sampling.is_set():
                used = nvml.used()
                led = vh.gpu_memory(0)
                own["peak"] = max(own["peak"], used - led["delivered"])
                if own["ledger"] is None or led["in_use"] >= own["ledger"]["in_use"]:
                    own["ledger"] = led
                time.sleep(0.005)

        threading.Thread(target=sample, daemon=True).start()
    if a.md5:
        contender.hasher = cuda
    plan = json.loads(a.plan)
    first = None
    md5s = []
    frames = 0
    batch_s = []
    mark = [time.perf_counter()]

    def done(batch):
        nonlocal first, frames
        cuda.sync()
        now = time.perf_counter()
        if first is None:
            first = now - T0
        batch_s.append(now - mark[0])
        mark[0] = now
        frames += len(batch)
        if a.md5:
            md5s.extend(f if isinstance(f, str) else cuda.md5(f) for f in batch)
        mark[0] = time.perf_counter()  # hashing is not timed

    if a.pattern == "uniform":
        dec = contender.open(a.long)
        n = len(dec)
        step = n / 32
        done(contender.batch(dec, [int(step * k + step / 2) for k in range(32)]))
    elif a.pattern == "single":
        dec = contender.open(a.long)
        for i in plan["single"]:
            done(contender.single(dec, i))
    elif a.pattern == "clips":
        for batch in plan["clips"]:
            done(contender.clips(batch))
    elif a.pattern == "sequential":
        dec = contender.open(a.seq)
        contender.sequential(dec, done)
    total = sum(batch_s)
    sampling.set()
    extra = {}
    if own["base"] is not None:
        led = contender.vh.gpu_memory(0)
        extra = {
            "gpu_own_mib": (own["peak"] - own["base"]) / 2**20,
            "ledger_peak_mib": led["peak"] / 2**20,
            "ledger_peak_delivered_mib": led["peak_with_delivered"] / 2**20,
            "ledger_at_peak": own["ledger"],
            "waits": led["waits"],
            "waited_s": led["waited_seconds"],
        }
    print(json.dumps({"first_batch_s": first, "frames": frames, "md5": md5s, "batch_s": batch_s, "work_s": total, **extra}))


# ---- the parent ---------------------------------------------------------------------------


class Nvml:
    def __init__(self):
        self.lib = ctypes.CDLL("libnvidia-ml.so.1")
        self.lib.nvmlInit_v2()
        self.dev = ctypes.c_void_p()
        self.lib.nvmlDeviceGetHandleByIndex_v2(0, ctypes.byref(self.dev))

    def used(self):
        class Mem(ctypes.Structure):
            _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]

        m = Mem()
        self.lib.nvmlDeviceGetMemoryInfo(self.dev, ctypes.byref(m))
        return m.used


def measure(cmd, nvml, timeout, env=None):
    base = nvml.used()
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], nvml.used())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        stop.set()
        sampler.join()
        return {"error": f"no result in {timeout} s", "stderr": (e.stderr or b"")[-4000:].decode(errors="replace")}
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    sampler.join()
    if p.returncode:
        return {"error": f"exit status {p.returncode}", "stderr": p.stderr[-4000:]}
    out = json.loads(p.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out.update(wall_s=wall, cpu_s=cpu, gpu_mib=(peak[0] - base) / 2**20)
    return out


def make_plan(a):
    import video_hw

    rng = random.Random(SEED)
    clips = sorted(os.path.join(a.clips, f) for f in os.listdir(a.clips) if f.endswith(".mp4"))
    counts = {}
    batches = []
    for _ in range(CLIP_BATCHES):
        jobs = []
        for _ in range(32):
            path = rng.choice(clips)
            if path not in counts:
                counts[path] = len(video_hw.VideoDecoder(path))
            start = rng.randrange(0, counts[path] - 61)
            jobs.append([path, [start + 4 * k for k in range(16)]])
        batches.append(jobs)
    n_long = len(video_hw.VideoDecoder(a.long))
    return {"clips": batches, "single": [rng.randrange(n_long) for _ in range(32)], "files": len(clips)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--long")
    ap.add_argument("--seq")
    ap.add_argument("--clips")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--patterns", default="uniform,clips,sequential,single")
    ap.add_argument("--formats", default="rgb,nv12")
    ap.add_argument("--contenders", default="video_hw,pynvc")
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp"))
    ap.add_argument("--baseline", help="an extracted wheel of another build: the contender 'baseline'")
    ap.add_argument("--child-timeout", type=int, default=120, help="seconds a child may take")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--pattern", help=argparse.SUPPRESS)
    ap.add_argument("--format", help=argparse.SUPPRESS)
    ap.add_argument("--plan", help=argparse.SUPPRESS)
    ap.add_argument("--md5", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a)

    plan = make_plan(a)
    os.makedirs(a.out, exist_ok=True)
    nvml = Nvml()
    contenders = a.contenders.split(",")
    patterns = a.patterns.split(",")
    formats = a.formats.split(",")

    def cmd(who, pattern, fmt, md5=False):
        child = "video_hw" if who == "baseline" else who
        c = [sys.executable, HERE, "--child", child, "--pattern", pattern, "--format", fmt, "--plan", json.dumps(plan)]
        c += ["--long", a.long, "--seq", a.seq, "--clips", a.clips, "--child-timeout", str(a.child_timeout)]
        return c + (["--md5"] if md5 else [])

    def timed(c, who):
        env = None
        if who == "baseline":
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [a.baseline, os.environ.get("PYTHONPATH")])))
        r = measure(c, nvml, a.child_timeout, env)
        if "error" in r:
            print(f"FAILED {' '.join(c[3:8])}: {r['error']}\n{r['stderr']}", file=sys.stderr)
        return r

    checks = {}
    for pattern in patterns:
        got = {who: timed(cmd(who, pattern, "nv12", md5=pattern != "sequential"), who) for who in contenders}
        ref = got[contenders[0]]

        def verdict(g):
            if "error" in g or "error" in ref:
                return g.get("error") or "no reference"
            same = g["md5"] == ref["md5"] and g["frames"] == ref["frames"]
            return "same frames" if same else f"DIFFERENT ({g['frames']} frames)"

        checks[pattern] = {who: verdict(g) for who, g in got.items()}
        print(f"check {pattern}: {checks[pattern]} ({ref.get('frames')} frames)", file=sys.stderr)

    results = {}
    for run in range(a.runs + 1):  # the first run warms the page cache and the driver
        for pattern in patterns:
            for fmt in formats:
                order = contenders if run % 2 == 0 else contenders[::-1]
                for who in order:
                    r = timed(cmd(who, pattern, fmt), who)
                    with open(os.path.join(a.out, "bench-python-raw.jsonl"), "a") as raw:
                        raw.write(json.dumps({"run": run, "pattern": pattern, "format": fmt, "who": who, **r}) + "\n")
                    if "error" in r:
                        continue
                    if run:
                        results.setdefault(f"{pattern}/{fmt}", {}).setdefault(who, []).append(r)
                    print(f"run {run} {pattern} {fmt} {who}: {r['wall_s']:.3f} s", file=sys.stderr)

    def med(rs, k):
        return statistics.median(r[k] for r in rs)

    def opt(rs, k):
        vals = [r[k] for r in rs if k in r]
        return f"{statistics.median(vals):.0f}" if vals else "-"

    # The pace once running: clips, the median batch after the first; the other patterns,
    # opening the file to the last frame (process start-up, imports and CUDA excluded).
    def pace(pattern, r):
        return statistics.median(r["batch_s"][1:]) if pattern == "clips" else r["work_s"]

    lines = [
        "| pattern | format | frames | contender | wall s | vs video_hw | first batch s | pace s | vs video_hw | CPU cores | GPU MiB | less batches MiB | ledger peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, by in results.items():
        pattern, fmt = key.split("/")
        base = by.get(contenders[0])
        for who, rs in by.items():
            w = med(rs, "wall_s")
            p = statistics.median(pace(pattern, r) for r in rs)
            rw = f"{w / med(base, 'wall_s'):.2f}x" if base else "-"
            rp = f"{p / statistics.median(pace(pattern, r) for r in base):.2f}x" if base else "-"
            lines.append(
                f"| {pattern} | {fmt} | {rs[0]['frames']} | {who} | {w:.3f} | {rw} | {med(rs, 'first_batch_s'):.3f} | "
                f"{p:.3f} | {rp} | {med(rs, 'cpu_s') / w:.2f} | {med(rs, 'gpu_mib'):.0f} | "
                f"{opt(rs, 'gpu_own_mib')} | {opt(rs, 'ledger_peak_mib')} |"
            )
    table = "\n".join(lines)
    print(table)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "bench-python.json"), "w") as f:
        json.dump({"plan": plan, "checks": checks, "results": results, "table": table}, f, indent=1)


if __name__ == "__main__":
    main()
