// Weight format Q4_K, as llama.cpp's block_q4_K stores it (144 bytes per
// super-block of 256 weights, 4.5 bits per weight):
//   bytes 0..2     d, an IEEE half: the scale of the sub-block scales
//   bytes 2..4     dmin, an IEEE half: the scale of the sub-block mins
//   bytes 4..16    scales: 8 6-bit scales sc_j and 8 6-bit mins m_j, packed
//                  as ggml's get_scale_min_k4 reads them (j < 4: low 6 bits
//                  of bytes j and j+4; j >= 4: low and high nibble of byte
//                  j+4, top two bits from the top of bytes j-4 and j)
//   bytes 16..144  qs: sub-block j (weights 32j..32j+32) is the low (j even)
//                  or high (j odd) nibbles of qs bytes 32(j/2)..32(j/2)+32
//   weight         = d * sc_j * q - dmin * m_j
// Rows are K/256 super-blocks back to back (K a multiple of 256); 144 is a
// multiple of 4, so every super-block is word-aligned. A 32-weight block
// of the kernels is one sub-block; its scale and min are folded into the
// values it returns (one fma a weight, as Q4_0's subtraction).
//
// The interface every format header provides is described in llm_q4_0.wgsl.

@group(0) @binding(0) var<storage, read> w: array<u32>;

const SUPER_BYTES: u32 = 144u;
const GEN_UNIT: u32 = 144u;

fn gen_field(within: u32) -> u32 {
    return select(0u, within % 2u + 1u, within < 4u);
}

fn k_of(q: u32, half: u32) -> u32 {
    return 8u * q + 4u * half;
}

// Byte k of the 12 scale bytes of the super-block at word s.
fn scale_byte(s: u32, k: u32) -> u32 {
    return (w[s + 1u + (k >> 2u)] >> (8u * (k & 3u))) & 0xffu;
}

// (d * sc_j, dmin * m_j) of the super-block at word s.
fn scale_min(s: u32, j: u32) -> vec2<f32> {
    let dm = unpack2x16float(w[s]);
    let lo = scale_byte(s, j & 3u);
    let mid = scale_byte(s, (j & 3u) + 4u);
    let hi = scale_byte(s, (j & 3u) + 8u);
    let low_j = vec2<u32>(lo & 63u, mid & 63u);
    let high_j = vec2<u32>((hi & 15u) | ((lo >> 6u) << 4u), (hi >> 4u) | ((mid >> 6u) << 4u));
    return dm * vec2<f32>(select(low_j, high_j, j >= 4u));
}

// Word index of super-block blk / 8 of the row at byte row, the sub-block,
// the word of its first qs byte and the shift of its nibbles.
fn locate(row: u32, blk: u32) -> vec4<u32> {
    let s = (row + (blk >> 3u) * SUPER_BYTES) >> 2u;
    let j = blk & 7u;
    return vec4<u32>(s, j, s + 4u + 8u * (j >> 1u), 4u * (j & 1u));
}

fn nibbles(v: u32, shift: u32) -> vec4<f32> {
    let bytes = vec4<u32>(v, v >> 8u, v >> 16u, v >> 24u);
    return vec4<f32>((bytes >> vec4<u32>(shift)) & vec4<u32>(15u));
}

fn quants8(row: u32, blk: u32, q: u32) -> array<vec4<f32>, 2> {
    let at = locate(row, blk);
    let am = scale_min(at.x, at.y);
    let qs = at.z + 2u * q;
    return array<vec4<f32>, 2>(
        nibbles(w[qs], at.w) * am.x - am.y,
        nibbles(w[qs + 1u], at.w) * am.x - am.y,
    );
}

struct Quants {
    d: f32,
    q: array<vec4<f32>, 8>,
}

fn block_quants(row: u32, blk: u32) -> Quants {
    let at = locate(row, blk);
    let am = scale_min(at.x, at.y);
    var out: Quants;
    out.d = 1.0;
    for (var i = 0u; i < 8u; i++) {
        out.q[i] = nibbles(w[at.z + i], at.w) * am.x - am.y;
    }
    return out;
}
