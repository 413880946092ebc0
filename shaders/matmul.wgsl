// Tiled f32 matrix multiply: C = A * B, all row-major, any M, N, K >= 1.
//
// Bindings (group 0):
//   0 a    array<f32>        M x K    (entry `main`)
//   1 b    array<f32>        K x N    (entry `main`)
//   2 c    array<f32>        M x N    (both entries)
//   3 dims vec4<u32>         (M, N, K, first workgroup row: a long
//                            multiply is split into bands of rows);
//                            read-only storage, not a uniform, so that
//                            drivers which specialise on uniform values
//                            (lavapipe) do not recompile for every size
//   4 a4   array<vec4<f32>>  A again, four K-consecutive values per element
//   5 b4   array<vec4<f32>>  B again, four N-consecutive values per element
// `main` loads with scalars and suits every shape; `main_vec4` loads and
// stores whole vec4s and needs K % 4 == 0 and N % 4 == 0.
//
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
// Rows per invocation (at most MAX_TM) and vec4 columns per invocation (at
// most MAX_TNV). Private arrays need constant sizes, so the accumulators are
// sized for the maximum; once the override is fixed the loops have constant
// trip counts and the unused entries are dead code.
override TM: u32 = 4u;
override TNV: u32 = 1u;
const MAX_TM: u32 = 8u;
const MAX_TNV: u32 = 2u;

override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * 4u * TNV;
override THREADS: u32 = WG_X * WG_Y;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> dims: vec4<u32>;
@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f32>>;

// As[k * BM + row], Bs[k * BN / 4 + col4].
var<workgroup> As: array<f32, BK * BM>;
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>;

var<private> acc: array<array<vec4<f32>, MAX_TNV>, MAX_TM>;

fn clear_acc() {
    for (var i = 0u; i < TM; i += 1u) {
        for (var j = 0u; j < TNV; j += 1u) {
            acc[i][j] = vec4<f32>(0.0);
        }
    }
}

// One BK-deep step on the staged tiles.
fn multiply_tile(lx: u32, ly: u32) {
    for (var kk = 0u; kk < BK; kk += 1u) {
        var bv: array<vec4<f32>, MAX_TNV>;
        for (var j = 0u; j < TNV; j += 1u) {
            bv[j] = Bs[kk * (BN / 4u) + lx + j * WG_X];
        }
        for (var i = 0u; i < TM; i += 1u) {
            let av = vec4<f32>(As[kk * BM + ly + i * WG_Y]);
            for (var j = 0u; j < TNV; j += 1u) {
                acc[i][j] = fma(av, bv[j], acc[i][j]);
            }
        }
    }
}

fn load_tiles_scalar(lid: u32, row0: u32, col0: u32, k0: u32, m: u32, n: u32, k: u32) {
    for (var e = lid; e < BM * BK; e += THREADS) {
        let r = e / BK;
        let q = e % BK;
        var v = 0.0;
        if (row0 + r < m && k0 + q < k) {
            v = a[(row0 + r) * k + k0 + q];
        }
        As[q * BM + r] = v;
    }
    for (var e = lid; e < BK * BN; e += THREADS) {
        let r = e / BN;
        let q = e % BN;
        var v = 0.0;
        if (k0 + r < k && col0 + q < n) {
            v = b[(k0 + r) * n + col0 + q];
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
            v = a4[(row0 + r) * k4 + k0 / 4u + q4];
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
            v = b4[(k0 + r) * n4 + col0 / 4u + q4];
        }
        Bs[e] = v;
    }
}

fn store_c(lx: u32, ly: u32, row0: u32, col0: u32, m: u32, n: u32) {
    for (var i = 0u; i < TM; i += 1u) {
        let row = row0 + ly + i * WG_Y;
        if (row >= m) {
            continue;
        }
        for (var j = 0u; j < TNV; j += 1u) {
            let col = col0 + (lx + j * WG_X) * 4u;
            let v = acc[i][j];
            for (var q = 0u; q < 4u; q += 1u) {
                if (col + q < n) {
                    c[row * n + col + q] = v[q];
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
    store_c(l.x, l.y, row0, col0, m, n);
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
    // N % 4 == 0 here, so a vec4 of C is either wholly inside or outside.
    for (var i = 0u; i < TM; i += 1u) {
        let row = row0 + l.y + i * WG_Y;
        if (row >= m) {
            continue;
        }
        for (var j = 0u; j < TNV; j += 1u) {
            let col = col0 + (l.x + j * WG_X) * 4u;
            if (col < n) {
                let v = acc[i][j];
                let o = row * n + col;
                c[o] = v.x;
                c[o + 1u] = v.y;
                c[o + 2u] = v.z;
                c[o + 3u] = v.w;
            }
        }
    }
}

// A layout for adapters that run invocations as SIMD lanes of a CPU
// (lavapipe, SwiftShader): there, a load whose address differs between
// lanes is done lane by lane, while a load whose address is the same for
// the whole workgroup is one scalar load. So a workgroup here is one row of
// WG_X invocations sharing TM rows of C: every A load is uniform, each
// invocation loads TNV vec4s of B per K step (the only per-lane loads) and
// reuses each for TM rows. No workgroup memory, no barriers. Indices are
// clamped instead of branched on, so the loop has no divergent control
// flow; the clamped columns and rows are discarded at the store.
// Needs N % 4 == 0 (b4); the rows of C are at g.y * TM.
@compute @workgroup_size(WG_X, 1, 1)
fn rows_vec4(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) g: vec3<u32>) {
    let m = dims.x;
    let n = dims.y;
    let k = dims.z;
    let n4 = n / 4u;
    let row0 = (g.y + dims.w) * TM;
    let col40 = g.x * WG_X * TNV + l.x;
    var arow: array<u32, MAX_TM>;
    for (var i = 0u; i < TM; i += 1u) {
        arow[i] = min(row0 + i, m - 1u) * k;
    }
    var bcol: array<u32, MAX_TNV>;
    for (var j = 0u; j < TNV; j += 1u) {
        bcol[j] = min(col40 + j * WG_X, n4 - 1u);
    }
    clear_acc();
    for (var kk = 0u; kk < k; kk += 1u) {
        var bv: array<vec4<f32>, MAX_TNV>;
        for (var j = 0u; j < TNV; j += 1u) {
            bv[j] = b4[kk * n4 + bcol[j]];
        }
        for (var i = 0u; i < TM; i += 1u) {
            let av = vec4<f32>(a[arow[i] + kk]);
            for (var j = 0u; j < TNV; j += 1u) {
                acc[i][j] = fma(av, bv[j], acc[i][j]);
            }
        }
    }
    for (var i = 0u; i < TM; i += 1u) {
        let row = row0 + i;
        for (var j = 0u; j < TNV; j += 1u) {
            let col = (col40 + j * WG_X) * 4u;
            if (row < m && col < n) {
                let v = acc[i][j];
                let o = row * n + col;
                c[o] = v.x;
                c[o + 1u] = v.y;
                c[o + 2u] = v.z;
                c[o + 3u] = v.w;
            }
        }
    }
}
