#!/usr/bin/env bash
# Benchmark: `video-hw info FILE` against `ffmpeg -f FMT -i FILE -c copy -f null -` on the
# same file, interleaved in the same run (1 warm-up + N repeats each), printing median,
# p95, min, max and the ratio as a markdown table, also written to bench/results/.
#
# usage: scripts/bench-info.sh [FILE] [REPEATS] [OUTPUT]
#   FILE defaults to bench/inputs/hevc-1080p-big.h265 (scripts/make-bench-inputs.sh makes it);
#   OUTPUT defaults to bench/results/info-vs-ffmpeg-{hevc,h264}-DATE-COMMIT.md after FILE's codec.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-bench/inputs/hevc-1080p-big.h265}
repeats=${2:-7}
[[ -f $file ]] || { echo "no $file: run scripts/make-bench-inputs.sh first" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "ffmpeg not found: apt-get install ffmpeg" >&2; exit 2; }
cargo build --release -q -p video-hw-cli
bin=target/release/video-hw
case $file in *.h264|*.264|*.jsv) fmt=h264 ;; *) fmt=hevc ;; esac
out=${3:-bench/results/info-vs-ffmpeg-$fmt-$(date +%Y%m%d)-$(git rev-parse --short HEAD).md}
mkdir -p "$(dirname "$out")"
python3 - "$bin" "$file" "$fmt" "$repeats" "$out" <<'PY'
import json, os, platform, resource, statistics, subprocess, sys, time
bin, path, fmt, repeats, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
cmds = {
    "video-hw info": [bin, "info", "--json", path],
    "ffmpeg -c copy -f null": ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", fmt, "-i", path,
                               "-c", "copy", "-f", "null", "-"],
}
times = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}             # user + system CPU seconds of the child
def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN); return r.ru_utime + r.ru_stime
load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
outputs = {}
for rep in range(repeats + 1):          # repetition 0 is the warm-up
    for name, cmd in cmds.items():      # interleaved
        c, t = child_cpu(), time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt, dc = time.perf_counter() - t, child_cpu() - c
        if r.returncode != 0:
            sys.exit(f"{name} failed: {r.stderr.decode()[-500:]}")
        if rep > 0:
            times[name].append(dt)
            cpu[name].append(dc)
        outputs[name] = r.stdout
frames = json.loads(outputs["video-hw info"])["frames"]
def p95(v):
    v = sorted(v); return v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
size = os.path.getsize(path)
def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
ffmpeg_version = subprocess.run(["ffmpeg", "-version"], stdout=subprocess.PIPE).stdout.decode().split("\n")[0].split(" Copyright")[0]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE).stdout.decode().strip()
base = statistics.median(times["ffmpeg -c copy -f null"])
base_cpu = statistics.median(cpu["ffmpeg -c copy -f null"])
lines = [f"# video-hw info vs ffmpeg stream copy", "",
         f"file `{path}` ({size / 1e6:.1f} MB, {frames} frames), {repeats} repeats after 1 warm-up, interleaved; "
         f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.release()}; "
         f"load average before the run {load_before}; {ffmpeg_version}; video-hw at {commit}", "",
         "| command | median s | p95 s | min s | max s | MB/s (median) | ratio vs ffmpeg | CPU s (median) | CPU ratio |",
         "|---|---|---|---|---|---|---|---|---|"]
for name, v in times.items():
    m = statistics.median(v)
    mc = statistics.median(cpu[name])
    lines.append(f"| {name} | {m:.3f} | {p95(v):.3f} | {min(v):.3f} | {max(v):.3f} | {size / 1e6 / m:.0f} | {m / base:.3f} "
                 f"| {mc:.3f} | {mc / base_cpu:.3f} |")
lines += ["", "Wall times are what the goal is stated in; CPU time (user + system of the child) is given too, "
          "as it is less disturbed by other load on the machine."]
text = "\n".join(lines) + "\n"
print(text)
open(out, "w").write(text)
PY
