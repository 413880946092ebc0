// Tiled matrix multiply with f16 inputs: C = A * B, all row-major, any
// M, N, K >= 1. A and B are f16; products and sums are f32 (f32
// accumulation: each f16 value converts to f32 exactly and a product of two
// of them is exact in f32, so the only rounding is that of an f32 sum), and
// C is f32. Layout, entries and tiling are those of matmul.wgsl, with the
// tiles staged in workgroup memory as f32.
//
// Bindings (group 0):
//   0 a    array<f16>        M x K    (entries `main`, `rows_vec4`)
//   1 b    array<f16>        K x N    (entry `main`)
//   2 c    array<f32>        M x N    (every entry)
//   3 dims vec4<u32>         (M, N, K, first workgroup row); read-only
//                            storage rather than a uniform, so drivers that
//                            specialise on uniform values do not recompile
//   4 a4   array<vec4<f16>>  A again, four K-consecutive values per element
//   5 b4   array<vec4<f16>>  B again, four N-consecutive values per element
// `main_vec4` needs K % 4 == 0 and N % 4 == 0, `rows_vec4` N % 4 == 0.

enable f16;

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
// Rows (4 or 8) and vec4 columns (1 or 2) of C per invocation.
override TM: u32 = 4u;
override TNV: u32 = 1u;

override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * 4u * TNV;
override THREADS: u32 = WG_X * WG_Y;

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<f16>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> dims: vec4<u32>;
@group(0) @binding(4) var<storage, read> a4: array<vec4<f16>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f16>>;

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

// Accumulators: TM x TNV vec4s of C per invocation, in named variables so
// that no driver has to promote an array to registers (an array indexed in
// a loop may end up in local memory). TM is 4 or 8 and TNV 1 or 2; the
// branches on them are constant once the overrides are set.

var<private> acc00: vec4<f32>;
var<private> acc01: vec4<f32>;
var<private> acc10: vec4<f32>;
var<private> acc11: vec4<f32>;
var<private> acc20: vec4<f32>;
var<private> acc21: vec4<f32>;
var<private> acc30: vec4<f32>;
var<private> acc31: vec4<f32>;
var<private> acc40: vec4<f32>;
var<private> acc41: vec4<f32>;
var<private> acc50: vec4<f32>;
var<private> acc51: vec4<f32>;
var<private> acc60: vec4<f32>;
var<private> acc61: vec4<f32>;
var<private> acc70: vec4<f32>;
var<private> acc71: vec4<f32>;

fn clear_acc() {
    acc00 = vec4<f32>(0.0);
    acc01 = vec4<f32>(0.0);
    acc10 = vec4<f32>(0.0);
    acc11 = vec4<f32>(0.0);
    acc20 = vec4<f32>(0.0);
    acc21 = vec4<f32>(0.0);
    acc30 = vec4<f32>(0.0);
    acc31 = vec4<f32>(0.0);
    acc40 = vec4<f32>(0.0);
    acc41 = vec4<f32>(0.0);
    acc50 = vec4<f32>(0.0);
    acc51 = vec4<f32>(0.0);
    acc60 = vec4<f32>(0.0);
    acc61 = vec4<f32>(0.0);
    acc70 = vec4<f32>(0.0);
    acc71 = vec4<f32>(0.0);
}

// acc[i][j] += a_i * b_j for the rows and columns this shape has.
fn fma_step(a0: f32, a1: f32, a2: f32, a3: f32, b0: vec4<f32>, b1: vec4<f32>) {
    acc00 = fma(vec4<f32>(a0), b0, acc00);
    acc10 = fma(vec4<f32>(a1), b0, acc10);
    acc20 = fma(vec4<f32>(a2), b0, acc20);
    acc30 = fma(vec4<f32>(a3), b0, acc30);
    if (TNV > 1u) {
        acc01 = fma(vec4<f32>(a0), b1, acc01);
        acc11 = fma(vec4<f32>(a1), b1, acc11);
        acc21 = fma(vec4<f32>(a2), b1, acc21);
        acc31 = fma(vec4<f32>(a3), b1, acc31);
    }
}

fn fma_step_hi(a4: f32, a5: f32, a6: f32, a7: f32, b0: vec4<f32>, b1: vec4<f32>) {
    acc40 = fma(vec4<f32>(a4), b0, acc40);
    acc50 = fma(vec4<f32>(a5), b0, acc50);
    acc60 = fma(vec4<f32>(a6), b0, acc60);
    acc70 = fma(vec4<f32>(a7), b0, acc70);
    if (TNV > 1u) {
        acc41 = fma(vec4<f32>(a4), b1, acc41);
        acc51 = fma(vec4<f32>(a5), b1, acc51);
        acc61 = fma(vec4<f32>(a6), b1, acc61);
        acc71 = fma(vec4<f32>(a7), b1, acc71);
    }
}

fn get_acc(i: u32, j: u32) -> vec4<f32> {
    switch (i * 2u + j) {
        case 0u: { return acc00; }
        case 1u: { return acc01; }
        case 2u: { return acc10; }
        case 3u: { return acc11; }
        case 4u: { return acc20; }
        case 5u: { return acc21; }
        case 6u: { return acc30; }
        case 7u: { return acc31; }
        case 8u: { return acc40; }
        case 9u: { return acc41; }
        case 10u: { return acc50; }
        case 11u: { return acc51; }
        case 12u: { return acc60; }
        case 13u: { return acc61; }
        case 14u: { return acc70; }
        case 15u: { return acc71; }
        default: { return vec4<f32>(0.0); }
    }
}


// One BK-deep step on the staged tiles.
fn multiply_tile(lx: u32, ly: u32) {
    for (var kk = 0u; kk < BK; kk += 1u) {
        let bb = kk * (BN / 4u) + lx;
        let b0 = Bs[bb];
        var b1 = b0;
        if (TNV > 1u) {
            b1 = Bs[bb + WG_X];
        }
        let ab = kk * BM + ly;
        fma_step(As[ab], As[ab + WG_Y], As[ab + 2u * WG_Y], As[ab + 3u * WG_Y], b0, b1);
        if (TM > 4u) {
            fma_step_hi(As[ab + 4u * WG_Y], As[ab + 5u * WG_Y], As[ab + 6u * WG_Y], As[ab + 7u * WG_Y], b0, b1);
        }
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

// Writes the accumulators of the invocation whose first row and first
// vec4 column of C are `row` and `col4`, rows `row_step` and vec4 columns
// `col4_step` apart.
fn store_c(row: u32, row_step: u32, col4: u32, col4_step: u32, m: u32, n: u32) {
    for (var i = 0u; i < TM; i += 1u) {
        let r = row + i * row_step;
        if (r >= m) {
            continue;
        }
        for (var j = 0u; j < TNV; j += 1u) {
            let col = (col4 + j * col4_step) * 4u;
            let v = get_acc(i, j);
            for (var q = 0u; q < 4u; q += 1u) {
                if (col + q < n) {
                    c[r * n + col + q] = v[q];
                }
            }
        }
    }
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
    let num_k_tiles = (k + BK - 1u) / BK;
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
    let num_k_tiles = (k + BK - 1u) / BK;
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
    let r0 = min(row0, last) * k;
    let r1 = min(row0 + 1u, last) * k;
    let r2 = min(row0 + 2u, last) * k;
    let r3 = min(row0 + 3u, last) * k;
    let r4 = min(row0 + 4u, last) * k;
    let r5 = min(row0 + 5u, last) * k;
    let r6 = min(row0 + 6u, last) * k;
    let r7 = min(row0 + 7u, last) * k;
    let c0 = min(col40, n4 - 1u);
    let c1 = min(col40 + WG_X, n4 - 1u);
    clear_acc();
    for (var kk = 0u; kk < k; kk += 1u) {
        let b0 = ld_b4(kk * n4 + c0);
        var b1 = b0;
        if (TNV > 1u) {
            b1 = ld_b4(kk * n4 + c1);
        }
        fma_step(ld_a(r0 + kk), ld_a(r1 + kk), ld_a(r2 + kk), ld_a(r3 + kk), b0, b1);
        if (TM > 4u) {
            fma_step_hi(ld_a(r4 + kk), ld_a(r5 + kk), ld_a(r6 + kk), ld_a(r7 + kk), b0, b1);
        }
    }
    store_c(row0, 1u, col40, WG_X, m, n);
}
