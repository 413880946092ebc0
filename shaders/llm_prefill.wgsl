// Prefill: Y += X W^T for a batch of tokens, W in the block format of the
// header this body is composed after, X in f32 (token-major: X[n*K + k] from
// the job's x_offset), Y[n*ld + row0 + m] in f32, accumulated in f32.
//
// A workgroup of 256 computes a tile of 64 rows x 64 tokens. For each
// 32-wide block column it dequantizes the 64 rows' blocks into workgroup
// memory (each invocation a quarter block: 8 weights) and stages the 64
// tokens' 32 activations beside them, then every invocation adds 32 steps
// of a 4-row x 4-token outer product. Rows and tokens past the edges stage
// zeros and write nothing.
//
// Job and bindings come from llm_prefill_io.wgsl.

const TILE: u32 = 64u;

// [k][group of 4 rows] and [k][group of 4 tokens]
var<workgroup> wt: array<vec4<f32>, 512>;
var<workgroup> xt: array<vec4<f32>, 512>;

@compute @workgroup_size(256)
fn prefill(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let row_base = g.x * TILE;
    let tok_base = g.y * TILE;
    // the 4 rows and 4 tokens this invocation accumulates
    let tr = li % 16u;
    let tn = li / 16u;
    // the row (and token) and quarter block this invocation stages
    let sr = li / 4u;
    let sq = li % 4u;
    let blocks = job.k / 32u;
    var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var blk = 0u; blk < blocks; blk++) {
        var v = array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
        let row = row_base + sr;
        if (row < job.rows) {
            let b = row * job.row_bytes + blk * BLOCK_BYTES;
            let d = scale(b);
            let q = quants8(b, sq);
            v = array<vec4<f32>, 2>(q[0] * d, q[1] * d);
        }
        var a = vec4<f32>(0.0);
        var c = vec4<f32>(0.0);
        let tok = tok_base + sr;
        if (tok < job.tokens) {
            let xi = job.x_offset + (tok * job.k + blk * 32u + sq * 8u) / 4u;
            a = x[xi];
            c = x[xi + 1u];
        }
        for (var i = 0u; i < 4u; i++) {
            wt[(k_of(sq, 0u) + i) * 16u + sr / 4u][sr % 4u] = v[0][i];
            wt[(k_of(sq, 1u) + i) * 16u + sr / 4u][sr % 4u] = v[1][i];
            xt[(sq * 8u + i) * 16u + sr / 4u][sr % 4u] = a[i];
            xt[(sq * 8u + 4u + i) * 16u + sr / 4u][sr % 4u] = c[i];
        }
        workgroupBarrier();
        for (var k = 0u; k < 32u; k++) {
            let wv = wt[k * 16u + tr];
            let xv = xt[k * 16u + tn];
            acc[0] += wv * xv.x;
            acc[1] += wv * xv.y;
            acc[2] += wv * xv.z;
            acc[3] += wv * xv.w;
        }
        workgroupBarrier();
    }
    for (var j = 0u; j < 4u; j++) {
        let tok = tok_base + tn * 4u + j;
        for (var i = 0u; i < 4u; i++) {
            let row = row_base + tr * 4u + i;
            if (tok < job.tokens && row < job.rows) {
                y[tok * job.ld + job.row0 + row] += acc[j][i];
            }
        }
    }
}
