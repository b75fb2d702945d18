#!/usr/bin/env bash
# Regenerate the project's own test fixtures under testdata/ (see testdata/README.md).
#
#   scripts/make-fixtures.sh           regenerate everything, then rewrite fixtures.json and SHA256SUMS
#   scripts/make-fixtures.sh --check   verify testdata/ against testdata/SHA256SUMS (no regeneration)
#   scripts/make-fixtures.sh --sums    only rewrite SHA256SUMS (after editing testdata/README.md)
#
# Needs ffmpeg + ffprobe built with libx264, libx265, libsvtav1, libvpx and libdav1d
# (Debian/Ubuntu: apt-get install ffmpeg) and python3. Deterministic: single-threaded x264/x265/ffmpeg, -bitexact muxing, fixed noise
# seeds; running it twice with the same ffmpeg/x264/x265 gives byte-identical files (a different
# x264/x265 version gives different, equally valid, streams: then commit the new files together
# with their new references and sums).
#
# Real-content source: the libvpl clip cars_320x240.h264 (MIT, Intel), read from
# ${VIDEO_HW_CORPUS:-../shared/testdata/corpus}/libvpl/cars_320x240.h264 (relative to the repository
# root) or, without the shared corpus, from the committed plain copy testdata/real/cars-320x240.h264.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata
CARS_MD5=6a11bce09792211bef95d9aca122bdb5   # libvpl examples/content/cars_320x240.h264 @ d77f9195

die() { echo "make-fixtures: $*" >&2; exit 1; }

write_sums() {
    (cd "$TD" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS)
}

check_sums() {
    [[ -f $TD/SHA256SUMS ]] || die "no $TD/SHA256SUMS"
    cd "$TD"
    local listed present status=0
    listed=$(awk '{ sub(/^[^ ]+ [ *]/, ""); print }' SHA256SUMS | LC_ALL=C sort)
    present=$(find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort)
    if [[ $listed != "$present" ]]; then
        echo "make-fixtures: files under testdata/ differ from the SHA256SUMS list:" >&2
        diff <(echo "$listed") <(echo "$present") | sed -n 's/^</  listed, missing:/p; s/^>/  present, not listed:/p' >&2
        status=1
    fi
    if ! sha256sum --check --quiet --strict SHA256SUMS; then
        status=1
    fi
    if [[ $status == 0 ]]; then
        echo "make-fixtures: OK, $(wc -l < SHA256SUMS) files match testdata/SHA256SUMS"
    else
        echo "make-fixtures: testdata/ does NOT match SHA256SUMS (regenerate with scripts/make-fixtures.sh)" >&2
    fi
    return $status
}

case "${1:-}" in
    --check) check_sums; exit ;;
    --sums) write_sums; echo "make-fixtures: wrote testdata/SHA256SUMS"; exit ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    "") ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# --- tools --------------------------------------------------------------------------------------
install_hint="install it with: apt-get install ffmpeg   (Debian/Ubuntu; ffmpeg 5.1 or newer, built with --enable-libx264 --enable-libx265 --enable-libsvtav1 --enable-libvpx --enable-libdav1d)"
command -v ffmpeg >/dev/null || die "ffmpeg not found; $install_hint"
command -v ffprobe >/dev/null || die "ffprobe not found; $install_hint"
command -v python3 >/dev/null || die "python3 not found (apt-get install python3)"
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
for lib in libx264 libx265 libsvtav1 libvpx-vp9; do
    grep -q " $lib " <<<"$encoders" || die "this ffmpeg has no $lib encoder; $install_hint"
done
grep -q " libdav1d " <<<"$(ffmpeg -hide_banner -decoders 2>/dev/null)" || die "this ffmpeg has no libdav1d decoder; $install_hint"
grep -q 'yuv420p10le' <<<"$(ffmpeg -hide_banner -h encoder=libx264 2>/dev/null)" \
    || die "this ffmpeg's libx264 has no 10-bit support (needed for the High 10 fixture); $install_hint"
grep -qx 'trace_headers' <<<"$(ffmpeg -hide_banner -bsfs 2>/dev/null)" \
    || die "this ffmpeg lacks the trace_headers bitstream filter (needed to describe the streams)"
echo "make-fixtures: $(ffmpeg -hide_banner -version | sed -n 1p)"

# --- real-content source ------------------------------------------------------------------------
CORPUS=${VIDEO_HW_CORPUS:-../shared/testdata/corpus}
[[ $CORPUS = /* ]] || CORPUS=$ROOT/$CORPUS
CARS=$CORPUS/libvpl/cars_320x240.h264
if [[ ! -f $CARS ]]; then
    CARS=$TD/real/cars-320x240.h264
    [[ -f $CARS ]] || die "no cars clip: neither $CORPUS/libvpl/cars_320x240.h264 nor $CARS"
fi
[[ $(md5sum < "$CARS" | cut -d' ' -f1) == "$CARS_MD5" ]] || die "$CARS is not the expected libvpl cars_320x240.h264 (md5 $CARS_MD5)"
echo "make-fixtures: real content from $CARS"

START=$SECONDS
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/testdata
mkdir -p "$OUT"/{h264,hevc,mp4,real,av1,vp9}
MANIFEST=$WORK/manifest.tsv
: > "$MANIFEST"

FF=(ffmpeg -nostdin -hide_banner -nostats -loglevel error -y -filter_threads 1)

# The cars clip, decoded once (30 frames, 320x240, 25 fps). This is exactly the reference decode.
cp "$CARS" "$OUT/real/cars-320x240.h264"
"${FF[@]}" -threads 1 -flags unaligned -f h264 -i "$CARS" -map 0:v:0 -fps_mode passthrough \
    -vf scale=in_range=full:out_range=full,format=yuv420p -fflags +bitexact -f yuv4mpegpipe "$WORK/cars.y4m"
# 58 frames: forward then backward (no hard cut), for the longer GOP tests.
"${FF[@]}" -i "$WORK/cars.y4m" -i "$WORK/cars.y4m" \
    -filter_complex '[1:v]reverse,trim=start_frame=1:end_frame=29,setpts=PTS-STARTPTS[r];[0:v][r]concat=n=2:v=1[v]' \
    -map '[v]' -fflags +bitexact -f yuv4mpegpipe "$WORK/cars-pingpong.y4m"

# manifest KIND PATH CODEC SOURCE EXERCISES CURATED-FEATURES EXPECT
manifest() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$MANIFEST"; }

# encode CODEC OUT FRAMES PIXFMT PROFILE ENCODER-PARAMS INPUT-ARGS... [-- OUTPUT-ARGS...]
encode() {
    local codec=$1 out=$2 frames=$3 pixfmt=$4 profile=$5 params=$6
    shift 6
    local in=() post=()
    while (($#)); do [[ $1 == -- ]] && { shift; post=("$@"); break; }; in+=("$1"); shift; done
    local enc dest=("$OUT/$out")
    case $codec in
        h264) enc=(-c:v libx264 -x264-params "threads=1:$params" -f h264) ;;
        hevc) enc=(-c:v libx265 -x265-params "pools=1:frame-threads=1:log-level=error:$params" -f hevc) ;;
    esac
    if [[ -n ${MP4:-} ]]; then
        # One encode, two muxers (tee): the Annex-B stream and an MP4 holding the very same
        # packets (length-prefixed, avcC/hvcC from the in-band parameter sets) with the encoder's
        # pts/dts. A later "-c copy" from the raw stream cannot do this: the raw demuxer has no
        # pts, so B-frame streams would get pts=dts (no ctts, wrong display order).
        enc[${#enc[@]}-1]=tee
        [[ $codec == hevc ]] && enc+=(-tag:v hvc1)
        dest=("[f=$codec]$OUT/$out|[f=mp4:movflags=+faststart:fflags=+bitexact]$OUT/$MP4")
    fi
    "${FF[@]}" -threads 1 "${in[@]}" -map 0:v:0 -an -map_metadata -1 -frames:v "$frames" -pix_fmt "$pixfmt" -threads 1 \
        -profile:v "$profile" "${post[@]}" -flags:v "${FLAGS:-+bitexact}" -fflags +bitexact "${enc[@]}" "${dest[@]}"
}

lavfi() { echo -f lavfi -i "$1"; }

# ---- H.264 -------------------------------------------------------------------------------------
X264_COMMON="crf=24"

encode h264 h264/cbp-cavlc-cars-320x240.h264 30 yuv420p baseline "$X264_COMMON" -i "$WORK/cars.y4m"
manifest stream h264/cbp-cavlc-cars-320x240.h264 h264 "cars clip (libvpl, MIT), re-encoded" \
    "Constrained Baseline: CAVLC, I/P only, no reordering, 1 slice, real camera content" \
    "" "profile=Constrained Baseline;b_frames=false;interlaced=false;slices_per_picture=1;keyframes=1;frames=30;has=CAVLC;lacks=CABAC|B-frames|8x8dct|weighted"

encode h264 h264/main-cabac-bframes-testsrc2-320x240.h264 30 yuv420p main \
    "$X264_COMMON:bframes=3:b-adapt=0:b-pyramid=none:weightp=0:ref=3" \
    $(lavfi "testsrc2=size=320x240:rate=25,noise=alls=12:allf=t+u:all_seed=4242")
manifest stream h264/main-cabac-bframes-testsrc2-320x240.h264 h264 "lavfi testsrc2 + temporal noise" \
    "Main: CABAC, 3 consecutive non-reference B-frames (fixed, b-adapt=0), display reordering, no weighted P" \
    "" "profile=Main;b_frames=true;slices_per_picture=1;keyframes=1;frames=30;has=CABAC|B-frames;lacks=B-pyramid|8x8dct|weighted-pred-P"

MP4=mp4/high-bpyramid-8x8-wp-cars-320x240.mp4 encode h264 h264/high-bpyramid-8x8-wp-cars-320x240.h264 30 yuv420p high \
    "$X264_COMMON:bframes=3:b-adapt=0:b-pyramid=normal:8x8dct=1:weightp=2:weightb=1:ref=4" \
    -i "$WORK/cars.y4m" -- -vf "fade=t=in:start_frame=0:nb_frames=12,fade=t=out:start_frame=18:nb_frames=12"
manifest stream h264/high-bpyramid-8x8-wp-cars-320x240.h264 h264 "cars clip with fade-in/fade-out" \
    "High: B-pyramid (reference B-frames), 8x8 transform, explicit weighted P prediction (fade in/out), implicit weighted bi-prediction, 4 refs, MMCO; x264 also puts one non-IDR I-picture in the fade" \
    "fade-in/out" "profile=High;b_frames=true;keyframes=1;frames=30;has=8x8dct|weighted-pred-P(explicit weights|weighted-bipred(implicit)|B-pyramid"

encode h264 h264/high-slices4-mandelbrot-320x240.h264 30 yuv420p high \
    "crf=28:slices=4:bframes=2:b-adapt=0" \
    $(lavfi "mandelbrot=size=320x240:rate=25:start_scale=2:end_scale=0.5:end_pts=60")
manifest stream h264/high-slices4-mandelbrot-320x240.h264 h264 "lavfi mandelbrot (zooming)" \
    "4 slices per picture (x264 slices=4), B-frames" \
    "" "profile=High;slices_per_picture=4;b_frames=true;keyframes=1;frames=30;has=multi-slice(4..4/pic)"

encode h264 h264/crop-318x178-cars.h264 30 yuv420p high "$X264_COMMON" \
    -i "$WORK/cars.y4m" -- -vf "crop=318:178:1:31"
manifest stream h264/crop-318x178-cars.h264 h264 "cars clip, cropped to 318x178" \
    "SPS frame cropping: 318x178 display from 320x192 coded (crop right 2, bottom 14 px)" \
    "" "profile=High;width=318;height=178;coded_width=320;coded_height=192;frames=30;has=crop(l,r,t,b)=0,1,0,7"

FLAGS=+bitexact+ildct+ilme encode h264 h264/mbaff-tff-testsrc2-320x240.h264 24 yuv420p high \
    "$X264_COMMON:interlaced=1:tff=1:bframes=2" \
    $(lavfi "testsrc2=size=320x240:rate=50,noise=alls=8:allf=t+u:all_seed=777,interlace=scan=tff:lowpass=0")
manifest stream h264/mbaff-tff-testsrc2-320x240.h264 h264 "lavfi testsrc2 at 50 fields/s, woven (interlace filter, TFF)" \
    "Interlaced: MBAFF (frame_mbs_only_flag=0, mb_adaptive_frame_field_flag=1), top field first, 320x240 display from 320x256 coded (crop bottom 16 px), B-frames" \
    "TFF" "profile=High;interlaced=true;field_order=tt;coded_height=256;height=240;frames=24;has=MBAFF"

encode h264 h264/high10-mandelbrot-320x240.h264 30 yuv420p10le high10 "crf=28:bframes=2" \
    $(lavfi "mandelbrot=size=320x240:rate=25:start_scale=1.5:end_scale=0.4:end_pts=60")
manifest stream h264/high10-mandelbrot-320x240.h264 h264 "lavfi mandelbrot (zooming), 10-bit" \
    "High 10: 10-bit luma/chroma (yuv420p10le), B-frames" \
    "" "profile=High 10;bit_depth=10;frames=30;has=10-bit"

encode h264 h264/gop12-idr-cars-320x240.h264 48 yuv420p high \
    "$X264_COMMON:keyint=12:min-keyint=12:scenecut=0:bframes=2:b-adapt=0" -i "$WORK/cars-pingpong.y4m"
manifest stream h264/gop12-idr-cars-320x240.h264 h264 "cars clip, forward then backward" \
    "Periodic IDR every 12 frames (closed GOPs, B-frames), 4 IDRs: decoder restart / POC reset / DPB flush at each IDR" \
    "closed-GOP" "profile=High;keyframes=4;frames=48;b_frames=true;has=IDRx4"

encode h264 h264/open-gop-cars-320x240.h264 48 yuv420p high \
    "$X264_COMMON:keyint=12:min-keyint=12:scenecut=0:open-gop=1:bframes=3:b-adapt=0" -i "$WORK/cars-pingpong.y4m"
manifest stream h264/open-gop-cars-320x240.h264 h264 "cars clip, forward then backward" \
    "Open GOP: one IDR, then non-IDR I-pictures every 12 frames with recovery-point SEI, and B-frames that follow an I-picture in decode order but precede it in display order (reference across the GOP boundary)" \
    "open-GOP" "profile=High;keyframes=1;frames=48;b_frames=true;recovery_points=3;has=non-IDR-I-pictures x3"

encode h264 h264/intra-refresh-cars-320x240.h264 48 yuv420p high \
    "$X264_COMMON:keyint=12:intra-refresh=1:bframes=0" -i "$WORK/cars-pingpong.y4m"
manifest stream h264/intra-refresh-cars-320x240.h264 h264 "cars clip, forward then backward" \
    "Periodic intra refresh (a moving column of intra MBs, period 12) instead of key frames: one IDR, P-pictures only, recovery-point SEI every 12 frames" \
    "intra-refresh" "profile=High;keyframes=1;frames=48;b_frames=false;has=SEI:recovery_point"

# ---- HEVC --------------------------------------------------------------------------------------
X265_COMMON="crf=28"

MP4=mp4/main-bframes-cars-320x240.mp4 encode hevc hevc/main-bframes-cars-320x240.h265 30 yuv420p main \
    "$X265_COMMON:bframes=4:b-adapt=0:b-pyramid=1" -i "$WORK/cars.y4m"
manifest stream hevc/main-bframes-cars-320x240.h265 hevc "cars clip (libvpl, MIT), re-encoded" \
    "Main: B-frames with B-pyramid (4 B between P, reference B), reordering, WPP, SAO, real camera content" \
    "" "profile=Main;b_frames=true;keyframes=1;frames=30;slices_per_picture=1;has=B-pyramid"

encode hevc hevc/main10-mandelbrot-320x240.h265 30 yuv420p10le main10 "crf=30:bframes=3" \
    $(lavfi "mandelbrot=size=320x240:rate=25:start_scale=1.5:end_scale=0.4:end_pts=60")
manifest stream hevc/main10-mandelbrot-320x240.h265 hevc "lavfi mandelbrot (zooming), 10-bit" \
    "Main 10: 10-bit samples (yuv420p10le), B-frames" \
    "" "profile=Main 10;bit_depth=10;frames=30;has=10-bit"

encode hevc hevc/crop-318x178-cars.h265 30 yuv420p main "$X265_COMMON" -i "$WORK/cars.y4m" -- -vf "crop=318:178:1:31"
manifest stream hevc/crop-318x178-cars.h265 hevc "cars clip, cropped to 318x178" \
    "Conformance window: 318x178 display from 320x184 coded (right 2, bottom 6 px)" \
    "" "profile=Main;width=318;height=178;coded_width=320;coded_height=184;frames=30;has=conf-window"

encode hevc hevc/slices2-testsrc2-320x240.h265 30 yuv420p main "$X265_COMMON:slices=2:bframes=3" \
    $(lavfi "testsrc2=size=320x240:rate=25,noise=alls=12:allf=t+u:all_seed=4243")
manifest stream hevc/slices2-testsrc2-320x240.h265 hevc "lavfi testsrc2 + temporal noise" \
    "2 slices per picture (x265 slices=2): slice_segment_address, per-slice entry points with WPP" \
    "" "profile=Main;slices_per_picture=2;frames=30;has=multi-slice(2..2/pic)"

encode hevc hevc/open-gop-cra-rasl-cars-320x240.h265 48 yuv420p main \
    "$X265_COMMON:keyint=12:min-keyint=12:scenecut=0:open-gop=1:radl=0:bframes=3:b-adapt=0:repeat-headers=1" \
    -i "$WORK/cars-pingpong.y4m"
manifest stream hevc/open-gop-cra-rasl-cars-320x240.h265 hevc "cars clip, forward then backward" \
    "Open GOP: IDR then a CRA every 12 frames, each followed by RASL pictures (leading pictures that reference the previous GOP; dropped when decoding starts at that CRA); VPS/SPS/PPS repeated before every IRAP (repeat-headers) so decoding can start at any CRA" \
    "open-GOP,repeat-headers" "profile=Main;keyframes=4;frames=48;cra=3;has=CRA_NUTx3|RASL_N|VPS/SPS/PPS repeated"

# ---- AV1, VP9 (IVF files: one packet per AV1 temporal unit / VP9 frame) ------------------------
# Single-threaded, deterministic encoders (SVT-AV1 lp=1, libvpx threads=1 without row-mt); the
# first 10 frames of the cars clip, a key frame every 8 frames. SVT-AV1's hierarchical
# structure gives hidden frames shown later by 5-byte show_existing_frame temporal units;
# one-pass libvpx makes no alt-ref frames here, so no superframes (media/vp9-opus.webm, two-pass, has them).
SVT_LOG=1 "${FF[@]}" -threads 1 -i "$WORK/cars.y4m" -map 0:v:0 -an -map_metadata -1 -frames:v 10 -pix_fmt yuv420p \
    -c:v libsvtav1 -preset 8 -crf 45 -g 8 -svtav1-params lp=1 -flags:v +bitexact -fflags +bitexact \
    -f ivf "$OUT/av1/svtav1-cars-320x240.ivf"
manifest packets av1/svtav1-cars-320x240.ivf av1 "cars clip (libvpl, MIT), frames 0-9, re-encoded (SVT-AV1)" \
    "AV1 Main in IVF: temporal units with temporal delimiter, sequence header and frame OBUs; hidden frames shown later by show_existing_frame (5-byte temporal units); 2 key frames (-g 8)" \
    "IVF,show_existing_frame" "frames=10;keyframes=2;packets=10"
"${FF[@]}" -threads 1 -i "$WORK/cars.y4m" -map 0:v:0 -an -map_metadata -1 -frames:v 10 -pix_fmt yuv420p \
    -c:v libvpx-vp9 -threads 1 -row-mt 0 -crf 40 -b:v 0 -deadline good -cpu-used 4 -g 8 -auto-alt-ref 1 \
    -lag-in-frames 8 -flags:v +bitexact -fflags +bitexact -f ivf "$OUT/vp9/libvpx-cars-320x240.ivf"
manifest packets vp9/libvpx-cars-320x240.ivf vp9 "cars clip (libvpl, MIT), frames 0-9, re-encoded (libvpx)" \
    "VP9 Profile 0 in IVF: one frame per packet; 2 key frames (-g 8)" \
    "IVF" "frames=10;keyframes=2;packets=10"

# ---- MP4 (the same packets as two of the above, muxed by the same ffmpeg run; see encode) ----
manifest container mp4/high-bpyramid-8x8-wp-cars-320x240.mp4 h264/high-bpyramid-8x8-wp-cars-320x240.h264 \
    "same packets as the .h264 (one libx264 run, tee muxer: raw h264 + mp4 -movflags +faststart)" \
    "MP4 demux: avc1 sample entry with avcC (SPS/PPS, 4-byte NAL length prefix), length-prefixed samples, ctts (B-frame reordering), moov before mdat" \
    "avc1,avcC,ctts,faststart" "sample_entry=avc1"

manifest container mp4/main-bframes-cars-320x240.mp4 hevc/main-bframes-cars-320x240.h265 \
    "same packets as the .h265 (one libx265 run, tee muxer: raw hevc + mp4 -tag:v hvc1 -movflags +faststart)" \
    "MP4 demux: hvc1 sample entry with hvcC (VPS/SPS/PPS arrays, 4-byte NAL length prefix), length-prefixed samples, ctts, moov before mdat" \
    "hvc1,hvcC,ctts,faststart" "sample_entry=hvc1"

# ---- encode inputs (raw frames of the cars clip: frames 0-7 of the reference decode) -----------
"${FF[@]}" -i "$WORK/cars.y4m" -frames:v 8 -fflags +bitexact -f yuv4mpegpipe "$OUT/real/cars-320x240.y4m"
"${FF[@]}" -i "$WORK/cars.y4m" -frames:v 8 -c:v rawvideo -pix_fmt yuv420p -fflags +bitexact -f rawvideo "$OUT/real/cars-320x240-25fps.yuv"
manifest input real/cars-320x240.y4m y4m "cars clip, frames 0-7 of the reference decode" \
    "Encoder input, YUV4MPEG2 (header carries size, 25:1 rate, C420mpeg2)" "" \
    "width=320;height=240;fps=25/1;frames=8;pix_fmt=yuv420p"
manifest input real/cars-320x240-25fps.yuv yuv "cars clip, frames 0-7 of the reference decode" \
    "Encoder input, headerless I420 (planar Y, U, V; 115200 bytes per frame); size and rate only in the name" "" \
    "width=320;height=240;fps=25/1;frames=8;pix_fmt=yuv420p"

# ---- references --------------------------------------------------------------------------------
manifest stream real/cars-320x240.h264 h264 "libvpl examples/content/cars_320x240.h264 @ d77f9195 (MIT, Intel), plain copy" \
    "Real camera content, encoded upstream (x264 r3075, not by this script): High, CABAC, B-pyramid, explicit weighted P + implicit weighted bi-prediction, MMCO, ref list modification; also the source of every cars-based fixture and of the encode inputs; same file as the shared corpus' libvpl/cars_320x240.h264" \
    "" "profile=High;frames=30;keyframes=1;b_frames=true"

reference() { # FILE FMT TAG PIXFMT
    "${FF[@]}" -threads 1 -flags unaligned -f "$2" -i "$1" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf "scale=in_range=full:out_range=full,format=$4" -fflags +bitexact -f framemd5 "$1.$3.framemd5"
}
while IFS=$'\t' read -r kind path codec _; do
    [[ $kind == stream ]] || continue
    f=$OUT/$path
    fmt=$codec
    depth=$(ffprobe -v error -f "$fmt" -i "$f" -select_streams v:0 -show_entries stream=pix_fmt -of csv=p=0)
    if [[ $depth == *10le ]]; then
        reference "$f" "$fmt" p010 p010le
        reference "$f" "$fmt" yuv yuv420p10le
    else
        reference "$f" "$fmt" nv12 nv12
        reference "$f" "$fmt" yuv yuv420p
    fi
done < "$MANIFEST"
# AV1 by libdav1d, VP9 by libavcodec's vp9: the software decoders the FFmpeg engine runs.
reference_ivf() { # FILE DECODER TAG PIXFMT
    "${FF[@]}" -threads 1 -flags unaligned -c:v "$2" -f ivf -i "$1" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf "scale=in_range=full:out_range=full,format=$4" -fflags +bitexact -f framemd5 "$1.$3.framemd5"
}
while IFS=$'\t' read -r kind path codec _; do
    [[ $kind == packets ]] || continue
    decoder=$([[ $codec == av1 ]] && echo libdav1d || echo vp9)
    reference_ivf "$OUT/$path" "$decoder" nv12 nv12
    reference_ivf "$OUT/$path" "$decoder" yuv yuv420p
done < "$MANIFEST"

# Cross-check: the y4m/yuv encode inputs are frames 0-7 of the cars reference decode.
"${FF[@]}" -i "$OUT/real/cars-320x240.y4m" -fflags +bitexact -f framemd5 "$WORK/y4m.framemd5"
"${FF[@]}" -f rawvideo -pix_fmt yuv420p -s 320x240 -r 25 -i "$OUT/real/cars-320x240-25fps.yuv" -fflags +bitexact -f framemd5 "$WORK/yuv.framemd5"
ref10=$(grep -v '^#' "$OUT/real/cars-320x240.h264.yuv.framemd5" | head -8 | awk -F, '{print $6}')
for f in "$WORK/y4m.framemd5" "$WORK/yuv.framemd5"; do
    [[ $(grep -v '^#' "$f" | awk -F, '{print $6}') == "$ref10" ]] || die "encode input $(basename "$f") != frames 0-7 of the cars reference decode"
done

# Cross-check: each MP4 decodes to exactly the reference of its elementary stream, in display
# order, and carries composition offsets (pts != dts for the reordered B-frames).
while IFS=$'\t' read -r kind path src _; do
    [[ $kind == container ]] || continue
    "${FF[@]}" -threads 1 -flags unaligned -i "$OUT/$path" -map 0:v:0 -fps_mode passthrough -autoscale 0 \
        -vf scale=in_range=full:out_range=full,format=yuv420p -fflags +bitexact -f framemd5 "$WORK/mp4.framemd5"
    [[ $(grep -v '^#' "$WORK/mp4.framemd5" | awk -F, '{print $6}') == $(grep -v '^#' "$OUT/$src.yuv.framemd5" | awk -F, '{print $6}') ]] \
        || die "$path does not decode to the reference of $src"
    ffprobe -v error -i "$OUT/$path" -select_streams v:0 -show_entries packet=pts,dts -of csv=p=0 | awk -F, '$1 != $2 { n++ } END { exit !(n > 0) }' \
        || die "$path has pts == dts for every sample (no composition offsets)"
done < "$MANIFEST"

# ---- describe, install, checksum ----------------------------------------------------------------
python3 "$ROOT/scripts/fixture-info.py" "$OUT" "$MANIFEST"

mkdir -p "$TD"
for d in h264 hevc mp4 real; do
    rm -rf "${TD:?}/$d"
    cp -r "$OUT/$d" "$TD/$d"
done
# av1/ also holds the files of scripts/make-av1-fixtures.sh and the conformance vectors
# (av1/conformance/, fetched, not made), vp9/ those of scripts/make-vp9-fixtures.sh (10-bit):
# replace only what this script makes.
for d in av1 vp9; do
    mkdir -p "$TD/$d"
    cp "$OUT/$d"/* "$TD/$d/"
done
cp "$OUT/fixtures.json" "$TD/fixtures.json"
write_sums

echo "make-fixtures: done in $((SECONDS - START)) s; testdata/ holds $(find "$TD" -type f | wc -l) files, $(du -sb "$TD" | cut -f1) bytes"
check_sums >/dev/null
