#!/usr/bin/env bash
# Make the audio fixtures under testdata/audio/ (see testdata/README.md, "Audio fixtures"):
# short files of AAC, Opus, Vorbis, MP3, FLAC, PCM and AC-3 in every container ffmpeg writes
# them to, files with video whose audio starts before or after it, one damaged and some
# truncated files; then testdata/audio/reference.json (ffmpeg's decode of every audio stream:
# sample count, rate, channels, layout, md5 of the f32le samples, the first samples),
# testdata/audio/SHA256SUMS and testdata/SHA256SUMS.
#
#   scripts/make-audio-fixtures.sh
#
# Needs Debian's ffmpeg (5.1: aac, libopus, libvorbis, libmp3lame, flac, ac3, libx264) and
# python3. Deterministic: one thread, -bitexact everywhere, sources that are functions of
# time (every channel its own tones, so a swapped channel shows in the md5), damage written
# at a fixed place. Made with Debian bookworm's ffmpeg 5.1.9.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/testdata/audio
# Everything but fuzz/ (inputs the fuzzers found, kept as regression cases; not made here).
mkdir -p "$OUT"
find "$OUT" -mindepth 1 -maxdepth 1 ! -name fuzz -exec rm -rf {} +
FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -threads 1 -filter_threads 1)
BITEXACT=(-map_metadata -1 -fflags +bitexact -flags:a +bitexact -flags:v +bitexact)

# src RATE LAYOUT SECONDS: ffmpeg input options for a tone per channel (channel c has
# 110*(c+2) Hz and a quieter 1000+150*c Hz), so every channel differs.
src() {
    local rate=$1 layout=$2 secs=$3 n exprs="" c
    n=$(ffprobe -v error -f lavfi -i "anullsrc=cl=$layout" -show_entries stream=channels -of csv=p=0)
    for ((c = 0; c < n; c++)); do
        exprs+="${exprs:+|}0.4*sin(2*PI*$((110 * (c + 2)))*t)+0.1*sin(2*PI*$((1000 + 150 * c))*t)"
    done
    echo -f lavfi -i "aevalsrc=${exprs}:s=${rate}:c=${layout}:d=${secs}"
}

# make NAME RATE LAYOUT ENCODER-AND-MUXER-OPTIONS...: one second of audio ($DUR seconds
# when set: the uncompressed formats are kept short).
make() {
    local name=$1 rate=$2 layout=$3
    shift 3
    # shellcheck disable=SC2046 # src's words are meant to split
    "${FF[@]}" $(src "$rate" "$layout" "${DUR:-1}") "$@" "${BITEXACT[@]}" "$OUT/$name"
}

AAC=(-c:a aac -b:a 48k)
# AAC-LC at 8, 16, 22.05, 44.1 and 48 kHz, mono, stereo and 5.1, in every container.
make aac-mono-8k.mp4 8000 mono "${AAC[@]}"
make aac-stereo-44k.mp4 44100 stereo "${AAC[@]}"
make aac-5.1-48k.mp4 48000 5.1 "${AAC[@]}" -b:a 128k
make aac-stereo-22k.m4a 22050 stereo "${AAC[@]}" -f ipod
make aac-mono-16k-frag.mp4 16000 mono "${AAC[@]}" -movflags +frag_keyframe+empty_moov+default_base_moof
make aac-stereo-48k.mkv 48000 stereo "${AAC[@]}"
make aac-5.1-44k.mkv 44100 5.1 "${AAC[@]}" -b:a 128k
make aac-stereo-44k.ts 44100 stereo "${AAC[@]}"
make aac-mono-22k.ts 22050 mono "${AAC[@]}"
make aac-5.1-48k.ts 48000 5.1 "${AAC[@]}" -b:a 128k
make aac-stereo-16k.aac 16000 stereo "${AAC[@]}" -f adts
# Opus (pre-skip 312) and Vorbis.
make opus-stereo.webm 48000 stereo -c:a libopus -b:a 48k
make opus-mono.ogg 48000 mono -c:a libopus -b:a 24k
make opus-5.1.mp4 48000 5.1 -c:a libopus -b:a 96k
make opus-5.1.mkv 48000 5.1 -c:a libopus -b:a 96k
make vorbis-stereo-44k.ogg 44100 stereo -c:a libvorbis -q:a 2
make vorbis-5.1-48k.webm 48000 5.1 -c:a libvorbis -q:a 2
# MP3.
make mp3-stereo-44k.mp3 44100 stereo -c:a libmp3lame -b:a 64k -write_xing 0 -id3v2_version 0
make mp3-mono-22k.mkv 22050 mono -c:a libmp3lame -b:a 32k
make mp3-stereo-48k.ts 48000 stereo -c:a libmp3lame -b:a 64k
# FLAC (MP4 FLAC is experimental in ffmpeg 5.1).
DUR=0.5 make flac-stereo-44k.flac 44100 stereo -c:a flac
DUR=0.5 make flac-5.1-48k.mkv 48000 5.1 -c:a flac
make flac-mono-16k.mp4 16000 mono -c:a flac -strict experimental
# PCM.
DUR=0.25 make pcm-s16-stereo-44k.wav 44100 stereo -c:a pcm_s16le
DUR=0.25 make pcm-s24-5.1-48k.wav 48000 5.1 -c:a pcm_s24le
DUR=0.25 make pcm-f32-stereo-48k.wav 48000 stereo -c:a pcm_f32le
make pcm-u8-mono-8k.wav 8000 mono -c:a pcm_u8
# AC-3.
make ac3-5.1-48k.mkv 48000 5.1 -c:a ac3 -b:a 192k
make ac3-stereo-48k.ts 48000 stereo -c:a ac3 -b:a 96k

# Audio with 64x64 H.264 video (1 s each), the audio starting 0.5 s before the video
# ("early": the video is delayed) or after it ("late").
VIDEO=(-f lavfi -i testsrc2=size=64x64:rate=25:d=1)
X264=(-c:v libx264 -threads 1 -preset medium -crf 30 -g 25 -bf 1 -pix_fmt yuv420p)
for ext in mp4 mkv; do
    # shellcheck disable=SC2046
    "${FF[@]}" -itsoffset 0.5 "${VIDEO[@]}" $(src 48000 stereo 1) -map 0:v -map 1:a "${X264[@]}" "${AAC[@]}" \
        "${BITEXACT[@]}" "$OUT/av-audio-early.$ext"
    # shellcheck disable=SC2046
    "${FF[@]}" "${VIDEO[@]}" -itsoffset 0.5 $(src 48000 stereo 1) -map 0:v -map 1:a "${X264[@]}" "${AAC[@]}" \
        "${BITEXACT[@]}" "$OUT/av-audio-late.$ext"
done

# Two AAC tracks, as torchcodec's nasa_13013.mp4 has: a first at 8 kHz, 24 kb/s, and a
# second at 16 kHz, 64 kb/s, each from its own source (different tones), with 64x64 video.
# In the MP4 both are marked default, and ffmpeg (av_find_best_stream) and torchcodec open
# the one of the higher bit rate, the second; in the Matroska file only the second is
# marked default, and they open it for that.
# shellcheck disable=SC2046
"${FF[@]}" "${VIDEO[@]}" $(src 8000 mono 1) $(src 16000 stereo 1) -map 0:v -map 1:a -map 2:a "${X264[@]}" \
    -c:a aac -b:a:0 24k -b:a:1 64k -disposition:a:0 default -disposition:a:1 default "${BITEXACT[@]}" \
    "$OUT/two-aac-tracks.mp4"
# shellcheck disable=SC2046
"${FF[@]}" "${VIDEO[@]}" $(src 8000 mono 1) $(src 16000 stereo 1) -map 0:v -map 1:a -map 2:a "${X264[@]}" \
    -c:a aac -b:a:0 24k -b:a:1 64k -disposition:a:0 0 -disposition:a:1 default "${BITEXACT[@]}" \
    "$OUT/two-aac-tracks.mkv"

# Damage: 32 bytes of 0xA5 in the middle of the file (inside an AAC frame of the mdat, in
# a Matroska block, in a TS packet's payload), and truncated copies (60% of the bytes).
damage() {
    local from=$1 to=$2 size
    cp "$OUT/$from" "$OUT/$to"
    size=$(stat -c %s "$OUT/$to")
    head -c 32 /dev/zero | tr '\0' '\245' | dd of="$OUT/$to" bs=1 seek=$((size / 2)) conv=notrunc status=none
}
truncate_copy() {
    local from=$1 to=$2 size
    size=$(stat -c %s "$OUT/$from")
    head -c $((size * 6 / 10)) "$OUT/$from" > "$OUT/$to"
}
damage aac-stereo-44k.mp4 damaged-aac-stereo-44k.mp4
damage aac-stereo-48k.mkv damaged-aac-stereo-48k.mkv
damage aac-stereo-44k.ts damaged-aac-stereo-44k.ts
truncate_copy aac-stereo-48k.mkv truncated-aac-stereo-48k.mkv
truncate_copy aac-stereo-44k.ts truncated-aac-stereo-44k.ts
truncate_copy opus-stereo.webm truncated-opus-stereo.webm

# Apple's gapless information: an iTunSMPB item (priming 1024, padding 832, 44100 samples)
# added to a copy of the stereo MP4's moov, which ffmpeg writes last (so no offset moves).
python3 - "$OUT/aac-stereo-44k.mp4" "$OUT/aac-stereo-44k-itunsmpb.mp4" <<'PY'
import struct, sys
def box(kind, body):
    return struct.pack(">I", 8 + len(body)) + kind + body
data = open(sys.argv[1], "rb").read()
at = 0
while at < len(data):
    size, kind = struct.unpack(">I4s", data[at:at + 8])
    if kind == b"moov":
        assert at + size == len(data), "moov is not the last box"
        break
    at += size
text = b" 00000000 00000400 00000340 000000000000AC44 00000000 00000000 00000000 00000000"
item = box(b"mean", b"\0\0\0\0com.apple.iTunes") + box(b"name", b"\0\0\0\0iTunSMPB")
item += box(b"data", b"\0\0\0\x01\0\0\0\0" + text)
hdlr = box(b"hdlr", b"\0" * 8 + b"mdirappl" + b"\0" * 9)
udta = box(b"udta", box(b"meta", b"\0\0\0\0" + hdlr + box(b"ilst", box(b"----", item))))
moov = data[at:] + udta
open(sys.argv[2], "wb").write(data[:at] + struct.pack(">I", len(moov)) + moov[4:])
PY

python3 "$ROOT/scripts/audio-reference.py" "$OUT"
(cd "$OUT" && find . -type f ! -name SHA256SUMS ! -path './fuzz/*' -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS)
"$ROOT/scripts/make-fixtures.sh" --sums
du -sh "$OUT"
ls -l "$OUT"
