// MoE decode: for one token, y_j += W_(e_j) x_j for each of the token's
// active experts j = 0..slots, W in the block format of the header this body
// is composed after (llm_q4_0, llm_mxfp4, ...), e_j read from the
// repetition's index list: the gather a router's choice makes.
//
// Bindings: 0 w (from the header: a page of experts of one matrix, expert
// e at byte (e - first) * expert_bytes), 1 x (the activations: per window
// and slot, K f32, as vec4), 2 y (per slot, `rows` outputs), 3 job (this
// matrix and page), 4 rep (this repetition: its activation window, then
// the expert index of each slot).
//
// Workgroup (gx, slot) owns ROWS rows of one slot's expert; LANES
// invocations share a row as in llm_decode.wgsl. A page that does not hold
// a slot's expert leaves it to the page that does, so a matrix whose
// experts do not fit one binding is split into pages by expert.
//
// Repetitions differ in their index lists and windows and ADD their
// products to y, zeroed once: y is a sum only the experts each repetition
// chose, all repetitions together, produce.

struct Job {
    // rows of one expert's matrix
    rows: u32,
    // columns (multiple of 32)
    k: u32,
    // bytes per row
    row_bytes: u32,
    // bytes per expert: rows * row_bytes
    expert_bytes: u32,
    // experts first .. first + experts of the matrix are in this page
    first: u32,
    experts: u32,
    // active experts per token
    slots: u32,
    // index in y of slot 0's first row of this matrix
    out_offset: u32,
}

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> job: Job;
@group(0) @binding(4) var<storage, read> rep: array<u32>;

const LANES: u32 = 32u;
const ROWS: u32 = 4u;

var<workgroup> sums: array<f32, 128>;

@compute @workgroup_size(32, 4)
fn moe(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let slot = g.y;
    let expert = rep[1u + slot];
    let here = expert >= job.first && expert < job.first + job.experts;
    let row = g.x * ROWS + l.y;
    let live = row < job.rows && here;
    let blocks = job.k / 32u;
    // the slot's own activations in this repetition's window
    let x0 = (rep[0] * job.slots + slot) * (job.k / 4u);
    var acc = 0.0;
    if (live) {
        let base = (expert - job.first) * job.expert_bytes + row * job.row_bytes;
        for (var blk = l.x; blk < blocks; blk += LANES) {
            var xs: array<vec4<f32>, 8>;
            for (var i = 0u; i < 8u; i++) {
                xs[i] = x[x0 + blk * 8u + i];
            }
            let bq = block_quants(base, blk);
            var s = 0.0;
            for (var j = 0u; j < 8u; j++) {
                s += dot(bq.q[j], xs[j]);
            }
            acc += bq.d * s;
        }
    }
    let lane = l.y * LANES + l.x;
    sums[lane] = acc;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
        if (l.x < s) {
            sums[lane] += sums[lane + s];
        }
        workgroupBarrier();
    }
    if (live && l.x == 0u) {
        y[job.out_offset + slot * job.rows + row] += sums[lane];
    }
}
