// Tiled matrix multiply, the body shared by both precisions: C += A * B,
// all row-major, any M, N, K >= 1. A header composed in front of it
// (matmul_f32.wgsl, matmul_f16.wgsl) names the element type of A and B as
// `elem`; products and sums are f32 either way (an f16 value converts to
// f32 exactly and a product of two is exact in f32, so the only rounding
// is that of an f32 sum), and C is f32. matmul_dims.wgsl and
// matmul_acc.wgsl, composed after it, hold the Dims struct and the
// accumulators and the store.
//
// Bindings (group 0):
//   0 a    array<elem>       M x K    (entries `main`, `rows_vec4`)
//   1 b    array<elem>       K x N    (entry `main`)
//   2 c    array<f32>        M x N    (every entry)
//   3 dims Dims              (M, N, K, first workgroup row: a long
//                            multiply is split into bands of rows);
//                            read-only storage, not a uniform, so that
//                            drivers which specialise on uniform values
//                            (lavapipe) do not recompile for every size
//   4 a4   array<vec4<elem>> A again, four K-consecutive values per element
//   5 b4   array<vec4<elem>> B again, four N-consecutive values per element
//   6 ta   texture_2d<f32>   A again as a (K/4) x M four-channel texture
//   7 tb   texture_2d<f32>   B again as a (N/4) x K four-channel texture
//                            (rgba32float or rgba16float, read as f32)
// `main` loads with scalars and suits every shape; `main_vec4` loads whole
// vec4s and needs K % 4 == 0 and N % 4 == 0; `rows_vec4` and `rows_tex`
// (for CPU adapters, see there) need N % 4 == 0, `rows_tex` K % 4 == 0 too.

// Layout: a workgroup of WG_X x WG_Y invocations owns a BM x BN block of C
// (BM = WG_Y * TM, BN = WG_X * 4 * TNV). It walks K in steps of BK, staging
// a BM x BK tile of A (stored K-major, so the inner loop reads a column) and
// a BK x BN tile of B in workgroup memory. Each invocation accumulates TM
// rows x TNV vec4 columns of C in registers; its rows are ly + i * WG_Y and
// its vec4 columns lx + j * WG_X, so neighbouring invocations touch
// neighbouring addresses on every load and store. Out-of-range elements are
// staged as zeros, so partial tiles at the edges need no other care; only
// the final store is guarded.
//
// C[i][j] = sum over k of A[i][k] * B[k][j], accumulated in f32 with fma().

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
// Rows (4, 8 or 16) and vec4 columns (1, 2 or 4) of C per invocation.
override TM: u32 = 4u;
override TNV: u32 = 1u;

override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * 4u * TNV;
override THREADS: u32 = WG_X * WG_Y;

@group(0) @binding(0) var<storage, read> a: array<elem>;
@group(0) @binding(1) var<storage, read> b: array<elem>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> dims: Dims;
@group(0) @binding(4) var<storage, read> a4: array<vec4<elem>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<elem>>;
// A and B again as four-channel float textures, for `rows_tex`.
@group(0) @binding(6) var ta: texture_2d<f32>;
@group(0) @binding(7) var tb: texture_2d<f32>;

fn ld_a(i: u32) -> f32 {
    return f32(a[i]);
}

fn ld_b(i: u32) -> f32 {
    return f32(b[i]);
}

fn ld_a4(i: u32) -> vec4<f32> {
    return vec4<f32>(a4[i]);
}

fn ld_b4(i: u32) -> vec4<f32> {
    return vec4<f32>(b4[i]);
}

// As[k * BM + row], Bs[k * BN / 4 + col4].
var<workgroup> As: array<f32, BK * BM>;
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>;

// One BK-deep step on the staged tiles.
fn multiply_tile(lx: u32, ly: u32) {
    for (var kk = 0u; kk < BK; kk += 1u) {
        let bb = kk * (BN / 4u) + lx;
        let b0 = Bs[bb];
        var b1 = b0;
        var b2 = b0;
        var b3 = b0;
        if (TNV > 1u) {
            b1 = Bs[bb + WG_X];
        }
        if (TNV > 2u) {
            b2 = Bs[bb + 2u * WG_X];
            b3 = Bs[bb + 3u * WG_X];
        }
        let ab = kk * BM + ly;
        let a0 = vec4<f32>(As[ab], As[ab + WG_Y], As[ab + 2u * WG_Y], As[ab + 3u * WG_Y]);
        var a1 = a0;
        var a2 = a0;
        var a3 = a0;
        if (TM > 4u) {
            let o = ab + 4u * WG_Y;
            a1 = vec4<f32>(As[o], As[o + WG_Y], As[o + 2u * WG_Y], As[o + 3u * WG_Y]);
        }
        if (TM > 8u) {
            let o = ab + 8u * WG_Y;
            a2 = vec4<f32>(As[o], As[o + WG_Y], As[o + 2u * WG_Y], As[o + 3u * WG_Y]);
            let p = ab + 12u * WG_Y;
            a3 = vec4<f32>(As[p], As[p + WG_Y], As[p + 2u * WG_Y], As[p + 3u * WG_Y]);
        }
        fma_step(a0, a1, a2, a3, b0, b1, b2, b3);
    }
}

fn load_tiles_scalar(lid: u32, row0: u32, col0: u32, k0: u32, m: u32, n: u32, k: u32) {
    for (var e = lid; e < BM * BK; e += THREADS) {
        let r = e / BK;
        let q = e % BK;
        var v = 0.0;
        if (row0 + r < m && k0 + q < k) {
            v = ld_a((row0 + r) * k + k0 + q);
        }
        As[q * BM + r] = v;
    }
    for (var e = lid; e < BK * BN; e += THREADS) {
        let r = e / BN;
        let q = e % BN;
        var v = 0.0;
        if (k0 + r < k && col0 + q < n) {
            v = ld_b((k0 + r) * n + col0 + q);
        }
        Bs[r * (BN / 4u) + q / 4u][q % 4u] = v;
    }
}

fn load_tiles_vec4(lid: u32, row0: u32, col0: u32, k0: u32, m: u32, n: u32, k: u32) {
    let k4 = k / 4u;
    for (var e = lid; e < BM * BK / 4u; e += THREADS) {
        let r = e / (BK / 4u);
        let q4 = e % (BK / 4u);
        var v = vec4<f32>(0.0);
        if (row0 + r < m && k0 + q4 * 4u < k) {
            v = ld_a4((row0 + r) * k4 + k0 / 4u + q4);
        }
        let base = q4 * 4u * BM + r;
        As[base] = v.x;
        As[base + BM] = v.y;
        As[base + 2u * BM] = v.z;
        As[base + 3u * BM] = v.w;
    }
    let n4 = n / 4u;
    for (var e = lid; e < BK * BN / 4u; e += THREADS) {
        let r = e / (BN / 4u);
        let q4 = e % (BN / 4u);
        var v = vec4<f32>(0.0);
        if (k0 + r < k && col0 + q4 * 4u < n) {
            v = ld_b4((k0 + r) * n4 + col0 / 4u + q4);
        }
        Bs[e] = v;
    }
}

// K steps of BK for both tiled entries; the last one may be partial.
fn k_tiles(k: u32) -> u32 {
    return (k + BK - 1u) / BK;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) g: vec3<u32>) {
    let m = dims.x;
    let n = dims.y;
    let k = dims.z;
    let row0 = (g.y + dims.w) * BM;
    let col0 = g.x * BN;
    let lid = l.y * WG_X + l.x;
    clear_acc();
    let num_k_tiles = k_tiles(k);
    for (var t = 0u; t < num_k_tiles; t += 1u) {
        load_tiles_scalar(lid, row0, col0, t * BK, m, n, k);
        workgroupBarrier();
        multiply_tile(l.x, l.y);
        workgroupBarrier();
    }
    store_c(row0 + l.y, WG_Y, col0 / 4u + l.x, WG_X, m, n);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_vec4(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) g: vec3<u32>) {
    let m = dims.x;
    let n = dims.y;
    let k = dims.z;
    let row0 = (g.y + dims.w) * BM;
    let col0 = g.x * BN;
    let lid = l.y * WG_X + l.x;
    clear_acc();
    let num_k_tiles = k_tiles(k);
    for (var t = 0u; t < num_k_tiles; t += 1u) {
        load_tiles_vec4(lid, row0, col0, t * BK, m, n, k);
        workgroupBarrier();
        multiply_tile(l.x, l.y);
        workgroupBarrier();
    }
    store_c(row0 + l.y, WG_Y, col0 / 4u + l.x, WG_X, m, n);
}

// A layout for adapters that run invocations as SIMD lanes of a CPU
// (lavapipe, SwiftShader): there, a load whose address differs between
// lanes is done lane by lane. So a workgroup here is one row of WG_X
// invocations sharing TM rows of C; each invocation loads TNV vec4s of B
// per K step and reuses each for TM rows, and the A value of a row is the
// same for the whole workgroup. No workgroup memory, no barriers. Indices
// are clamped instead of branched on, so the loop has no divergent control
// flow; clamped rows and columns are discarded at the store. Needs
// N % 4 == 0 (b4); WG_Y must be 1, and the rows of C are at g.y * TM.
@compute @workgroup_size(WG_X, 1, 1)
fn rows_vec4(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) g: vec3<u32>) {
    let m = dims.x;
    let n = dims.y;
    let k = dims.z;
    let n4 = n / 4u;
    let row0 = (g.y + dims.w) * TM;
    let col40 = g.x * WG_X * TNV + l.x;
    let last = m - 1u;
    let r0 = min(row0 + 0u, last) * k;
    let r1 = min(row0 + 1u, last) * k;
    let r2 = min(row0 + 2u, last) * k;
    let r3 = min(row0 + 3u, last) * k;
    let r4 = min(row0 + 4u, last) * k;
    let r5 = min(row0 + 5u, last) * k;
    let r6 = min(row0 + 6u, last) * k;
    let r7 = min(row0 + 7u, last) * k;
    let r8 = min(row0 + 8u, last) * k;
    let r9 = min(row0 + 9u, last) * k;
    let r10 = min(row0 + 10u, last) * k;
    let r11 = min(row0 + 11u, last) * k;
    let r12 = min(row0 + 12u, last) * k;
    let r13 = min(row0 + 13u, last) * k;
    let r14 = min(row0 + 14u, last) * k;
    let r15 = min(row0 + 15u, last) * k;
    let cl = n4 - 1u;
    let c0 = min(col40 + 0u * WG_X, cl);
    let c1 = min(col40 + 1u * WG_X, cl);
    let c2 = min(col40 + 2u * WG_X, cl);
    let c3 = min(col40 + 3u * WG_X, cl);
    clear_acc();
    for (var kk = 0u; kk < k; kk += 1u) {
        let o = kk * n4;
        let b0 = ld_b4(o + c0);
        var b1 = b0;
        var b2 = b0;
        var b3 = b0;
        if (TNV > 1u) {
            b1 = ld_b4(o + c1);
        }
        if (TNV > 2u) {
            b2 = ld_b4(o + c2);
            b3 = ld_b4(o + c3);
        }
        let a0 = vec4<f32>(ld_a(r0 + kk), ld_a(r1 + kk), ld_a(r2 + kk), ld_a(r3 + kk));
        var a1 = a0;
        var a2 = a0;
        var a3 = a0;
        if (TM > 4u) {
            a1 = vec4<f32>(ld_a(r4 + kk), ld_a(r5 + kk), ld_a(r6 + kk), ld_a(r7 + kk));
        }
        if (TM > 8u) {
            a2 = vec4<f32>(ld_a(r8 + kk), ld_a(r9 + kk), ld_a(r10 + kk), ld_a(r11 + kk));
            a3 = vec4<f32>(ld_a(r12 + kk), ld_a(r13 + kk), ld_a(r14 + kk), ld_a(r15 + kk));
        }
        fma_step(a0, a1, a2, a3, b0, b1, b2, b3);
    }
    store_c(row0, 1u, col40, WG_X, m, n);
}

// `rows_vec4` with A and B read through textures: a CPU adapter fetches a
// texel for every lane with straight-line vector code, where a per-lane
// buffer load is a loop over the lanes. One texel of A holds four K steps
// of one row; one texel of B four columns of one K step.
@compute @workgroup_size(WG_X, 1, 1)
fn rows_tex(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) g: vec3<u32>) {
    let m = dims.x;
    let n = dims.y;
    let k = dims.z;
    let n4 = n / 4u;
    let row0 = (g.y + dims.w) * TM;
    let col40 = g.x * WG_X * TNV + l.x;
    let last = m - 1u;
    let r0 = min(row0 + 0u, last);
    let r1 = min(row0 + 1u, last);
    let r2 = min(row0 + 2u, last);
    let r3 = min(row0 + 3u, last);
    let r4 = min(row0 + 4u, last);
    let r5 = min(row0 + 5u, last);
    let r6 = min(row0 + 6u, last);
    let r7 = min(row0 + 7u, last);
    let r8 = min(row0 + 8u, last);
    let r9 = min(row0 + 9u, last);
    let r10 = min(row0 + 10u, last);
    let r11 = min(row0 + 11u, last);
    let r12 = min(row0 + 12u, last);
    let r13 = min(row0 + 13u, last);
    let r14 = min(row0 + 14u, last);
    let r15 = min(row0 + 15u, last);
    let cl = n4 - 1u;
    let c0 = min(col40 + 0u * WG_X, cl);
    let c1 = min(col40 + 1u * WG_X, cl);
    let c2 = min(col40 + 2u * WG_X, cl);
    let c3 = min(col40 + 3u * WG_X, cl);
    clear_acc();
    for (var k4 = 0u; k4 < k / 4u; k4 += 1u) {
        let x0 = textureLoad(ta, vec2<u32>(k4, r0), 0);
        let x1 = textureLoad(ta, vec2<u32>(k4, r1), 0);
        let x2 = textureLoad(ta, vec2<u32>(k4, r2), 0);
        let x3 = textureLoad(ta, vec2<u32>(k4, r3), 0);
        var x4 = x0;
        var x5 = x0;
        var x6 = x0;
        var x7 = x0;
        var x8 = x0;
        var x9 = x0;
        var x10 = x0;
        var x11 = x0;
        var x12 = x0;
        var x13 = x0;
        var x14 = x0;
        var x15 = x0;
        if (TM > 4u) {
            x4 = textureLoad(ta, vec2<u32>(k4, r4), 0);
            x5 = textureLoad(ta, vec2<u32>(k4, r5), 0);
            x6 = textureLoad(ta, vec2<u32>(k4, r6), 0);
            x7 = textureLoad(ta, vec2<u32>(k4, r7), 0);
        }
        if (TM > 8u) {
            x8 = textureLoad(ta, vec2<u32>(k4, r8), 0);
            x9 = textureLoad(ta, vec2<u32>(k4, r9), 0);
            x10 = textureLoad(ta, vec2<u32>(k4, r10), 0);
            x11 = textureLoad(ta, vec2<u32>(k4, r11), 0);
            x12 = textureLoad(ta, vec2<u32>(k4, r12), 0);
            x13 = textureLoad(ta, vec2<u32>(k4, r13), 0);
            x14 = textureLoad(ta, vec2<u32>(k4, r14), 0);
            x15 = textureLoad(ta, vec2<u32>(k4, r15), 0);
        }
        for (var q = 0u; q < 4u; q += 1u) {
            let kk = k4 * 4u + q;
            let b0 = textureLoad(tb, vec2<u32>(c0, kk), 0);
            var b1 = b0;
            var b2 = b0;
            var b3 = b0;
            if (TNV > 1u) {
                b1 = textureLoad(tb, vec2<u32>(c1, kk), 0);
            }
            if (TNV > 2u) {
                b2 = textureLoad(tb, vec2<u32>(c2, kk), 0);
                b3 = textureLoad(tb, vec2<u32>(c3, kk), 0);
            }
            let a0 = vec4<f32>(x0[q], x1[q], x2[q], x3[q]);
            let a1 = vec4<f32>(x4[q], x5[q], x6[q], x7[q]);
            let a2 = vec4<f32>(x8[q], x9[q], x10[q], x11[q]);
            let a3 = vec4<f32>(x12[q], x13[q], x14[q], x15[q]);
            fma_step(a0, a1, a2, a3, b0, b1, b2, b3);
        }
    }
    store_c(row0, 1u, col40, WG_X, m, n);
}
