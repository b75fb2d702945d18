#!/usr/bin/env python3
"""PyNvVideoCodec peer for scripts/bench-random-access.sh: the frames at given presentation
indices of one file, the way PyNvVideoCodec documents random access: a SimpleDecoder on the
file (device memory output, NV12) and one get_batch_frames_by_index call.

    python3 scripts/peers/pynvc_random_access.py --input F --indices 0,480,960 [--md5]

Prints one JSON line: `open_s` (SimpleDecoder construction: demuxer, stream scan, decoder),
`decode_s` (the batch call, frames complete on the GPU), `frames`, and with --md5 the MD5
of each frame's NV12 bytes in the order returned (copied to the host through torch's DLPack
import, outside the timed part), to check that the frames are the ones asked for.
"""
import argparse
import hashlib
import json
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True)
    p.add_argument("--indices", required=True, help="comma-separated presentation indices")
    p.add_argument("--gpu", type=int, default=0)
    p.add_argument("--md5", action="store_true", help="hash the frames (NV12) after the timed part")
    a = p.parse_args()
    indices = [int(x) for x in a.indices.split(",") if x]

    import PyNvVideoCodec as nvc

    t0 = time.perf_counter()
    dec = nvc.SimpleDecoder(a.input, gpu_id=a.gpu, use_device_memory=True)
    t1 = time.perf_counter()
    frames = dec.get_batch_frames_by_index(indices)
    t2 = time.perf_counter()
    out = {"open_s": t1 - t0, "decode_s": t2 - t1, "frames": len(frames), "num_frames": len(dec)}
    if a.md5:
        import torch

        md5s = []
        for f in frames:
            t = torch.from_dlpack(f)
            torch.cuda.synchronize()
            md5s.append(hashlib.md5(t.contiguous().cpu().numpy().tobytes()).hexdigest())
        out["md5"] = md5s
    print(json.dumps(out))


if __name__ == "__main__":
    main()
