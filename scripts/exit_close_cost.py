"""Where a video_hw process's exit goes after it decoded on NVDEC: fresh children that
open VIDEO with device="cuda", read one frame (`first`), ten by get_frames_at (`pick`)
or all of them (`all`), time close() and video_hw.release_cached_decoders() (which
waits for the closer thread and destroys the parked decoders), print the time and
return; the parent times the rest of the exit. Medians of 5. The package comes from
PYVH (default /tmp/pyvh). bench/results/exit-cost-h200-20261129-d0e8f6f/.

    python3 scripts/exit_close_cost.py VIDEO
"""
import os, sys, time, statistics, subprocess, json
def child(kind):
    sys.path.insert(0, os.environ.get("PYVH", "/tmp/pyvh"))
    import video_hw
    d = video_hw.VideoDecoder(sys.argv[3], device="cuda", pixel_format="nv12")
    if kind == "all":
        for f in d: pass
    elif kind == "pick":
        d.get_frames_at(list(range(0, 100, 10)))
    elif kind == "first":
        d[0]
    t = time.perf_counter(); d.close(); c = time.perf_counter() - t
    t = time.perf_counter(); video_hw.release_cached_decoders(); r = time.perf_counter() - t
    print(json.dumps({"close": c, "release": r, "end": time.time()}), flush=True)
if sys.argv[1] == "child":
    child(sys.argv[2]); sys.exit(0)
for kind in ["first", "pick", "all"]:
    cs, rs, tails = [], [], []
    for _ in range(5):
        out = subprocess.run([sys.executable, __file__, "child", kind, sys.argv[1]], capture_output=True, text=True)
        end = time.time()
        r = json.loads(out.stdout.strip().splitlines()[-1])
        cs.append(r["close"]); rs.append(r["release"]); tails.append(end - r["end"])
    print("%-6s close %.3f s  release parked %.3f s  exit after %.3f s" % (kind, statistics.median(cs), statistics.median(rs), statistics.median(tails)), flush=True)
