// Matrix multiply for CPU adapters with subgroups (lavapipe): C += A * B,
// row-major, K % 4 == 0 and N % 4 == 0, A and B read through four-channel
// float textures (rgba32float for f32 inputs, rgba16float for f16; both
// read as f32), C f32, accumulated in f32 with fma(). In its own file so
// that adapters without subgroup operations (wgpu's SUBGROUP feature, which
// naga takes without an `enable`) never compile it; it needs no element
// header, and matmul_dims.wgsl (the Dims struct) and matmul_acc.wgsl
// (accumulators and store) are composed after it.
//
// Bindings (group 0):
//   2 c    array<f32>        M x N
//   3 dims Dims              (M, N, K, first workgroup row, window); read-only
//                            storage rather than a uniform, so drivers that
//                            specialise on uniform values do not recompile
//   6 ta   texture_2d<f32>   A as a (K/4) x M texture: texel (k/4, row)
//   7 tb   texture_2d<f32>   B as a (N/4) x K texture: texel (col/4, k)
//
// Layout: a workgroup is one subgroup of WG_X invocations (the host checks
// the subgroup size) sharing TM rows of C; each invocation owns TNV vec4
// columns. On a CPU adapter every lane-varying fetch costs about as much
// as a whole vector of FMAs, so the rows' A values are fetched once for
// the subgroup (invocation i fetches four K steps of row i, and row i's
// values are broadcast from it) and each B texel is reused for TM rows.
// Indices are clamped rather than branched on; clamped rows and columns
// are discarded at the store.

override WG_X: u32 = 8u;
// Rows (8 or 16) and vec4 columns (1, 2 or 4) of C per invocation.
override TM: u32 = 8u;
override TNV: u32 = 1u;

@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> dims: Dims;
@group(0) @binding(6) var ta: texture_2d<f32>;
@group(0) @binding(7) var tb: texture_2d<f32>;

@compute @workgroup_size(WG_X, 1, 1)
fn rows_sg(
    @builtin(local_invocation_id) l: vec3<u32>,
    @builtin(workgroup_id) g: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let m = dims.x;
    let n = dims.y;
    let k = dims.z;
    let n4 = n / 4u;
    let row0 = (g.y + dims.w) * TM;
    let col40 = g.x * WG_X * TNV + l.x;
    let last = m - 1u;
    let ra = min(row0 + lane, last);
    let rb = min(row0 + 8u + lane, last);
    let cl = n4 - 1u;
    let c0 = min(col40, cl);
    let c1 = min(col40 + WG_X, cl);
    let c2 = min(col40 + 2u * WG_X, cl);
    let c3 = min(col40 + 3u * WG_X, cl);
    clear_acc();
    for (var k4 = 0u; k4 < k / 4u; k4 += 1u) {
        // Row row0 + i's four K steps, from invocation i.
        let xa = textureLoad(ta, vec2<u32>(k4, ra), 0);
        var xb = xa;
        if (TM > 8u) {
            xb = textureLoad(ta, vec2<u32>(k4, rb), 0);
        }
        let s0 = subgroupBroadcast(xa, 0u);
        let s1 = subgroupBroadcast(xa, 1u);
        let s2 = subgroupBroadcast(xa, 2u);
        let s3 = subgroupBroadcast(xa, 3u);
        let s4 = subgroupBroadcast(xa, 4u);
        let s5 = subgroupBroadcast(xa, 5u);
        let s6 = subgroupBroadcast(xa, 6u);
        let s7 = subgroupBroadcast(xa, 7u);
        let s8 = subgroupBroadcast(xb, 0u);
        let s9 = subgroupBroadcast(xb, 1u);
        let s10 = subgroupBroadcast(xb, 2u);
        let s11 = subgroupBroadcast(xb, 3u);
        let s12 = subgroupBroadcast(xb, 4u);
        let s13 = subgroupBroadcast(xb, 5u);
        let s14 = subgroupBroadcast(xb, 6u);
        let s15 = subgroupBroadcast(xb, 7u);
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
            let a0 = vec4<f32>(s0[q], s1[q], s2[q], s3[q]);
            let a1 = vec4<f32>(s4[q], s5[q], s6[q], s7[q]);
            let a2 = vec4<f32>(s8[q], s9[q], s10[q], s11[q]);
            let a3 = vec4<f32>(s12[q], s13[q], s14[q], s15[q]);
            fma_step(a0, a1, a2, a3, b0, b1, b2, b3);
        }
    }
    store_c(row0, 1u, col40, WG_X, m, n);
}
