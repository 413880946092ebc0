// Weight format MXFP4, as llama.cpp's block_mxfp4 stores it (17 bytes per
// 32 weights, 4.25 bits per weight):
//   byte 0         e, an E8M0 scale: 2^(e - 127), here taken as 2^(e - 128)
//                  times the doubled E2M1 values below (ggml-impl.h's
//                  ggml_e8m0_to_fp32_half)
//   bytes 1..17    qs, 16 bytes of 4-bit E2M1 codes: byte i holds weight i
//                  in its low nibble and weight i+16 in its high nibble
//   weight j       = kvalues_mxfp4[code_j] * 2^(e - 128), ggml-common.h's
//                  kvalues_mxfp4 being E2M1 0, 0.5, 1, 1.5, 2, 3, 4, 6
//                  doubled, then their negatives (computed in `codes`)
// Rows are K/32 blocks back to back with nothing padded, so a block, and
// its fields, start at any byte: they are assembled from the words around
// them.
//
// The interface every format header provides is described in llm_q4_0.wgsl.

@group(0) @binding(0) var<storage, read> w: array<u32>;

const BLOCK_BYTES: u32 = 17u;
const GEN_UNIT: u32 = 17u;


fn gen_field(within: u32) -> u32 {
    return select(0u, 3u, within == 0u);
}

fn k_of(q: u32, half: u32) -> u32 {
    return 4u * q + 16u * half;
}

// The 4 bytes from byte `sh / 8` of word lo on (sh a multiple of 8).
fn funnel(lo: u32, hi: u32, sh: u32) -> u32 {
    return select(lo, (lo >> sh) | (hi << (32u - sh)), sh != 0u);
}

// The scale, and the 4 words of codes, of the block at any byte b: the 17
// bytes lie within the 6 words from b rounded down, each read once.
struct Raw {
    d: f32,
    qs: array<u32, 4>,
}

fn raw(b: u32) -> Raw {
    let i = b >> 2u;
    let v = array<u32, 6>(w[i], w[i + 1u], w[i + 2u], w[i + 3u], w[i + 4u], w[i + 5u]);
    let off = b & 3u;
    let e = (v[0] >> (8u * off)) & 0xffu;
    // the codes start at byte off + 1 of v: word (off + 1) / 4, byte (off + 1) % 4
    let next = off == 3u;
    let sh = 8u * ((off + 1u) & 3u);
    var out: Raw;
    out.d = ldexp(f32(1.0), i32(e) - 128);
    for (var j = 0u; j < 4u; j++) {
        out.qs[j] = funnel(select(v[j], v[j + 1u], next), select(v[j + 1u], v[j + 2u], next), sh);
    }
    return out;
}

// kvalues_mxfp4 computed rather than looked up (an index that differs
// between lanes makes a table lookup a load per lane on a CPU adapter): a
// code is a sign bit over E2M1's 2-bit exponent e and 1-bit mantissa m,
// doubled: 0 and 1 where e is 0 (subnormal), else (2 + m) << (e - 1), so
// 0, 1, 2, 3, 4, 6, 8, 12.
fn codes(v: u32, shift: u32) -> vec4<f32> {
    let c = (vec4<u32>(v, v >> 8u, v >> 16u, v >> 24u) >> vec4<u32>(shift)) & vec4<u32>(15u);
    let mag = c & vec4<u32>(7u);
    let e = mag >> vec4<u32>(1u);
    let normal = (vec4<u32>(2u) + (mag & vec4<u32>(1u))) << (max(e, vec4<u32>(1u)) - vec4<u32>(1u));
    let x = vec4<f32>(select(normal, mag, e == vec4<u32>(0u)));
    return select(x, -x, (c & vec4<u32>(8u)) != vec4<u32>(0u));
}

fn quants8(row: u32, blk: u32, q: u32) -> array<vec4<f32>, 2> {
    let r = raw(row + blk * BLOCK_BYTES);
    let v = r.qs[q];
    return array<vec4<f32>, 2>(codes(v, 0u) * r.d, codes(v, 4u) * r.d);
}

struct Quants {
    d: f32,
    q: array<vec4<f32>, 8>,
}

fn block_quants(row: u32, blk: u32) -> Quants {
    let r = raw(row + blk * BLOCK_BYTES);
    var out: Quants;
    out.d = r.d;
    for (var j = 0u; j < 4u; j++) {
        out.q[j] = codes(r.qs[j], 0u);
        out.q[j + 4u] = codes(r.qs[j], 4u);
    }
    return out;
}
