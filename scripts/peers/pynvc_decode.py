#!/usr/bin/env python3
"""PyNvVideoCodec peer for scripts/bench-nvdec.sh: decode one Annex-B H.264/HEVC file in N
threads of one process (one demuxer + decoder each, frames left in device memory), and
print one JSON line with the same fields nvdec_bench reports.

    python3 scripts/peers/pynvc_decode.py --input F [--streams N] [--passes K] [--gpu 0]
                                          [--max-frames M] [--host] [--warm]

Uses PyNvVideoCodec's documented core API (the same calls as its samples/advanced/
decode_perf.py): nvc.CreateDemuxer(filename=...), nvc.CreateDecoder(gpuid=..., codec=
demuxer.GetNvCodecId(), usedevicememory=True), decoder.Decode(packet) -> list of frames.

Timing, as nvdec_bench's: all threads start together; the run's clock covers creating the
demuxers and decoders (CUDA context included), every pass, the end-of-stream flush and
tearing the decoders down. Passes: a new file demuxer per pass feeding the same decoder,
the end-of-stream (empty) packet only after the last pass, so K passes are one continuous
stream like `nvdec_bench --repeat-input K`. Time to first frame: from just before
CreateDecoder to the first frame Decode returns (the demuxer is created before it).
CPU: getrusage(RUSAGE_SELF) over the run. Needs only the standard library and the wheel.

--warm: before the clock, one decoder decodes the input's first frame and stays alive (idle)
until the run is over, so CUDA, the context and the libraries are up when the timed sessions
start: what a long-running service's later sessions see (nvdec_bench --warm's counterpart;
this warm-up is the more generous one, as it also decoded a frame).
"""
import argparse
import json
import os
import resource
import sys
import threading
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--passes", type=int, default=1)
    p.add_argument("--gpu", type=int, default=0)
    p.add_argument("--max-frames", type=int, default=0, help="stop each session after this many frames (0: all)")
    p.add_argument("--host", action="store_true", help="host memory output instead of device memory")
    p.add_argument("--warm", action="store_true", help="decode one frame before the clock and keep that decoder")
    a = p.parse_args(argv)
    if a.streams < 1 or a.passes < 1:
        p.error("--streams and --passes must be >= 1")
    return a


def median(v):
    s = sorted(x for x in v if x is not None)
    if not s:
        return None
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def session(nvc, a, start, out, idx):
    r = {"frames": 0, "ttff_ms": None, "open_ms": None, "error": None, "wall_s": None}
    start.wait()
    t0 = time.perf_counter()
    dec = None
    try:
        done = False
        for p in range(a.passes):
            dmx = nvc.CreateDemuxer(filename=a.input)
            if dec is None:
                t_open = time.perf_counter()
                dec = nvc.CreateDecoder(gpuid=a.gpu, codec=dmx.GetNvCodecId(), usedevicememory=not a.host)
                r["open_ms"] = (time.perf_counter() - t_open) * 1e3
            last = p == a.passes - 1
            while True:
                pkt = dmx.Demux()
                eos = pkt.bsl == 0
                if eos and not last:
                    break  # next pass continues the same stream
                for _frame in dec.Decode(pkt):
                    r["frames"] += 1
                    if r["ttff_ms"] is None:
                        r["ttff_ms"] = (time.perf_counter() - t_open) * 1e3
                    if a.max_frames and r["frames"] >= a.max_frames:
                        done = True
                        break
                if done or eos:
                    break
            del dmx
            if done:
                break
    except Exception as e:  # reported, not raised: the harness shows the run as failed
        r["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        dec = None
    r["wall_s"] = time.perf_counter() - t0
    out[idx] = r


def warm_up(nvc, a):
    """Decodes the input's first frame outside the clock; returns the decoder (kept alive
    by the caller so the CUDA context it holds stays up) or raises."""
    dmx = nvc.CreateDemuxer(filename=a.input)
    dec = nvc.CreateDecoder(gpuid=a.gpu, codec=dmx.GetNvCodecId(), usedevicememory=not a.host)
    while True:
        pkt = dmx.Demux()
        if any(True for _ in dec.Decode(pkt)) or pkt.bsl == 0:
            return dec


def main(argv=None):
    a = parse_args(argv)
    t_import = time.perf_counter()
    try:
        import PyNvVideoCodec as nvc
    except Exception as e:
        print(json.dumps({"tool": "PyNvVideoCodec", "ok": False, "errors": ["import PyNvVideoCodec: %s" % e]}))
        return 1
    import_s = time.perf_counter() - t_import
    warm = None
    if a.warm:
        try:
            warm = warm_up(nvc, a)
        except Exception as e:
            print(json.dumps({"tool": "PyNvVideoCodec", "ok": False, "errors": ["warm-up: %s: %s" % (type(e).__name__, e)]}))
            return 1
    out = [None] * a.streams
    start = threading.Barrier(a.streams + 1)
    threads = [threading.Thread(target=session, args=(nvc, a, start, out, i), daemon=True) for i in range(a.streams)]
    for t in threads:
        t.start()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    del warm  # the warm-up decoder goes after the clock
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    frames = sum(r["frames"] for r in out)
    errors = ["session %d: %s" % (i, r["error"]) for i, r in enumerate(out) if r["error"]]
    report = {
        "tool": "PyNvVideoCodec",
        "version": getattr(nvc, "__version__", None),
        "input": a.input,
        "streams": a.streams,
        "passes": a.passes,
        "warm": a.warm,
        "output": "host" if a.host else "cuda",
        "frames_total": frames,
        "frames_per_session": [r["frames"] for r in out],
        "wall_s": round(wall, 4),
        "fps": round(frames / wall, 3) if wall > 0 else 0.0,
        "session_fps": [round(r["frames"] / r["wall_s"], 3) if r["wall_s"] else 0.0 for r in out],
        "ttff_ms_median": median([r["ttff_ms"] for r in out]),
        "open_ms_median": median([r["open_ms"] for r in out]),
        "cpu_s": round(cpu, 4),
        "cpu_ms_per_frame": round(cpu * 1e3 / frames, 4) if frames else None,
        "max_rss_kib": ru1.ru_maxrss,
        "import_s": round(import_s, 4),
        "errors": errors,
        "ok": not errors,
    }
    print(json.dumps(report))
    sys.stdout.flush()
    # Decoder teardown already happened in the threads; skip interpreter finalisation
    # surprises in the extension module.
    os._exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    sys.exit(main())
