"""What a process's exit costs with the CUDA driver in it: for each setup, fresh child
processes (REPS, default 5) that set it up, print the time, and end by returning from
Python (`return`) or by `os._exit`; the parent takes the wall time from that print to
the child's end, and the whole process. Medians. Needs an NVIDIA driver (libcuda).

    python3 scripts/exit_cost.py VIDEO            # every setup
    MODES=video_hw PYVH=DIR REPS=7 python3 scripts/exit_cost.py VIDEO

Setups: python (no CUDA), init (cuInit), ctx (the primary context and 1 MiB), ctx-4g
(4 GiB of device memory), pinned-512m (512 MiB of page-locked host memory), video_hw (the
package from PYVH, default /tmp/pyvh, decoding 10 frames of VIDEO with device="cuda").
"""
import ctypes, json, os, statistics, subprocess, sys, time

def child(mode, how):
    t0 = time.perf_counter()
    if mode != "python":
        cu = ctypes.CDLL("libcuda.so.1")
        assert cu.cuInit(0) == 0
        if mode != "init":
            dev = ctypes.c_int(); ctx = ctypes.c_void_p()
            assert cu.cuDeviceGet(ctypes.byref(dev), 0) == 0
            assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), dev) == 0
            assert cu.cuCtxSetCurrent(ctx) == 0
            p = ctypes.c_uint64()
            size = {"ctx": 1 << 20, "ctx-4g": 4 << 30}.get(mode, 1 << 20)
            assert cu.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(size)) == 0
            if mode == "pinned-512m":
                h = ctypes.c_void_p()
                assert cu.cuMemHostAlloc(ctypes.byref(h), ctypes.c_size_t(512 << 20), 0) == 0
            if mode == "video_hw":
                sys.path.insert(0, os.environ.get("PYVH", "/tmp/pyvh"))
                import video_hw
                d = video_hw.VideoDecoder(sys.argv[4], device="cuda", pixel_format="nv12")
                d.get_frames_at(list(range(0, 100, 10)))
    print(json.dumps({"setup": time.perf_counter() - t0, "end": time.time()}), flush=True)
    if how == "_exit":
        os._exit(0)

if len(sys.argv) > 1 and sys.argv[1] == "child":
    child(sys.argv[2], sys.argv[3]); sys.exit(0)

video = sys.argv[1]
rows = []
for mode in os.environ.get("MODES", "python,init,ctx,ctx-4g,pinned-512m,video_hw").split(","):
    for how in ["return", "_exit"]:
        setups, tails, walls = [], [], []
        for _ in range(int(os.environ.get("REPS", "5"))):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "child", mode, how, video], capture_output=True, text=True)
            end = time.time(); wall = time.perf_counter() - t
            r = json.loads(out.stdout.strip().splitlines()[-1])
            setups.append(r["setup"]); tails.append(end - r["end"]); walls.append(wall)
        row = (mode, how, statistics.median(setups), statistics.median(tails), statistics.median(walls))
        rows.append(row)
        print("%-12s %-7s setup %.3f s  after last statement %.3f s  whole process %.3f s" % row, flush=True)
