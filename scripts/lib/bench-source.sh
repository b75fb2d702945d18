# Sourced by the benchmark scripts: the filter graph that turns the repository's real clip
# (testdata/real/cars-320x240.h264, input 0) into benchmark content of any size.
#
# bench_source_graph W H FRAMES -> a filtergraph from [0:v], without an output label: the clip
# forward then backward (58 frames, no hard cut), looped, retimed to 30 fps, FRAMES frames,
# upscaled 1.2x past the output size, a crop window panning smoothly over it, then temporal and
# uniform noise, so that no two frames are alike and encoders cannot make it tiny.
bench_source_graph() {
    local w=$1 h=$2 frames=$3 sw sh
    sw=$((w * 6 / 5 / 2 * 2)); sh=$((sw * 3 / 4 / 2 * 2))
    ((sh >= h)) || sh=$((h * 6 / 5 / 2 * 2))
    printf '%s' "[0:v]split[a][b];[b]reverse,trim=start_frame=1:end_frame=29,setpts=PTS-STARTPTS[r];" \
        "[a][r]concat=n=2:v=1,loop=loop=-1:size=58,setpts=N/(25*TB),fps=30,trim=end_frame=$frames," \
        "scale=${sw}:${sh}:flags=bicubic," \
        "crop=${w}:${h}:x='(iw-ow)/2*(1+sin(2*PI*t/7))':y='(ih-oh)/2*(1+sin(2*PI*t/5))'," \
        "noise=alls=20:allf=t+u,format=yuv420p"
}
