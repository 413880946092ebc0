// Weight format Q4_0, as llama.cpp's block_q4_0 stores it (18 bytes per 32
// weights, 4.5 bits per weight):
//   bytes 0..2    d, an IEEE half (f16, little-endian): the block's scale
//   bytes 2..18   qs, 16 bytes of 4-bit unsigned values q in 0..15
//   weight j      = (q_j - 8) * d, where byte i of qs holds q_i in its low
//                  nibble and q_(i+16) in its high nibble
// Rows are K/32 blocks back to back, rows back to back; nothing is padded,
// so a block starts at any even byte. The buffer is read as array<u32>: a
// block field at byte offset b is assembled from the words around it.
//
// Every composition of the llm shaders starts with one format header like
// this one. Kernels walk a row in 32-weight steps ("blocks" below; a
// K-quant super-block is 8 of them), so the header is asked for block
// `blk` of the row that starts at byte `row`: formats whose blocks are not
// a whole number of bytes per 32 weights (Q6_K: 210 per 256) find it from
// there. It provides
//   GEN_UNIT              bytes per generated unit (a block; F16: a weight)
//   gen_field(within)     what the generator writes at byte `within` of a
//                         unit: 0 a hash, 1 or 2 byte 0 or 1 of a
//                         controlled f16 (a scale), 3 an E8M0 scale
//   quants8(row, blk, q)  8 weights of quarter q (0..3) of block blk,
//                         dequantized, as two vec4s: elements
//                         k_of(q, 0)..+4 and k_of(q, 1)..+4
//   block_quants(row, blk) the whole block: a factor d and 32 values,
//                         weight 4i+c = d * q[i][c]. A format with one
//                         scale per 32 weights leaves it in d, so each
//                         weight costs a subtraction at most; the K-quants
//                         (sub-block scales and mins) fold their scales
//                         into q and set d = 1. It reads each word of the
//                         block once, because on CPU adapters every load
//                         is costly.

@group(0) @binding(0) var<storage, read> w: array<u32>;

const BLOCK_BYTES: u32 = 18u;
const GEN_UNIT: u32 = 18u;

fn gen_field(within: u32) -> u32 {
    return select(0u, within + 1u, within < 2u);
}

// The 4 bytes at even byte offset `b` (the buffer has one word of padding).
fn word_at(b: u32) -> u32 {
    let i = b >> 2u;
    let lo = w[i];
    let hi = w[i + 1u];
    return select(lo, (lo >> 16u) | (hi << 16u), (b & 2u) != 0u);
}

fn k_of(q: u32, half: u32) -> u32 {
    return 4u * q + 16u * half;
}

fn quants8(row: u32, blk: u32, q: u32) -> array<vec4<f32>, 2> {
    let b = row + blk * BLOCK_BYTES;
    let d = unpack2x16float(word_at(b)).x;
    let qs = word_at(b + 2u + 4u * q);
    let bytes = vec4<u32>(qs, qs >> 8u, qs >> 16u, qs >> 24u);
    let low = vec4<f32>(bytes & vec4<u32>(15u));
    let high = vec4<f32>((bytes >> vec4<u32>(4u)) & vec4<u32>(15u));
    return array<vec4<f32>, 2>((low - 8.0) * d, (high - 8.0) * d);
}

struct Quants {
    d: f32,
    q: array<vec4<f32>, 8>,
}

fn block_quants(row: u32, blk: u32) -> Quants {
    let b = row + blk * BLOCK_BYTES;
    // 18 bytes from an even b lie within 5 words from b rounded down.
    let i = b >> 2u;
    let v = array<u32, 5>(w[i], w[i + 1u], w[i + 2u], w[i + 3u], w[i + 4u]);
    let odd = (b & 2u) != 0u;
    let d = unpack2x16float(v[0]);
    var out: Quants;
    out.d = select(d.x, d.y, odd);
    for (var j = 0u; j < 4u; j++) {
        let qs = select((v[j] >> 16u) | (v[j + 1u] << 16u), v[j + 1u], odd);
        let bytes = vec4<u32>(qs, qs >> 8u, qs >> 16u, qs >> 24u);
        out.q[j] = vec4<f32>(bytes & vec4<u32>(15u)) - 8.0;
        out.q[j + 4u] = vec4<f32>((bytes >> vec4<u32>(4u)) & vec4<u32>(15u)) - 8.0;
    }
    return out;
}
