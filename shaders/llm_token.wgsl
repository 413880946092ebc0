// A decode step of a batch of sequences through one matrix of a layer:
// for each product p = 0..products, y_p += W_(e_p) x_p, W in the block
// format of the header this body is composed after (llm_q4_k, llm_q6_k,
// llm_mxfp4, ...), e_p read from the repetition's list.
//
// A dense matrix has one copy and one product per sequence: its `cols`
// products share a workgroup, which dequantizes each block once and
// multiplies it with every sequence's activations, as batched decode
// does (the weights are read once for the whole batch). A routed expert
// matrix has `active` products per sequence, each the expert that
// sequence's router chose: one product a workgroup (cols 1).
//
// Bindings: 0 w (from the header: a page of copies of the matrix, copy e
// at byte (e - first) * copy_bytes), 1 x (per window and product, K f32,
// as vec4), 2 y (per product, `rows` outputs), 3 job, 4 rep (this
// repetition and layer: its activation window, then each product's copy).
//
// Workgroup (gx, gy) owns ROWS rows of products gy * cols .. + cols, which
// read one copy; LANES invocations share a row as in llm_decode.wgsl. A
// page that does not hold a product's copy leaves it to the page that does.
//
// Repetitions differ in their lists and windows and ADD their products to
// y, zeroed once: y is a sum only the copies each repetition chose, all
// repetitions together, produce.

struct Job {
    rows: u32,
    // columns (multiple of 32)
    k: u32,
    row_bytes: u32,
    // bytes per copy: rows * row_bytes
    copy_bytes: u32,
    // copies first .. first + copies are in this page
    first: u32,
    copies: u32,
    // products a workgroup multiplies (all of one copy), at most MAX_COLS
    cols: u32,
    // products of the matrix in a repetition
    products: u32,
    // index in y of product 0's first row
    out_offset: u32,
}

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> job: Job;
@group(0) @binding(4) var<storage, read> rep: array<u32>;

const LANES: u32 = 32u;
const ROWS: u32 = 4u;
const MAX_COLS: u32 = 16u;

var<workgroup> sums: array<f32, 128>;

@compute @workgroup_size(32, 4)
fn token(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let p0 = g.y * job.cols;
    let copy = rep[1u + p0];
    let here = copy >= job.first && copy < job.first + job.copies;
    let row = g.x * ROWS + l.y;
    let live = row < job.rows && here;
    let blocks = job.k / 32u;
    let per_x = job.k / 4u;
    let x0 = (rep[0] * job.products + p0) * per_x;
    var acc: array<f32, MAX_COLS>;
    if (live) {
        let base = (copy - job.first) * job.copy_bytes + row * job.row_bytes;
        for (var blk = l.x; blk < blocks; blk += LANES) {
            let bq = block_quants(base, blk);
            for (var c = 0u; c < job.cols; c++) {
                let xc = x0 + c * per_x + blk * 8u;
                var s = 0.0;
                for (var j = 0u; j < 8u; j++) {
                    s += dot(bq.q[j], x[xc + j]);
                }
                acc[c] += bq.d * s;
            }
        }
    }
    let lane = l.y * LANES + l.x;
    for (var c = 0u; c < job.cols; c++) {
        sums[lane] = acc[c];
        workgroupBarrier();
        for (var s = LANES / 2u; s > 0u; s >>= 1u) {
            if (l.x < s) {
                sums[lane] += sums[lane + s];
            }
            workgroupBarrier();
        }
        if (live && l.x == 0u) {
            y[job.out_offset + (p0 + c) * job.rows + row] += sums[lane];
        }
        workgroupBarrier();
    }
}
