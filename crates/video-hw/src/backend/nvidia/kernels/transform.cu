// The transform kernels: crop, resize (the plan's taps: bilinear or area), letterbox, and
// either YUV 4:2:0 -> RGB with the stream's matrix and range and the output's sample type and
// normalisation (transform_rgb), or a resized 4:2:0 rendition at the output's depth
// (transform_yuv); one launch per frame, reading NV12 or P016 straight from the decoder's
// surface.
//
// It runs the CPU path's plan (src/transform/plan.rs, apply.rs): the same tap tables,
// coefficients and order of sums, in f32, so GPU and CPU agree within float rounding (the
// accuracy tests hold both to 1 LSB of uint8 and 1e-3 of float against a float64 reference).
//
// Compiled to PTX by scripts/build-ptx.sh with clang's CUDA front end and no CUDA headers
// (the few builtins it needs are spelt below), so any machine with clang can rebuild it.

#define KERNEL extern "C" __attribute__((global))
#define DEVICE static __attribute__((device)) inline

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

// One axis's taps (device pointers): output sample j reads idx[off[j]..off[j+1]] with
// weights w[...]; no taps: a letterbox bar.
struct Taps {
    u64 off;  // u32[n + 1]
    u64 idx;  // u32[]
    u64 w;    // f32[]
};

// Same field order and C layout as `TransformParams` in src/backend/nvidia/transform.rs.
struct Params {
    u64 luma;     // source luma plane
    u64 chroma;   // source interleaved CbCr plane
    u64 dst;      // output
    struct Taps lx, ly, cx, cy;
    int luma_pitch, chroma_pitch;  // bytes
    int wide;                      // 16-bit samples, value in the high 10 bits (P016)
    int width, height;             // output pixels
    float y_off, y_scale, c_off, c_scale;
    float rv, gu, gv, bu;
    int identity;                  // GBR: every channel scaled as luma
    float pad[3];                  // letterbox R, G, B in [0, 1]
    float mul[3], add[3];          // float output: v01 * mul + add
    int sample;                    // 0 uint8, 1 float16, 2 float32
    int channels;                  // 3 or 4 (alpha, uint8 packed only)
    int pos[3];                    // channel position of R, G, B
    int planar;
    int dst_pitch;                 // bytes per output row (of each plane when planar)
    // transform_yuv only (pad above holds the letterbox Y, Cb, Cr in source code values):
    int yuv_store;                 // 0 8-bit planar, 1 8-bit CbCr interleaved, 2 16-bit low bits planar,
                                   // 3 16-bit high bits (<< 6) CbCr interleaved
    int chroma_width, chroma_height;  // output chroma samples
    int chroma_pitch_out;          // bytes per output chroma row
    int u_offset, v_offset;        // bytes from dst to the Cb plane / the Cr plane (interleaved: v = u)
    float gain;                    // depth change: 2^(output depth - source depth)
    float max_code;                // largest output code value
    int rotate;                    // quarter turns counter-clockwise each sample is stored with
    int out_height;                // rows of each planar RGB output plane (the turned height)
};

DEVICE u32 tid_x() { return __nvvm_read_ptx_sreg_tid_x(); }
DEVICE u32 tid_y() { return __nvvm_read_ptx_sreg_tid_y(); }
DEVICE u32 cta_x() { return __nvvm_read_ptx_sreg_ctaid_x(); }
DEVICE u32 cta_y() { return __nvvm_read_ptx_sreg_ctaid_y(); }
DEVICE u32 ntid_x() { return __nvvm_read_ptx_sreg_ntid_x(); }
DEVICE u32 ntid_y() { return __nvvm_read_ptx_sreg_ntid_y(); }

DEVICE u32 ld_u32(u64 base, int i) { return __nvvm_ldg_ui((const u32*)base + i); }
DEVICE float ld_f32(u64 base, int i) { return __nvvm_ldg_f((const float*)base + i); }

// Sample `col` of row `row` of a plane (code value: 10-bit values from P016's high bits).
DEVICE float sample(u64 plane, int pitch, int wide, int row, int col) {
    u64 at = plane + (u64)row * (u64)pitch;
    if (wide) {
        return (float)(__nvvm_ldg_us((const u16*)at + col) >> 6);
    }
    return (float)__nvvm_ldg_uc((const u8*)at + col);
}

// One component at output (ox, oy): the vertical taps over the horizontally filtered rows,
// summed in the CPU path's order. `step`/`phase` pick a component of an interleaved plane.
DEVICE float component(u64 plane, int pitch, int wide, int step, int phase, struct Taps x, struct Taps y, int ox, int oy) {
    int y0 = (int)ld_u32(y.off, oy), y1 = (int)ld_u32(y.off, oy + 1);
    int x0 = (int)ld_u32(x.off, ox), x1 = (int)ld_u32(x.off, ox + 1);
    float acc = 0.0f;
    for (int ty = y0; ty < y1; ++ty) {
        int row = (int)ld_u32(y.idx, ty);
        float h = 0.0f;
        for (int tx = x0; tx < x1; ++tx) {
            h += ld_f32(x.w, tx) * sample(plane, pitch, wide, row, (int)ld_u32(x.idx, tx) * step + phase);
        }
        acc += ld_f32(y.w, ty) * h;
    }
    return acc;
}

DEVICE float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

// Where sample (ox, oy) of an unturned w x h plane is stored once the output is turned `q`
// quarter turns counter-clockwise (numpy's rot90 with k = q; src/transform/rotate.rs).
DEVICE void turned(int q, int w, int h, int ox, int oy, int* dx, int* dy) {
    if (q == 1) {
        *dx = oy;
        *dy = w - 1 - ox;
    } else if (q == 2) {
        *dx = w - 1 - ox;
        *dy = h - 1 - oy;
    } else if (q == 3) {
        *dx = h - 1 - oy;
        *dy = ox;
    } else {
        *dx = ox;
        *dy = oy;
    }
}

// Stores component c of output pixel (ox, oy) (already turned: see `turned`).
DEVICE void store(const struct Params* p, int ox, int oy, int c, float v) {
    int size = p->sample == 0 ? 1 : (p->sample == 1 ? 2 : 4);
    int pos = p->pos[c];
    u64 at = p->planar ? p->dst + ((u64)pos * (u64)p->out_height + (u64)oy) * (u64)p->dst_pitch + (u64)ox * size
                       : p->dst + (u64)oy * (u64)p->dst_pitch + ((u64)ox * p->channels + pos) * size;
    float v01 = clamp01(v);
    if (p->sample == 0) {
        *(u8*)at = (u8)(v01 * 255.0f + 0.5f);
    } else if (p->sample == 1) {
        *(u16*)at = __nvvm_f2h_rn(v01 * p->mul[c] + p->add[c]);
    } else {
        *(float*)at = v01 * p->mul[c] + p->add[c];
    }
}

KERNEL void transform_rgb(struct Params p) {
    int ox = (int)(cta_x() * ntid_x() + tid_x());
    int oy = (int)(cta_y() * ntid_y() + tid_y());
    if (ox >= p.width || oy >= p.height) {
        return;
    }
    float r, g, b;
    int in_picture = ld_u32(p.ly.off, oy) != ld_u32(p.ly.off, oy + 1) && ld_u32(p.lx.off, ox) != ld_u32(p.lx.off, ox + 1);
    if (!in_picture) {
        r = p.pad[0];
        g = p.pad[1];
        b = p.pad[2];
    } else {
        float yv = component(p.luma, p.luma_pitch, p.wide, 1, 0, p.lx, p.ly, ox, oy);
        float cb = component(p.chroma, p.chroma_pitch, p.wide, 2, 0, p.cx, p.cy, ox, oy);
        float cr = component(p.chroma, p.chroma_pitch, p.wide, 2, 1, p.cx, p.cy, ox, oy);
        float yy = (yv - p.y_off) * p.y_scale;
        if (p.identity) {
            r = (cr - p.y_off) * p.y_scale;
            g = yy;
            b = (cb - p.y_off) * p.y_scale;
        } else {
            float u = (cb - p.c_off) * p.c_scale;
            float v = (cr - p.c_off) * p.c_scale;
            r = yy + p.rv * v;
            g = yy + p.gu * u + p.gv * v;
            b = yy + p.bu * u;
        }
    }
    int dx, dy;
    turned(p.rotate, p.width, p.height, ox, oy, &dx, &dy);
    store(&p, dx, dy, 0, r);
    store(&p, dx, dy, 1, g);
    store(&p, dx, dy, 2, b);
    if (p.channels == 4) {
        *(u8*)(p.dst + (u64)dy * (u64)p.dst_pitch + (u64)dx * 4 + 3) = 255;
    }
}

// One sample of a resized 4:2:0 rendition per thread: component blockIdx.z (0 Y, 1 Cb, 2 Cr)
// at (ox, oy) of its plane, quantised as the CPU path does ((v * gain + 0.5), clamped).
KERNEL void transform_yuv(struct Params p) {
    int c = (int)__nvvm_read_ptx_sreg_ctaid_z();
    int ox = (int)(cta_x() * ntid_x() + tid_x());
    int oy = (int)(cta_y() * ntid_y() + tid_y());
    int w = c == 0 ? p.width : p.chroma_width;
    int h = c == 0 ? p.height : p.chroma_height;
    if (ox >= w || oy >= h) {
        return;
    }
    // Fields picked one by one with constant indices: indexing the parameter by the
    // component (p.pad[c], a whole Taps chosen at run time) made the compiler copy the
    // 280-byte parameter block to local memory in every thread, 7x slower.
    struct Taps x, y;
    x.off = c == 0 ? p.lx.off : p.cx.off;
    x.idx = c == 0 ? p.lx.idx : p.cx.idx;
    x.w = c == 0 ? p.lx.w : p.cx.w;
    y.off = c == 0 ? p.ly.off : p.cy.off;
    y.idx = c == 0 ? p.ly.idx : p.cy.idx;
    y.w = c == 0 ? p.ly.w : p.cy.w;
    float v;
    int in_picture = ld_u32(y.off, oy) != ld_u32(y.off, oy + 1) && ld_u32(x.off, ox) != ld_u32(x.off, ox + 1);
    if (!in_picture) {
        v = c == 0 ? p.pad[0] : (c == 1 ? p.pad[1] : p.pad[2]);
    } else if (c == 0) {
        v = component(p.luma, p.luma_pitch, p.wide, 1, 0, x, y, ox, oy);
    } else {
        v = component(p.chroma, p.chroma_pitch, p.wide, 2, c - 1, x, y, ox, oy);
    }
    float q = v * p.gain + 0.5f;
    q = q < 0.0f ? 0.0f : (q > p.max_code ? p.max_code : q);
    u32 code = (u32)q;
    int interleaved = p.yuv_store == 1 || p.yuv_store == 3;
    int wide_out = p.yuv_store >= 2;
    int dx, dy;
    turned(p.rotate, w, h, ox, oy, &dx, &dy);
    u64 row = c == 0 ? p.dst + (u64)dy * (u64)p.dst_pitch
                     : p.dst + (u64)(c == 2 && !interleaved ? p.v_offset : p.u_offset) + (u64)dy * (u64)p.chroma_pitch_out;
    int col = (c == 0 || !interleaved) ? dx : 2 * dx + (c - 1);
    if (wide_out) {
        ((u16*)row)[col] = (u16)(p.yuv_store == 3 ? code << 6 : code);
    } else {
        ((u8*)row)[col] = (u8)code;
    }
}

