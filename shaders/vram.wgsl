// VRAM integrity test in the manner of memtest_vulkan. Every word's expected
// value is derived from its address (buffer index and word index) and the
// pass's seed, so a stuck bit, two addresses that alias (an address-line
// fault) or a bit that flips while stored all read back as a mismatch.
// `pattern` must stay identical to `vram::pattern` on the host.

struct Params {
    // Seed of the pattern this region holds.
    seed: u32,
    // Index of the buffer: part of each word's address.
    chunk: u32,
    // The buffer's offset in the tested memory in 16-byte units, for the
    // lowest and highest failing address.
    base16: u32,
    // Words in this buffer, a multiple of BLOCK.
    words: u32,
    // Per-run offset of the read order within each block.
    rot: u32,
    // Check runs so far, recorded with each mismatch.
    run: u32,
    _pad0: u32,
    _pad1: u32,
}

struct Mismatch {
    chunk: u32,
    word: u32,
    expected: u32,
    got: u32,
    run: u32,
}

const RECORDS: u32 = 64u;
// The check reads each block of BLOCK words in a scattered order, so that
// consecutive invocations switch DRAM rows and banks rather than stream.
const BLOCK: u32 = 4096u;
const SCATTER: u32 = 2053u;

struct Report {
    errors: atomic<u32>,
    // Wrapping sum of every word the check read: proves it read them all.
    sum: atomic<u32>,
    low16: atomic<u32>,
    high16: atomic<u32>,
    bits: array<atomic<u32>, 32>,
    records: array<Mismatch, RECORDS>,
}

@group(0) @binding(0) var<storage, read_write> mem: array<u32>;
@group(0) @binding(1) var<storage, read> p: Params;
@group(0) @binding(2) var<storage, read_write> report: Report;

// A bijection on u32 (lowbias32): distinct addresses give distinct words.
fn mix32(x: u32) -> u32 {
    var h = x;
    h ^= h >> 16u;
    h *= 0x7feb352du;
    h ^= h >> 15u;
    h *= 0x846ca68bu;
    h ^= h >> 16u;
    return h;
}

// The region's key, once per dispatch.
fn region_key(chunk: u32, seed: u32) -> u32 {
    return mix32(seed ^ (chunk * 0x9e3779b9u));
}

fn pattern(key: u32, word: u32) -> u32 {
    return mix32(word ^ key);
}

fn first_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn write(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let stride = nwg.x * nwg.y * 256u;
    let key = region_key(p.chunk, p.seed);
    for (var w = first_index(wid, nwg, lid); w < p.words; w += stride) {
        mem[w] = pattern(key, w);
    }
}

@compute @workgroup_size(256)
fn check(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let stride = nwg.x * nwg.y * 256u;
    var sum = 0u;
    let key = region_key(p.chunk, p.seed);
    for (var w = first_index(wid, nwg, lid); w < p.words; w += stride) {
        // An odd multiplier permutes the words of a block.
        let a = (w & ~(BLOCK - 1u)) | ((w * SCATTER + p.rot) & (BLOCK - 1u));
        let got = mem[a];
        sum += got;
        let want = pattern(key, a);
        if (got != want) {
            let i = atomicAdd(&report.errors, 1u);
            if (i < RECORDS) {
                report.records[i] = Mismatch(p.chunk, a, want, got, p.run);
            }
            let flips = got ^ want;
            for (var b = 0u; b < 32u; b++) {
                if (((flips >> b) & 1u) != 0u) {
                    atomicAdd(&report.bits[b], 1u);
                }
            }
            atomicMin(&report.low16, p.base16 + a / 4u);
            atomicMax(&report.high16, p.base16 + a / 4u);
        }
    }
    atomicAdd(&report.sum, sum);
}
