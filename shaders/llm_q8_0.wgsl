// Weight format Q8_0, as llama.cpp's block_q8_0 stores it (34 bytes per 32
// weights, 8.5 bits per weight):
//   bytes 0..2    d, an IEEE half (f16, little-endian): the block's scale
//   bytes 2..34   qs, 32 signed bytes (int8, two's complement)
//   weight j      = qs_j * d
// Rows are K/32 blocks back to back, rows back to back, nothing padded, so
// a block starts at any even byte; the buffer is read as array<u32> and
// fields are assembled from the words around them.
//
// The interface every format header provides is described in llm_q4_0.wgsl.

@group(0) @binding(0) var<storage, read> w: array<u32>;

const BLOCK_BYTES: u32 = 34u;
const GEN_UNIT: u32 = 34u;

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
    return 8u * q + 4u * half;
}

// Sign-extends the four bytes of `v` (byte i becomes lane i).
fn signed4(v: u32) -> vec4<f32> {
    let s = bitcast<vec4<i32>>(vec4<u32>(v << 24u, v << 16u, v << 8u, v));
    return vec4<f32>(s >> vec4<u32>(24u));
}

fn quants8(row: u32, blk: u32, q: u32) -> array<vec4<f32>, 2> {
    let b = row + blk * BLOCK_BYTES;
    let d = unpack2x16float(word_at(b)).x;
    let first = b + 2u + 8u * q;
    return array<vec4<f32>, 2>(signed4(word_at(first)) * d, signed4(word_at(first + 4u)) * d);
}

struct Quants {
    d: f32,
    q: array<vec4<f32>, 8>,
}

fn block_quants(row: u32, blk: u32) -> Quants {
    let b = row + blk * BLOCK_BYTES;
    // 34 bytes from an even b lie within 9 words from b rounded down.
    let i = b >> 2u;
    var v: array<u32, 9>;
    for (var j = 0u; j < 9u; j++) {
        v[j] = w[i + j];
    }
    let odd = (b & 2u) != 0u;
    let d = unpack2x16float(v[0]);
    var out: Quants;
    out.d = select(d.x, d.y, odd);
    for (var j = 0u; j < 8u; j++) {
        out.q[j] = signed4(select((v[j] >> 16u) | (v[j + 1u] << 16u), v[j + 1u], odd));
    }
    return out;
}
