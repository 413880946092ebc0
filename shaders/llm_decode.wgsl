// Decode: y = W x for one token, W in the block format of the header this
// body is composed after (llm_q4_0, llm_q8_0, llm_f16), x in f32 (the
// activations are not quantized), accumulation in f32.
//
// A workgroup owns ROWS rows; LANES invocations share a row, invocation l
// taking blocks l, l + LANES, ... so neighbours read neighbouring blocks.
// Each block is dequantized in registers by the header's block_dot (scale
// times the dot product of its 32 unscaled weights with x) and the lanes'
// sums are added in a tree in workgroup memory. CPU adapters with subgroups
// run llm_decode_sg.wgsl instead.
//
// Bindings: 0 w (from the header: this part's rows), 1 x (K f32 as vec4),
// 2 y (every output of the token), 3 job.

struct Job {
    // rows of this part
    rows: u32,
    // columns (multiple of 32)
    k: u32,
    // bytes per row
    row_bytes: u32,
    // index in y of this part's first row
    out_offset: u32,
}

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> job: Job;

const LANES: u32 = 32u;
const ROWS: u32 = 4u;

var<workgroup> sums: array<f32, 128>;

// The block at byte b times its 32 activations (xs[i]: elements 4i..4i+4).
fn block_dot(b: u32, xs: ptr<function, array<vec4<f32>, 8>>) -> f32 {
    let bq = block_quants(b);
    var s = 0.0;
    for (var j = 0u; j < 8u; j++) {
        s += dot(bq.q[j], (*xs)[j]);
    }
    return bq.d * s;
}

@compute @workgroup_size(32, 4)
fn decode(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let row = g.x * ROWS + l.y;
    let live = row < job.rows;
    let blocks = job.k / 32u;
    var acc = 0.0;
    if (live) {
        let base = row * job.row_bytes;
        for (var blk = l.x; blk < blocks; blk += LANES) {
            var xs: array<vec4<f32>, 8>;
            for (var i = 0u; i < 8u; i++) {
                xs[i] = x[blk * 8u + i];
            }
            acc += block_dot(base + blk * BLOCK_BYTES, &xs);
        }
    }
    let slot = l.y * LANES + l.x;
    sums[slot] = acc;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
        if (l.x < s) {
            sums[slot] += sums[slot + s];
        }
        workgroupBarrier();
    }
    if (live && l.x == 0u) {
        y[job.out_offset + row] = sums[slot];
    }
}
