#!/usr/bin/env python3
"""Write reference.json for the audio fixtures in DIR: for every file and every audio
stream N, ffprobe's facts (codec, sample rate, channels, channel layout) and ffmpeg's
decode of `-map 0:a:N -f f32le` (samples per channel, md5 of the bytes, the first 4
samples), with the ffmpeg version that made them. The f32le data itself is not kept.

usage: scripts/audio-reference.py DIR
"""

import hashlib
import json
import os
import struct
import subprocess
import sys


def ffprobe_streams(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-select_streams", "a", "-of", "json", path],
        capture_output=True, check=False, text=True,
    )
    return json.loads(out.stdout or "{}").get("streams", [])


def decode(path, n):
    """ffmpeg's f32le decode of audio stream n: bytes and whether ffmpeg reported errors."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", path, "-map", f"0:a:{n}", "-f", "f32le", "-"],
        capture_output=True, check=False,
    )
    return out.stdout, out.returncode, out.stderr.decode(errors="replace").strip()


def main():
    root = sys.argv[1]
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    files = {}
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        # fuzz/ holds the fuzzers' finds, not fixtures of ffmpeg's.
        if name in ("reference.json", "SHA256SUMS") or not os.path.isfile(path):
            continue
        streams = []
        for n, s in enumerate(ffprobe_streams(path)):
            data, rc, err = decode(path, n)
            channels = int(s.get("channels", 0))
            count = len(data) // 4
            first = [round(v, 7) for v in struct.unpack_from(f"<{min(4, count)}f", data)] if count else []
            streams.append({
                "stream": n,
                "index": int(s["index"]),
                "codec": s.get("codec_name"),
                "sample_rate": int(s.get("sample_rate", 0)),
                "channels": channels,
                "channel_layout": s.get("channel_layout", "unknown"),
                "start_time": s.get("start_time"),
                "samples": count // channels if channels else 0,
                "md5": hashlib.md5(data).hexdigest(),
                "first_samples": first,
                "decode_errors": bool(err) or rc != 0,
            })
        files[name] = {"audio": streams}
    with open(os.path.join(root, "reference.json"), "w") as f:
        json.dump({"ffmpeg": version, "files": files}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
