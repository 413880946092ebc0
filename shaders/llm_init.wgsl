// Fills a weight buffer with pseudo-random bytes on the GPU, so that
// gigabytes of weights need no upload; the CPU reference regenerates the
// same bytes for the rows it checks (src/workloads/llm/formats.rs).
//
// Composed after a format header (llm_q4_0, llm_q4_k, ...), which gives
// GEN_UNIT and gen_field. The weight bytes of a matrix are cut into units
// of GEN_UNIT bytes (a block, or one F16 weight); gen_field says what each
// byte of a unit holds: a byte of a controlled f16 (sign random, exponent
// 2^-4..2^-1, mantissa random: never zero, never infinite or NaN), seeded
// by the index of its first byte — the scales d and dmin, or the weight
// itself for F16 —, an E8M0 scale of 2^-9..2^-2 (MXFP4), or, for every
// other byte, a hash of its byte index (quants, and the 6- and 8-bit
// sub-block scales and mins of the K-quants, which thus vary freely).
//
// Bindings: 1 dst (the part of the matrix being filled), 2 gen.

struct Gen {
    // hash key of the matrix
    key: u32,
    // byte offset of dst[0] within the whole matrix (a part of a split
    // matrix starts mid-matrix, at a row: not always a multiple of 4, and
    // odd for MXFP4 rows of an odd number of bytes)
    base: u32,
    // words of dst to fill
    words: u32,
    // workgroups in x of the 2-D dispatch
    groups_x: u32,
}

@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> gen: Gen;

fn mix32(v: u32) -> u32 {
    var x = v;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

fn controlled_f16(first: u32) -> u32 {
    let h = mix32(first * 0x9e3779b9u + (gen.key ^ 0x5bd1e995u));
    return (h & 0x8000u) | ((11u + ((h >> 10u) & 3u)) << 10u) | (h & 0x3ffu);
}

fn controlled_e8m0(b: u32) -> u32 {
    return 119u + (mix32(b * 0x9e3779b9u + (gen.key ^ 0x68e31da4u)) & 7u);
}

fn weight_byte(b: u32) -> u32 {
    let field = gen_field(b % GEN_UNIT);
    if (field == 1u || field == 2u) {
        let i = field - 1u;
        return (controlled_f16(b - i) >> (8u * i)) & 0xffu;
    }
    if (field == 3u) {
        return controlled_e8m0(b);
    }
    return mix32(b * 0x9e3779b9u + gen.key) & 0xffu;
}

// 64 fits every device's limits (GLES 3.1 guarantees 128 invocations);
// the host dispatches INIT_WORKGROUP-wide groups to match.
@compute @workgroup_size(64)
fn init(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let i = (g.y * gen.groups_x + g.x) * 64u + li;
    if (i >= gen.words) {
        return;
    }
    let first = gen.base + 4u * i;
    dst[i] = weight_byte(first) | (weight_byte(first + 1u) << 8u)
        | (weight_byte(first + 2u) << 16u) | (weight_byte(first + 3u) << 24u);
}
