#!/usr/bin/env python3
"""The Python package against PyNvVideoCodec on an NVIDIA GPU, the access patterns of ML data
loading, frames left in GPU memory, in the same run, interleaved.

    python3 scripts/bench_python.py --long LONG.mp4 --seq SEQ.mp4 --clips DIR [--runs 5]
        [--patterns uniform,clips,clips4,sequential,single] [--formats rgb,nv12] [--out DIR]

Patterns (one fresh process per contender, pattern, format and run):
  uniform     32 uniformly spaced frames of LONG (one batch call)
  clips       32 clips of 16 frames, stride 4 (61 frames apart end to end), each from a random
              file of DIR at a random start: a video-language model's sampler; one decoder per
              file for video_hw, one SimpleDecoder reconfigured per file for PyNvVideoCodec
              (its cached-decoder way)
  clips4      the same 32 clips over 4 threads, each with its own decoder(s)
  sequential  every frame of SEQ in order (video_hw: iteration; PyNvVideoCodec:
              get_batch_frames(64) until it returns none)
  single      32 random frames of LONG, one call each
Formats: rgb (interleaved RGB, HWC) and nv12 (the decoder's own output).

Timing: whole-process wall time (time.perf_counter in this parent around the child's
launch and exit, Python start-up and imports included) is the figure of record; the
child also reports its time to the first batch (from its start), with the GPU
synchronised (cuCtxSynchronize) after every call for both contenders. CPU: the child's user +
system time (getrusage), shown as cores busy (CPU seconds / wall seconds). GPU memory: peak
device memory in use during the child minus before it (NVML, sampled every 5 ms).

Checked outside the timed runs: both contenders return the same frames for the uniform and
clips patterns (MD5 of the NV12 bytes) and the same number of frames for sequential.

Prints a Markdown table (median of the runs; ratio PyNvVideoCodec / video_hw, above 1 means
video_hw is faster) and writes it with the raw figures as JSON under --out.
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

    def __init__(self, fmt):
        import video_hw

        self.vh = video_hw
        self.args = {"device": "cuda", "pixel_format": "rgb24" if fmt == "rgb" else "nv12", "dimension_order": "NHWC"}

    def open(self, path):
        return self.vh.VideoDecoder(path, **self.args)

    def batch(self, dec, indices):
        b = dec.get_frames_at(indices)
        return _rows(b.data, len(b))

    def single(self, dec, i):
        return [dec.get_frame_at(i).data]

    def reopen(self, dec, path):
        return self.open(path)

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

    def reopen(self, dec, path):
        dec.reconfigure_decoder(path)
        return dec

    def sequential(self, dec, on_batch):
        n = 0
        while True:
            frames = dec.get_batch_frames(64)
            if not frames:
                return n
            on_batch(frames)
            n += len(frames)


def _rows(array, n):
    """A video_hw batch as n per-frame views (for hashing), without copying."""

    class One:
        def __init__(self, k):
            self.owner = array  # the batch's memory lives while a view of it does
            cai = dict(array.__cuda_array_interface__)
            shape, strides = cai["shape"], cai["strides"]
            cai["shape"], cai["strides"] = shape[1:], strides[1:]
            cai["data"] = (cai["data"][0] + k * strides[0], False)
            self.__cuda_array_interface__ = cai

    return [One(k) for k in range(n)]


def child(a):
    import faulthandler

    # A child that hangs shows where (every thread's stack) before the parent gives up on it.
    faulthandler.dump_traceback_later(a.child_timeout - 10, exit=True)
    contender = (VideoHw if a.child == "video_hw" else PyNvc)(a.format)
    cuda = Cuda()
    plan = json.loads(a.plan)
    first = None
    md5s = []
    frames = 0

    def done(batch):
        nonlocal first, frames
        cuda.sync()
        if first is None:
            first = time.perf_counter() - T0
        frames += len(batch)
        if a.md5:
            md5s.extend(cuda.md5(f) for f in batch)

    if a.pattern == "uniform":
        dec = contender.open(a.long)
        n = len(dec)
        step = n / 32
        done(contender.batch(dec, [int(step * k + step / 2) for k in range(32)]))
    elif a.pattern == "single":
        dec = contender.open(a.long)
        for i in plan["single"]:
            done(contender.single(dec, i))
    elif a.pattern in ("clips", "clips4"):
        jobs = plan["clips"]
        threads = 4 if a.pattern == "clips4" else 1
        lock = threading.Lock()

        def work(part):
            dec = None
            out = []
            for path, indices in part:
                dec = contender.open(path) if dec is None else contender.reopen(dec, path)
                got = contender.batch(dec, indices)
                with lock:
                    done(got)
                out.append(len(got))
            return out

        parts = [jobs[t::threads] for t in range(threads)]
        if threads == 1:
            work(parts[0])
        else:
            ts = [threading.Thread(target=work, args=(p,)) for p in parts]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
    elif a.pattern == "sequential":
        dec = contender.open(a.seq)
        contender.sequential(dec, done)
    print(json.dumps({"first_batch_s": first, "frames": frames, "md5": md5s}))


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


def measure(cmd, nvml, timeout):
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
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
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
    jobs = []
    for _ in range(32):
        path = rng.choice(clips)
        if path not in counts:
            counts[path] = len(video_hw.VideoDecoder(path))
        start = rng.randrange(0, counts[path] - 61)
        jobs.append([path, [start + 4 * k for k in range(16)]])
    n_long = len(video_hw.VideoDecoder(a.long))
    return {"clips": jobs, "single": [rng.randrange(n_long) for _ in range(32)], "files": len(clips)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--long")
    ap.add_argument("--seq")
    ap.add_argument("--clips")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--patterns", default="uniform,clips,clips4,sequential,single")
    ap.add_argument("--formats", default="rgb,nv12")
    ap.add_argument("--contenders", default="video_hw,pynvc")
    ap.add_argument("--out", default=os.environ.get("OUT", "/tmp"))
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
        c = [sys.executable, HERE, "--child", who, "--pattern", pattern, "--format", fmt, "--plan", json.dumps(plan)]
        c += ["--long", a.long, "--seq", a.seq, "--clips", a.clips, "--child-timeout", str(a.child_timeout)]
        return c + (["--md5"] if md5 else [])

    def timed(c):
        r = measure(c, nvml, a.child_timeout)
        if "error" in r:
            print(f"FAILED {' '.join(c[3:8])}: {r['error']}\n{r['stderr']}", file=sys.stderr)
        return r

    checks = {}
    for pattern in patterns:
        got = {who: timed(cmd(who, pattern, "nv12", md5=pattern != "sequential")) for who in contenders}
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
                    r = timed(cmd(who, pattern, fmt))
                    with open(os.path.join(a.out, "bench-python-raw.jsonl"), "a") as raw:
                        raw.write(json.dumps({"run": run, "pattern": pattern, "format": fmt, "who": who, **r}) + "\n")
                    if "error" in r:
                        continue
                    if run:
                        results.setdefault(f"{pattern}/{fmt}", {}).setdefault(who, []).append(r)
                    print(f"run {run} {pattern} {fmt} {who}: {r['wall_s']:.3f} s", file=sys.stderr)

    med = lambda rs, k: statistics.median(r[k] for r in rs)
    lines = [
        "| pattern | format | frames | contender | wall s (median) | first batch s | CPU cores | GPU MiB | vs video_hw |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, by in results.items():
        pattern, fmt = key.split("/")
        base = med(by[contenders[0]], "wall_s") if contenders[0] in by else None
        for who, rs in by.items():
            w = med(rs, "wall_s")
            ratio = f"{w / base:.2f}x" if base else "-"
            lines.append(
                f"| {pattern} | {fmt} | {rs[0]['frames']} | {who} | {w:.3f} | {med(rs, 'first_batch_s'):.3f} | "
                f"{med(rs, 'cpu_s') / w:.2f} | {med(rs, 'gpu_mib'):.0f} | {ratio} |"
            )
    table = "\n".join(lines)
    print(table)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "bench-python.json"), "w") as f:
        json.dump({"plan": plan, "checks": checks, "results": results, "table": table}, f, indent=1)


if __name__ == "__main__":
    main()
