// Decode: y += W x for one token, W in the block format of the header this
// body is composed after (llm_q4_0, llm_q4_k, llm_mxfp4, ...), x in f32
// (the activations are not quantized), accumulation in f32.
//
// A workgroup owns ROWS rows; LANES invocations share a row, invocation l
// taking 32-weight blocks l, l + LANES, ... so neighbours read
// neighbouring blocks. Each block is dequantized in registers by block_dot
// (the header's factor d times the dot product of its 32 values with x)
// and the lanes' sums are added in a tree in workgroup memory. CPU adapters with subgroups
// run llm_decode_sg.wgsl instead.
//
// Job, bindings and block_dot come from llm_decode_io.wgsl.

const LANES: u32 = 32u;
const ROWS: u32 = 4u;

var<workgroup> sums: array<f32, 128>;

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
                xs[i] = x[job.x_offset + blk * 8u + i];
            }
            acc += block_dot(base, blk, &xs);
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
        y[job.out_offset + row] += sums[slot];
    }
}
