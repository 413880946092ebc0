// Prefill's parameters and bindings, shared by both prefill layouts
// (llm_prefill.wgsl, llm_prefill_sg.wgsl); composed after the format header
// and before the body.
//
// Bindings: 0 w (from the header: this part's rows), 1 x (tokens + 1 vectors
// of K f32 as vec4, token-major), 2 y, 3 job.
//
// Repetitions differ: repetition r reads the tokens starting at vector
// r mod 2 of x (its own job and bind group say where) and ADDS X_r W^T to Y,
// which is zeroed once before the first repetition. So Y is a sum only all
// repetitions together produce.

struct Job {
    rows: u32,
    k: u32,
    row_bytes: u32,
    tokens: u32,
    // Y's row length (all rows of the matrix)
    ld: u32,
    // index of this part's first row in the matrix
    row0: u32,
    // index in x (in vec4s) of this repetition's first token
    x_offset: u32,
    pad: u32,
}

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> job: Job;
