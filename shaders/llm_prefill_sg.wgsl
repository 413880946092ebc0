// Prefill for CPU adapters with subgroups of 8 (lavapipe): Y += X W^T for a
// batch of tokens, W in the block format of the header this body is
// composed after, X in f32 (token-major: X[n*K + k] from the job's
// x_offset), Y[n*ld + row0 + m] in f32, accumulated in f32. Job and
// bindings come from llm_prefill_io.wgsl.
//
// As in llm_decode_sg.wgsl, a workgroup is one subgroup and each lane owns
// a row, because a buffer load whose address differs between lanes is done
// lane by lane there. A workgroup computes 8 rows x TOKENS tokens: for each
// block every lane dequantizes its row's block once and reuses it for all
// TOKENS tokens; each token's 32 activations are loaded once for the
// subgroup (lane i loads elements 4i..4i+4) and shared by subgroupBroadcast.
// Rows and tokens past the edges are clamped, computed and not written.
// In its own file so that adapters without subgroups never compile it.

const SG_ROWS: u32 = 8u;
const TOKENS: u32 = 16u;

@compute @workgroup_size(8)
fn prefill_sg(@builtin(workgroup_id) g: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let row = g.x * SG_ROWS + lane;
    let base = min(row, job.rows - 1u) * job.row_bytes;
    let tok0 = g.y * TOKENS;
    let k4 = job.k / 4u;
    let blocks = job.k / 32u;
    var acc: array<f32, TOKENS>;
    for (var blk = 0u; blk < blocks; blk++) {
        let bq = block_quants(base, blk);
        for (var t = 0u; t < TOKENS; t++) {
            let tok = min(tok0 + t, job.tokens - 1u);
            let mine = x[job.x_offset + tok * k4 + blk * 8u + lane];
            var s = dot(bq.q[0], subgroupBroadcast(mine, 0u));
            s += dot(bq.q[1], subgroupBroadcast(mine, 1u));
            s += dot(bq.q[2], subgroupBroadcast(mine, 2u));
            s += dot(bq.q[3], subgroupBroadcast(mine, 3u));
            s += dot(bq.q[4], subgroupBroadcast(mine, 4u));
            s += dot(bq.q[5], subgroupBroadcast(mine, 5u));
            s += dot(bq.q[6], subgroupBroadcast(mine, 6u));
            s += dot(bq.q[7], subgroupBroadcast(mine, 7u));
            acc[t] += bq.d * s;
        }
    }
    if (row < job.rows) {
        for (var t = 0u; t < TOKENS; t++) {
            let tok = tok0 + t;
            if (tok < job.tokens) {
                y[tok * job.ld + job.row0 + row] += acc[t];
            }
        }
    }
}
