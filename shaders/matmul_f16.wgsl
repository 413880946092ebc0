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
//   6 ta   texture_2d<f32>   A again as a (K/4) x M four-channel texture
//   7 tb   texture_2d<f32>   B again as a (N/4) x K four-channel texture
// `main_vec4` and `rows_tex` need K % 4 == 0 and N % 4 == 0, `rows_vec4`
// N % 4 == 0. The textures are rgba16float, read as f32.

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
// Rows (4, 8 or 16) and vec4 columns (1, 2 or 4) of C per invocation.
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

// Accumulators: TM x TNV vec4s of C per invocation, in named variables so
// that no driver has to promote an array to registers (an array indexed in
// a loop may end up in local memory). TM is 4, 8 or 16 and TNV 1, 2 or 4;
// the branches on them are constant once the overrides are set.

var<private> acc000: vec4<f32>;
var<private> acc001: vec4<f32>;
var<private> acc002: vec4<f32>;
var<private> acc003: vec4<f32>;
var<private> acc010: vec4<f32>;
var<private> acc011: vec4<f32>;
var<private> acc012: vec4<f32>;
var<private> acc013: vec4<f32>;
var<private> acc020: vec4<f32>;
var<private> acc021: vec4<f32>;
var<private> acc022: vec4<f32>;
var<private> acc023: vec4<f32>;
var<private> acc030: vec4<f32>;
var<private> acc031: vec4<f32>;
var<private> acc032: vec4<f32>;
var<private> acc033: vec4<f32>;
var<private> acc040: vec4<f32>;
var<private> acc041: vec4<f32>;
var<private> acc042: vec4<f32>;
var<private> acc043: vec4<f32>;
var<private> acc050: vec4<f32>;
var<private> acc051: vec4<f32>;
var<private> acc052: vec4<f32>;
var<private> acc053: vec4<f32>;
var<private> acc060: vec4<f32>;
var<private> acc061: vec4<f32>;
var<private> acc062: vec4<f32>;
var<private> acc063: vec4<f32>;
var<private> acc070: vec4<f32>;
var<private> acc071: vec4<f32>;
var<private> acc072: vec4<f32>;
var<private> acc073: vec4<f32>;
var<private> acc080: vec4<f32>;
var<private> acc081: vec4<f32>;
var<private> acc082: vec4<f32>;
var<private> acc083: vec4<f32>;
var<private> acc090: vec4<f32>;
var<private> acc091: vec4<f32>;
var<private> acc092: vec4<f32>;
var<private> acc093: vec4<f32>;
var<private> acc100: vec4<f32>;
var<private> acc101: vec4<f32>;
var<private> acc102: vec4<f32>;
var<private> acc103: vec4<f32>;
var<private> acc110: vec4<f32>;
var<private> acc111: vec4<f32>;
var<private> acc112: vec4<f32>;
var<private> acc113: vec4<f32>;
var<private> acc120: vec4<f32>;
var<private> acc121: vec4<f32>;
var<private> acc122: vec4<f32>;
var<private> acc123: vec4<f32>;
var<private> acc130: vec4<f32>;
var<private> acc131: vec4<f32>;
var<private> acc132: vec4<f32>;
var<private> acc133: vec4<f32>;
var<private> acc140: vec4<f32>;
var<private> acc141: vec4<f32>;
var<private> acc142: vec4<f32>;
var<private> acc143: vec4<f32>;
var<private> acc150: vec4<f32>;
var<private> acc151: vec4<f32>;
var<private> acc152: vec4<f32>;
var<private> acc153: vec4<f32>;

fn clear_acc() {
    acc000 = vec4<f32>(0.0);
    acc001 = vec4<f32>(0.0);
    acc002 = vec4<f32>(0.0);
    acc003 = vec4<f32>(0.0);
    acc010 = vec4<f32>(0.0);
    acc011 = vec4<f32>(0.0);
    acc012 = vec4<f32>(0.0);
    acc013 = vec4<f32>(0.0);
    acc020 = vec4<f32>(0.0);
    acc021 = vec4<f32>(0.0);
    acc022 = vec4<f32>(0.0);
    acc023 = vec4<f32>(0.0);
    acc030 = vec4<f32>(0.0);
    acc031 = vec4<f32>(0.0);
    acc032 = vec4<f32>(0.0);
    acc033 = vec4<f32>(0.0);
    acc040 = vec4<f32>(0.0);
    acc041 = vec4<f32>(0.0);
    acc042 = vec4<f32>(0.0);
    acc043 = vec4<f32>(0.0);
    acc050 = vec4<f32>(0.0);
    acc051 = vec4<f32>(0.0);
    acc052 = vec4<f32>(0.0);
    acc053 = vec4<f32>(0.0);
    acc060 = vec4<f32>(0.0);
    acc061 = vec4<f32>(0.0);
    acc062 = vec4<f32>(0.0);
    acc063 = vec4<f32>(0.0);
    acc070 = vec4<f32>(0.0);
    acc071 = vec4<f32>(0.0);
    acc072 = vec4<f32>(0.0);
    acc073 = vec4<f32>(0.0);
    acc080 = vec4<f32>(0.0);
    acc081 = vec4<f32>(0.0);
    acc082 = vec4<f32>(0.0);
    acc083 = vec4<f32>(0.0);
    acc090 = vec4<f32>(0.0);
    acc091 = vec4<f32>(0.0);
    acc092 = vec4<f32>(0.0);
    acc093 = vec4<f32>(0.0);
    acc100 = vec4<f32>(0.0);
    acc101 = vec4<f32>(0.0);
    acc102 = vec4<f32>(0.0);
    acc103 = vec4<f32>(0.0);
    acc110 = vec4<f32>(0.0);
    acc111 = vec4<f32>(0.0);
    acc112 = vec4<f32>(0.0);
    acc113 = vec4<f32>(0.0);
    acc120 = vec4<f32>(0.0);
    acc121 = vec4<f32>(0.0);
    acc122 = vec4<f32>(0.0);
    acc123 = vec4<f32>(0.0);
    acc130 = vec4<f32>(0.0);
    acc131 = vec4<f32>(0.0);
    acc132 = vec4<f32>(0.0);
    acc133 = vec4<f32>(0.0);
    acc140 = vec4<f32>(0.0);
    acc141 = vec4<f32>(0.0);
    acc142 = vec4<f32>(0.0);
    acc143 = vec4<f32>(0.0);
    acc150 = vec4<f32>(0.0);
    acc151 = vec4<f32>(0.0);
    acc152 = vec4<f32>(0.0);
    acc153 = vec4<f32>(0.0);
}

// Rows 0..3: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows0(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc000 = fma(vec4<f32>(a.x), b0, acc000);
    acc010 = fma(vec4<f32>(a.y), b0, acc010);
    acc020 = fma(vec4<f32>(a.z), b0, acc020);
    acc030 = fma(vec4<f32>(a.w), b0, acc030);
    if (TNV > 1u) {
        acc001 = fma(vec4<f32>(a.x), b1, acc001);
        acc011 = fma(vec4<f32>(a.y), b1, acc011);
        acc021 = fma(vec4<f32>(a.z), b1, acc021);
        acc031 = fma(vec4<f32>(a.w), b1, acc031);
    }
    if (TNV > 2u) {
        acc002 = fma(vec4<f32>(a.x), b2, acc002);
        acc012 = fma(vec4<f32>(a.y), b2, acc012);
        acc022 = fma(vec4<f32>(a.z), b2, acc022);
        acc032 = fma(vec4<f32>(a.w), b2, acc032);
        acc003 = fma(vec4<f32>(a.x), b3, acc003);
        acc013 = fma(vec4<f32>(a.y), b3, acc013);
        acc023 = fma(vec4<f32>(a.z), b3, acc023);
        acc033 = fma(vec4<f32>(a.w), b3, acc033);
    }
}

// Rows 4..7: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows1(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc040 = fma(vec4<f32>(a.x), b0, acc040);
    acc050 = fma(vec4<f32>(a.y), b0, acc050);
    acc060 = fma(vec4<f32>(a.z), b0, acc060);
    acc070 = fma(vec4<f32>(a.w), b0, acc070);
    if (TNV > 1u) {
        acc041 = fma(vec4<f32>(a.x), b1, acc041);
        acc051 = fma(vec4<f32>(a.y), b1, acc051);
        acc061 = fma(vec4<f32>(a.z), b1, acc061);
        acc071 = fma(vec4<f32>(a.w), b1, acc071);
    }
    if (TNV > 2u) {
        acc042 = fma(vec4<f32>(a.x), b2, acc042);
        acc052 = fma(vec4<f32>(a.y), b2, acc052);
        acc062 = fma(vec4<f32>(a.z), b2, acc062);
        acc072 = fma(vec4<f32>(a.w), b2, acc072);
        acc043 = fma(vec4<f32>(a.x), b3, acc043);
        acc053 = fma(vec4<f32>(a.y), b3, acc053);
        acc063 = fma(vec4<f32>(a.z), b3, acc063);
        acc073 = fma(vec4<f32>(a.w), b3, acc073);
    }
}

// Rows 8..11: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows2(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc080 = fma(vec4<f32>(a.x), b0, acc080);
    acc090 = fma(vec4<f32>(a.y), b0, acc090);
    acc100 = fma(vec4<f32>(a.z), b0, acc100);
    acc110 = fma(vec4<f32>(a.w), b0, acc110);
    if (TNV > 1u) {
        acc081 = fma(vec4<f32>(a.x), b1, acc081);
        acc091 = fma(vec4<f32>(a.y), b1, acc091);
        acc101 = fma(vec4<f32>(a.z), b1, acc101);
        acc111 = fma(vec4<f32>(a.w), b1, acc111);
    }
    if (TNV > 2u) {
        acc082 = fma(vec4<f32>(a.x), b2, acc082);
        acc092 = fma(vec4<f32>(a.y), b2, acc092);
        acc102 = fma(vec4<f32>(a.z), b2, acc102);
        acc112 = fma(vec4<f32>(a.w), b2, acc112);
        acc083 = fma(vec4<f32>(a.x), b3, acc083);
        acc093 = fma(vec4<f32>(a.y), b3, acc093);
        acc103 = fma(vec4<f32>(a.z), b3, acc103);
        acc113 = fma(vec4<f32>(a.w), b3, acc113);
    }
}

// Rows 12..15: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows3(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc120 = fma(vec4<f32>(a.x), b0, acc120);
    acc130 = fma(vec4<f32>(a.y), b0, acc130);
    acc140 = fma(vec4<f32>(a.z), b0, acc140);
    acc150 = fma(vec4<f32>(a.w), b0, acc150);
    if (TNV > 1u) {
        acc121 = fma(vec4<f32>(a.x), b1, acc121);
        acc131 = fma(vec4<f32>(a.y), b1, acc131);
        acc141 = fma(vec4<f32>(a.z), b1, acc141);
        acc151 = fma(vec4<f32>(a.w), b1, acc151);
    }
    if (TNV > 2u) {
        acc122 = fma(vec4<f32>(a.x), b2, acc122);
        acc132 = fma(vec4<f32>(a.y), b2, acc132);
        acc142 = fma(vec4<f32>(a.z), b2, acc142);
        acc152 = fma(vec4<f32>(a.w), b2, acc152);
        acc123 = fma(vec4<f32>(a.x), b3, acc123);
        acc133 = fma(vec4<f32>(a.y), b3, acc133);
        acc143 = fma(vec4<f32>(a.z), b3, acc143);
        acc153 = fma(vec4<f32>(a.w), b3, acc153);
    }
}

// One K step: `a` holds the A values of rows 4g..4g+3, `b` the B vec4s.
fn fma_step(a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    fma_rows0(a0, b0, b1, b2, b3);
    if (TM > 4u) {
        fma_rows1(a1, b0, b1, b2, b3);
    }
    if (TM > 8u) {
        fma_rows2(a2, b0, b1, b2, b3);
        fma_rows3(a3, b0, b1, b2, b3);
    }
}

fn get_acc(i: u32, j: u32) -> vec4<f32> {
    switch (i * 4u + j) {
        case 0u: { return acc000; }
        case 1u: { return acc001; }
        case 2u: { return acc002; }
        case 3u: { return acc003; }
        case 4u: { return acc010; }
        case 5u: { return acc011; }
        case 6u: { return acc012; }
        case 7u: { return acc013; }
        case 8u: { return acc020; }
        case 9u: { return acc021; }
        case 10u: { return acc022; }
        case 11u: { return acc023; }
        case 12u: { return acc030; }
        case 13u: { return acc031; }
        case 14u: { return acc032; }
        case 15u: { return acc033; }
        case 16u: { return acc040; }
        case 17u: { return acc041; }
        case 18u: { return acc042; }
        case 19u: { return acc043; }
        case 20u: { return acc050; }
        case 21u: { return acc051; }
        case 22u: { return acc052; }
        case 23u: { return acc053; }
        case 24u: { return acc060; }
        case 25u: { return acc061; }
        case 26u: { return acc062; }
        case 27u: { return acc063; }
        case 28u: { return acc070; }
        case 29u: { return acc071; }
        case 30u: { return acc072; }
        case 31u: { return acc073; }
        case 32u: { return acc080; }
        case 33u: { return acc081; }
        case 34u: { return acc082; }
        case 35u: { return acc083; }
        case 36u: { return acc090; }
        case 37u: { return acc091; }
        case 38u: { return acc092; }
        case 39u: { return acc093; }
        case 40u: { return acc100; }
        case 41u: { return acc101; }
        case 42u: { return acc102; }
        case 43u: { return acc103; }
        case 44u: { return acc110; }
        case 45u: { return acc111; }
        case 46u: { return acc112; }
        case 47u: { return acc113; }
        case 48u: { return acc120; }
        case 49u: { return acc121; }
        case 50u: { return acc122; }
        case 51u: { return acc123; }
        case 52u: { return acc130; }
        case 53u: { return acc131; }
        case 54u: { return acc132; }
        case 55u: { return acc133; }
        case 56u: { return acc140; }
        case 57u: { return acc141; }
        case 58u: { return acc142; }
        case 59u: { return acc143; }
        case 60u: { return acc150; }
        case 61u: { return acc151; }
        case 62u: { return acc152; }
        case 63u: { return acc153; }
        default: { return vec4<f32>(0.0); }
    }
}


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
