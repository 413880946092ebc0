// Decode's parameters and bindings, and its per-block step, shared by both
// decode layouts (llm_decode.wgsl, llm_decode_sg.wgsl); composed after the
// format header and before the body.
//
// Bindings: 0 w (from the header: this part's rows), 1 x (the activation
// windows, K f32 each, as vec4), 2 y (every output of the token), 3 job.
//
// Repetitions differ: repetition r reads window r mod 2 of x (its own job
// and bind group say where it starts) and ADDS W x_r to y, which is zeroed
// once before the first repetition. So y is a sum only all repetitions
// together produce; a kernel that skips work because y is already written,
// or skips some repetitions, leaves a sum the CPU reference rejects.

struct Job {
    // rows of this part
    rows: u32,
    // columns (multiple of 32)
    k: u32,
    // bytes per row
    row_bytes: u32,
    // index in y of this part's first row
    out_offset: u32,
    // index in x (in vec4s) of this repetition's activation window
    x_offset: u32,
}

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> job: Job;

// Block blk of the row at byte row times its 32 activations (xs[i]:
// elements 4i..4i+4).
fn block_dot(row: u32, blk: u32, xs: ptr<function, array<vec4<f32>, 8>>) -> f32 {
    let bq = block_quants(row, blk);
    var s = 0.0;
    for (var j = 0u; j < 8u; j++) {
        s += dot(bq.q[j], (*xs)[j]);
    }
    return bq.d * s;
}
