#!/usr/bin/env bash
# An AVI past 1 GiB, as ffmpeg's muxer writes it (OpenDML: a `RIFF AVIX` list after the first
# RIFF, `indx` super indexes and `ix##` standard indexes), read through the library: every frame
# and the frame count against ffmpeg's framemd5 (the CLI), then random access from Python.
# Too large for a fixture or CI (1.8 GB, a minute to make): run by hand; docs/media.md says
# when it last passed.
#
#   scripts/check-avi-opendml-large.sh [--bin target/release/video-hw] [--dir /tmp/opendml-large]
#
# Needs ffmpeg, the CLI, and a Python whose `video_hw` imports (the wheel of the same commit).
set -euo pipefail
BIN=target/release/video-hw
DIR=${TMPDIR:-/tmp}/opendml-large
while (($#)); do
    case $1 in
        --bin) BIN=$2; shift 2 ;;
        --dir) DIR=$2; shift 2 ;;
        *) echo "usage: $0 [--bin CLI] [--dir DIR]" >&2; exit 2 ;;
    esac
done
BIN=$(realpath "$BIN")
mkdir -p "$DIR"
cd "$DIR"
# 60 s of 1080p MJPEG from noisy frames (about 1.2 MB each) and 16-bit stereo PCM: 1.8 GB.
if [[ ! -s big.avi ]]; then
    ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=1920x1080:rate=25,noise=alls=40:allf=t+u" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 60 -c:v mjpeg -q:v 2 -pix_fmt yuvj420p \
        -c:a pcm_s16le -ac 2 big.avi
fi
python3 - <<'EOF'
import os, struct
size = os.path.getsize("big.avi")
with open("big.avi", "rb") as f:
    head = f.read(1 << 16)
    assert b"indx" in head, "no OpenDML super index"
    riff, at = [], 0
    while at + 12 <= size:
        f.seek(at)
        h = f.read(12)
        n = struct.unpack("<I", h[4:8])[0]
        riff.append(h[8:12].decode())
        at += 8 + n + (n & 1)
print(f"big.avi: {size} bytes, RIFF lists {riff}")
assert size > 1 << 30 and riff[0] == "AVI " and "AVIX" in riff[1:], "not an OpenDML file past 1 GiB"
EOF
# The packets come from the OpenDML indexes, not a walk (the demuxer logs at debug where it
# passes over them).
if "$BIN" --log-level debug info big.avi 2>&1 | grep -q "OpenDML index is not used"; then
    echo "FAIL: the OpenDML index was passed over"; exit 1
fi
# The decoded samples as they are (MJPEG is full-range yuvj420p: the scale keeps the range, as
# the fixtures' references do, where a plain -pix_fmt yuv420p would squeeze it).
ffmpeg -nostdin -hide_banner -loglevel error -y -i big.avi -map 0:v:0 -fps_mode passthrough \
    -vf scale=in_range=full:out_range=full,format=yuv420p -f framemd5 ffmpeg.framemd5
"$BIN" -q decode big.avi --pix-fmt yuv420p --framemd5 -o ours.framemd5
frames() { grep -v '^#' "$1" | awk -F', *' '{ print $5, $6 }'; }
diff <(frames ffmpeg.framemd5) <(frames ours.framemd5) > /dev/null || { echo "FAIL: the CLI's frames differ from ffmpeg's"; exit 1; }
echo "CLI: $(frames ours.framemd5 | wc -l) frames, each equal to ffmpeg's ($(frames ffmpeg.framemd5 | wc -l))"
python3 - <<'EOF'
import hashlib, random, time
import video_hw
ref = [l.split(",")[-1].strip() for l in open("ffmpeg.framemd5") if not l.startswith("#")]
t = time.perf_counter()
d = video_hw.VideoDecoder("big.avi", pixel_format="yuv420p")
opened = time.perf_counter() - t
assert len(d) == len(ref), f"{len(d)} frames, ffmpeg {len(ref)}"
idx = list(range(len(ref)))
random.seed(7)
random.shuffle(idx)
idx = idx[:40] + [len(ref) - 1, 0, len(ref) // 2]
wrong = [i for i in idx if hashlib.md5(d[i].tobytes()).hexdigest() != ref[i]]
assert not wrong, f"frames {wrong} differ from ffmpeg's"
print(f"Python: opened in {opened:.3f} s, {len(d)} frames; {len(idx)} frames asked out of order, each equal to ffmpeg's")
EOF
echo "PASS"
