// Fills a weight buffer with pseudo-random bytes on the GPU, so that
// gigabytes of weights need no upload; the CPU reference regenerates the
// same bytes for the rows it checks (src/workloads/llm/formats.rs).
//
// Composed after a format header (llm_q4_0, llm_q8_0, llm_f16), which gives
// GEN_UNIT. The weight bytes of a matrix are cut into units of GEN_UNIT
// bytes: the first two bytes of each unit are a controlled f16 (sign random,
// exponent 2^-4..2^-1, mantissa random: never zero, never infinite or NaN) —
// the block scale of Q4_0/Q8_0, or the weight itself for F16 — and every
// other byte is a hash of its byte index.
//
// Bindings: 1 dst (the part of the matrix being filled), 2 gen.

struct Gen {
    // hash key of the matrix
    key: u32,
    // byte offset of dst[0] within the whole matrix (a part of a split
    // matrix starts mid-matrix; even, not always a multiple of 4)
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

fn controlled_f16(unit: u32) -> u32 {
    let h = mix32(unit * 0x9e3779b9u + (gen.key ^ 0x5bd1e995u));
    return (h & 0x8000u) | ((11u + ((h >> 10u) & 3u)) << 10u) | (h & 0x3ffu);
}

fn weight_byte(b: u32) -> u32 {
    let within = b % GEN_UNIT;
    if (within < 2u) {
        return (controlled_f16(b / GEN_UNIT) >> (8u * within)) & 0xffu;
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
