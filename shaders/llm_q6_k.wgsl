// Weight format Q6_K, as llama.cpp's block_q6_K stores it (210 bytes per
// super-block of 256 weights, 6.5625 bits per weight):
//   bytes 0..128    ql: low 4 bits of the 6-bit quants
//   bytes 128..192  qh: top 2 bits
//   bytes 192..208  scales: 16 signed bytes, one per 16 weights
//   bytes 208..210  d, an IEEE half: the super-block's scale, at the END
// As ggml's dequantize_row_q6_K reads it: half h (weights 128h..128h+128)
// is 4 groups g of 32; weight 128h + 32g + l (l < 32) has the low (g < 2)
// or high (g >= 2) nibble of ql byte 64h + 32(g % 2) + l, bits 2g and 2g+1
// of qh byte 32h + l above them (q in 0..63), and
//   weight         = d * scales[8h + 2g + l / 16] * (q - 32)
// Rows are K/256 super-blocks back to back: 210 bytes are no whole number
// of words, so a super-block starts at any even byte and every field is
// assembled from the words around it. A 32-weight block of the kernels is
// one group g of half h; its two scales are folded into its values.
//
// The interface every format header provides is described in llm_q4_0.wgsl.

@group(0) @binding(0) var<storage, read> w: array<u32>;

const SUPER_BYTES: u32 = 210u;
const GEN_UNIT: u32 = 210u;

fn gen_field(within: u32) -> u32 {
    return select(0u, within - 207u, within >= 208u);
}

fn k_of(q: u32, half: u32) -> u32 {
    return 8u * q + 4u * half;
}

// The 4 bytes at even byte offset `b` (the buffer has one word of padding).
fn word_at(b: u32) -> u32 {
    let i = b >> 2u;
    let lo = w[i];
    let hi = w[i + 1u];
    return select(lo, (lo >> 16u) | (hi << 16u), (b & 2u) != 0u);
}

// The 32 bytes from even byte b, reading each word once.
fn words8(b: u32) -> array<u32, 8> {
    let i = b >> 2u;
    var v: array<u32, 9>;
    for (var j = 0u; j < 9u; j++) {
        v[j] = w[i + j];
    }
    let odd = (b & 2u) != 0u;
    var out: array<u32, 8>;
    for (var j = 0u; j < 8u; j++) {
        out[j] = select(v[j], (v[j] >> 16u) | (v[j + 1u] << 16u), odd);
    }
    return out;
}

// Byte offsets of the group's ql and qh bytes, and its nibble and qh shifts,
// for block blk of the row at byte row; and its two scales times d.
struct Group {
    ql: u32,
    qh: u32,
    shifts: vec2<u32>,
    scales: vec2<f32>,
}

fn locate(row: u32, blk: u32) -> Group {
    let s = row + (blk >> 3u) * SUPER_BYTES;
    let h = (blk >> 2u) & 1u;
    let g = blk & 3u;
    var out: Group;
    out.ql = s + 64u * h + 32u * (g & 1u);
    out.qh = s + 128u + 32u * h;
    out.shifts = vec2<u32>(4u * (g >> 1u), 2u * g);
    let sc = word_at(s + 192u + 8u * h + 2u * g);
    let signed = bitcast<vec2<i32>>(vec2<u32>(sc << 24u, sc << 16u)) >> vec2<u32>(24u);
    out.scales = unpack2x16float(word_at(s + 208u)).x * vec2<f32>(signed);
    return out;
}

// Four 6-bit quants, less 32, from a ql and a qh word.
fn six(ql: u32, qh: u32, shifts: vec2<u32>) -> vec4<f32> {
    let lo = (vec4<u32>(ql, ql >> 8u, ql >> 16u, ql >> 24u) >> vec4<u32>(shifts.x)) & vec4<u32>(15u);
    let hi = (vec4<u32>(qh, qh >> 8u, qh >> 16u, qh >> 24u) >> vec4<u32>(shifts.y)) & vec4<u32>(3u);
    return vec4<f32>(lo | (hi << vec4<u32>(4u))) - 32.0;
}

fn quants8(row: u32, blk: u32, q: u32) -> array<vec4<f32>, 2> {
    let gr = locate(row, blk);
    let sc = gr.scales[q >> 1u];
    return array<vec4<f32>, 2>(
        six(word_at(gr.ql + 8u * q), word_at(gr.qh + 8u * q), gr.shifts) * sc,
        six(word_at(gr.ql + 8u * q + 4u), word_at(gr.qh + 8u * q + 4u), gr.shifts) * sc,
    );
}

struct Quants {
    d: f32,
    q: array<vec4<f32>, 8>,
}

fn block_quants(row: u32, blk: u32) -> Quants {
    let gr = locate(row, blk);
    let ql = words8(gr.ql);
    let qh = words8(gr.qh);
    var out: Quants;
    out.d = 1.0;
    for (var i = 0u; i < 8u; i++) {
        out.q[i] = six(ql[i], qh[i], gr.shifts) * gr.scales[i >> 2u];
    }
    return out;
}
