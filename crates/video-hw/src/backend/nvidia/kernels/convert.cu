// Pixel-format kernels for NVDEC output, compiled to PTX by scripts/build-ptx.sh (nvcc on
// a machine with the CUDA toolkit) and committed as convert.ptx; the driver JIT-compiles
// the PTX at run time, so no CUDA toolkit or NVRTC is needed where video-hw runs.
//
// nv12_to_rgb works on one 2x2 block of luma samples (one chroma sample of 4:2:0) per
// thread; the others on one sample per thread. Inputs are NVDEC surfaces: NV12 (8-bit)
// or P016 (16-bit words, value in the high bits). The YUV -> RGB math is exactly the CPU
// path's (src/convert.rs, YuvMatrix::rgb): 14 fractional bits, nearest chroma sample,
// round half up, clamp to 0..255 -- so GPU and CPU RGB are bit-identical for 8-bit input.

#include <stdint.h>

struct YuvToRgb {
    int y_off;   // 16 (limited range) or 0 (full range)
    int y_mul;   // luma scale x 2^14
    int r_cr, g_cb, g_cr, b_cb;  // chroma coefficients x 2^14
};

__device__ __forceinline__ uint8_t clamp8(int v) {
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

__device__ __forceinline__ void yuv_px(int y, int u, int v, const YuvToRgb& m, uint8_t* r, uint8_t* g, uint8_t* b) {
    int yy = (y - m.y_off) * m.y_mul + 8192;
    int cu = u - 128, cv = v - 128;
    *r = clamp8((yy + m.r_cr * cv) >> 14);
    *g = clamp8((yy - m.g_cb * cu - m.g_cr * cv) >> 14);
    *b = clamp8((yy + m.b_cb * cu) >> 14);
}

__device__ __forceinline__ int sample(const uint8_t* base, long long offset, int wide) {
    // 16-bit input keeps its 8 most significant bits.
    return wide ? (int)(((const uint16_t*)(base + offset))[0] >> 8) : (int)base[offset];
}

// layout: 0 = packed RGB24, 1 = planar R,G,B (planes plane_stride bytes apart), 2 = BGRA.
// wide: 0 for NV12 input, 1 for P016 input (byte offsets below are in samples * (1+wide)).
extern "C" __global__ void nv12_to_rgb(const uint8_t* __restrict__ luma, int luma_pitch,
                                       const uint8_t* __restrict__ chroma, int chroma_pitch,
                                       uint8_t* __restrict__ dst, int dst_pitch, long long plane_stride,
                                       int width, int height, YuvToRgb m, int layout, int wide) {
    int cx = blockIdx.x * blockDim.x + threadIdx.x;
    int cy = blockIdx.y * blockDim.y + threadIdx.y;
    if (2 * cx >= width || 2 * cy >= height) return;
    int bps = 1 + wide;
    int u = sample(chroma, (long long)cy * chroma_pitch + (2 * cx) * bps, wide);
    int v = sample(chroma, (long long)cy * chroma_pitch + (2 * cx + 1) * bps, wide);
    for (int dy = 0; dy < 2; dy++) {
        int y = 2 * cy + dy;
        if (y >= height) break;
        for (int dx = 0; dx < 2; dx++) {
            int x = 2 * cx + dx;
            if (x >= width) break;
            uint8_t r, g, b;
            yuv_px(sample(luma, (long long)y * luma_pitch + x * bps, wide), u, v, m, &r, &g, &b);
            if (layout == 0) {
                uint8_t* p = dst + (long long)y * dst_pitch + 3 * x;
                p[0] = r; p[1] = g; p[2] = b;
            } else if (layout == 1) {
                long long o = (long long)y * dst_pitch + x;
                dst[o] = r; dst[o + plane_stride] = g; dst[o + 2 * plane_stride] = b;
            } else {
                uint8_t* p = dst + (long long)y * dst_pitch + 4 * x;
                p[0] = b; p[1] = g; p[2] = r; p[3] = 255;
            }
        }
    }
}

// NV12 chroma (interleaved UV) -> two planes U and V (for host YUV420P output).
extern "C" __global__ void deinterleave_uv8(const uint8_t* __restrict__ chroma, int chroma_pitch,
                                            uint8_t* __restrict__ u, uint8_t* __restrict__ v, int dst_pitch,
                                            int cwidth, int cheight) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= cwidth || y >= cheight) return;
    u[y * dst_pitch + x] = chroma[y * chroma_pitch + 2 * x];
    v[y * dst_pitch + x] = chroma[y * chroma_pitch + 2 * x + 1];
}

// P016 chroma -> U and V planes of 16-bit words holding the value in the low bits
// (yuv420p10le): shift right by 16 - bit_depth.
extern "C" __global__ void deinterleave_uv16(const uint16_t* __restrict__ chroma, int chroma_pitch_words,
                                             uint16_t* __restrict__ u, uint16_t* __restrict__ v, int dst_pitch_words,
                                             int cwidth, int cheight, int shift) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= cwidth || y >= cheight) return;
    u[y * dst_pitch_words + x] = chroma[y * chroma_pitch_words + 2 * x] >> shift;
    v[y * dst_pitch_words + x] = chroma[y * chroma_pitch_words + 2 * x + 1] >> shift;
}

// P016 luma -> 16-bit words with the value in the low bits.
extern "C" __global__ void shift_luma16(const uint16_t* __restrict__ src, int src_pitch_words,
                                        uint16_t* __restrict__ dst, int dst_pitch_words,
                                        int width, int height, int shift) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height) return;
    dst[y * dst_pitch_words + x] = src[y * src_pitch_words + x] >> shift;
}
