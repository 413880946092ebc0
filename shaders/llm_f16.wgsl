// Weight format F16, as llama.cpp stores GGML_TYPE_F16 tensors: one IEEE
// half (little-endian) per weight, 2 bytes, rows of K back to back. Kernels
// walk it in 32-weight blocks (64 bytes) like the quantized formats; K is a
// multiple of 32 in every shape measured, so blocks never straddle rows.
// There is no scale: block_quants' d is 1. Each generated unit is one f16
// weight (GEN_UNIT 2), so every weight is a controlled, finite, non-zero
// half.
//
// The interface every format header provides is described in llm_q4_0.wgsl.

@group(0) @binding(0) var<storage, read> w: array<u32>;

const BLOCK_BYTES: u32 = 64u;
const GEN_UNIT: u32 = 2u;

fn gen_field(within: u32) -> u32 {
    return within + 1u;
}

// The 4 bytes at even byte offset `b` (the buffer has one word of padding).
fn word_at(b: u32) -> u32 {
    let i = b >> 2u;
    let lo = w[i];
    let hi = w[i + 1u];
    return select(lo, (lo >> 16u) | (hi << 16u), (b & 2u) != 0u);
}

fn k_of(q: u32, half: u32) -> u32 {
    return 8u * q + 4u * half;
}

fn quants8(row: u32, blk: u32, q: u32) -> array<vec4<f32>, 2> {
    let first = row + blk * BLOCK_BYTES + 16u * q;
    let a = word_at(first);
    let c = word_at(first + 4u);
    let e = word_at(first + 8u);
    let g = word_at(first + 12u);
    return array<vec4<f32>, 2>(
        vec4<f32>(unpack2x16float(a), unpack2x16float(c)),
        vec4<f32>(unpack2x16float(e), unpack2x16float(g)),
    );
}

struct Quants {
    d: f32,
    q: array<vec4<f32>, 8>,
}

fn block_quants(row: u32, blk: u32) -> Quants {
    // Rows of f16 are 2K bytes with K a multiple of 32: blocks are aligned.
    let i = (row + blk * BLOCK_BYTES) >> 2u;
    var out: Quants;
    out.d = 1.0;
    for (var j = 0u; j < 8u; j++) {
        out.q[j] = vec4<f32>(unpack2x16float(w[i + 2u * j]), unpack2x16float(w[i + 2u * j + 1u]));
    }
    return out;
}
