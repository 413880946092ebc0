// Prefill: Y += X W^T for a batch of tokens, W in the block format of the
// header this body is composed after, X in f32 (token-major: X[n*K + k] from
// the job's x_offset), Y[n*ld + row0 + m] in f32, accumulated in f32.
//
// A workgroup of 4 * ROWS computes a tile of ROWS rows x 64 tokens. For
// each 32-wide block column it dequantizes the rows' blocks into workgroup
// memory (each invocation a quarter block: 8 weights) and stages the 64
// tokens' 32 activations beside them, then every invocation adds 32 steps
// of a 4-row x 4-token outer product. Rows and tokens past the edges stage
// zeros and write nothing.
//
// ROWS is the host's: 64 (256 invocations, 16 KiB of workgroup memory)
// where the device allows, else 32 (128 and 12 KiB, within the GLES 3.1
// and wgpu downlevel limits).
//
// Job and bindings come from llm_prefill_io.wgsl.

override ROWS: u32 = 64u;
override THREADS: u32 = 4u * ROWS;
// groups of 4 rows in the tile
override RG: u32 = ROWS / 4u;
const TOKENS: u32 = 64u;

// [k][group of 4 rows] and [k][group of 4 tokens]
var<workgroup> wt: array<vec4<f32>, 32u * RG>;
var<workgroup> xt: array<vec4<f32>, 512>;

@compute @workgroup_size(THREADS)
fn prefill(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let row_base = g.x * ROWS;
    let tok_base = g.y * TOKENS;
    // the 4 rows and 4 tokens this invocation accumulates
    let tr = li % RG;
    let tn = li / RG;
    // the row (and tokens) and quarter block this invocation stages
    let sr = li / 4u;
    let sq = li % 4u;
    let blocks = job.k / 32u;
    var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var blk = 0u; blk < blocks; blk++) {
        var v = array<vec4<f32>, 2>(vec4<f32>(0.0), vec4<f32>(0.0));
        let row = row_base + sr;
        if (row < job.rows) {
            v = quants8(row * job.row_bytes, blk, sq);
        }
        for (var i = 0u; i < 4u; i++) {
            wt[(k_of(sq, 0u) + i) * RG + sr / 4u][sr % 4u] = v[0][i];
            wt[(k_of(sq, 1u) + i) * RG + sr / 4u][sr % 4u] = v[1][i];
        }
        for (var st = sr; st < TOKENS; st += ROWS) {
            var a = vec4<f32>(0.0);
            var c = vec4<f32>(0.0);
            let tok = tok_base + st;
            if (tok < job.tokens) {
                let xi = job.x_offset + (tok * job.k + blk * 32u + sq * 8u) / 4u;
                a = x[xi];
                c = x[xi + 1u];
            }
            for (var i = 0u; i < 4u; i++) {
                xt[(sq * 8u + i) * 16u + st / 4u][st % 4u] = a[i];
                xt[(sq * 8u + 4u + i) * 16u + st / 4u][st % 4u] = c[i];
            }
        }
        workgroupBarrier();
        for (var k = 0u; k < 32u; k++) {
            let wv = wt[k * RG + tr];
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
