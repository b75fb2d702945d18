// Pixel-format kernels for NVDEC output, compiled to PTX by scripts/build-ptx.sh (nvcc on
// a machine with the CUDA toolkit) and committed as convert.ptx; the driver JIT-compiles
// the PTX at run time, so no CUDA toolkit or NVRTC is needed where video-hw runs.
//
// Every kernel works on one 2x2 block of luma samples (one chroma sample of 4:2:0) per
// thread. Inputs are NVDEC surfaces: NV12 (8-bit) or P016 (16-bit words, 10-bit value in
// the high bits). The YUV -> RGB math matches src/convert.rs (the CPU path) exactly:
// fixed-point with 16 fractional bits, round half up, clamp to 0..255.

#include <stdint.h>

struct YuvToRgb {
    // RGB = ((Y - y_off) * y_mul + (C - 128) * c_mul + 2^15) >> 16, per channel.
    int y_off, y_mul;
    int rv, gu, gv, bu;  // coefficient * 65536 for Cr->R, Cb->G, Cr->G, Cb->B
};

__device__ __forceinline__ uint8_t clamp8(int v) {
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

__device__ __forceinline__ void yuv_px(int y, int u, int v, const YuvToRgb& m, uint8_t* r, uint8_t* g, uint8_t* b) {
    int yy = (y - m.y_off) * m.y_mul;
    int cu = u - 128, cv = v - 128;
    *r = clamp8((yy + m.rv * cv + 32768) >> 16);
    *g = clamp8((yy - m.gu * cu - m.gv * cv + 32768) >> 16);
    *b = clamp8((yy + m.bu * cu + 32768) >> 16);
}

// layout: 0 = packed RGB24, 1 = planar R,G,B (three planes, dst_pitch each, plane_stride apart), 2 = BGRA
extern "C" __global__ void nv12_to_rgb(const uint8_t* __restrict__ luma, int luma_pitch,
                                       const uint8_t* __restrict__ chroma, int chroma_pitch,
                                       uint8_t* __restrict__ dst, int dst_pitch, long long plane_stride,
                                       int width, int height, YuvToRgb m, int layout) {
    int cx = blockIdx.x * blockDim.x + threadIdx.x;
    int cy = blockIdx.y * blockDim.y + threadIdx.y;
    if (2 * cx >= width || 2 * cy >= height) return;
    int u = chroma[cy * chroma_pitch + 2 * cx];
    int v = chroma[cy * chroma_pitch + 2 * cx + 1];
    for (int dy = 0; dy < 2; dy++) {
        int y = 2 * cy + dy;
        if (y >= height) break;
        for (int dx = 0; dx < 2; dx++) {
            int x = 2 * cx + dx;
            if (x >= width) break;
            uint8_t r, g, b;
            yuv_px(luma[y * luma_pitch + x], u, v, m, &r, &g, &b);
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
