// VRAM integrity test in the manner of memtest_vulkan. Every word's expected
// value is `mul * h(word) + add`, where h is a bijective hash of the word's
// index under the buffer's key and (mul, add) is the state the write passes
// have brought the buffer to (mul is odd, so distinct addresses hold
// distinct words): a stuck bit, two addresses that alias (an address-line
// fault) or a bit that flips while stored all read back as a mismatch.
// `hash4` must stay identical to `vram::pattern` on the host.
//
// Each write pass adds `mul * h + add` for its own (mul, add), so the state
// after the last pass depends on every pass. Between passes the host plants
// canaries (words at random addresses set to random values) that this
// shader is never told about: a check that reads reports exactly them.

struct Params {
    // The buffer's hash key.
    key: u32,
    // vec4 words in this buffer.
    words4: u32,
    // check: the state the buffer holds; write: the step this pass adds.
    mul: u32,
    add: u32,
    // Report slot of this check repetition.
    slot: u32,
    // The repetition's index within its measurement.
    run: u32,
    // Index of the buffer, recorded with each mismatch.
    chunk: u32,
    // Mismatches one report slot records in full.
    recs: u32,
}

@group(0) @binding(0) var<storage, read_write> mem: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> p: Params;
// Words 0..32: reserved. Then one slot per check repetition: mismatch
// count, digest of the mismatches, and `recs` records (chunk, word, got).
// (No per-bit histogram here: every invocation hammering the same 32
// counters made the check 10x slower on a CPU adapter; the host counts
// flipped bits from the records.)
@group(0) @binding(2) var<storage, read_write> report: array<atomic<u32>>;

// A bijection on u32 (lowbias32), four lanes at once.
fn mix4(x: vec4<u32>) -> vec4<u32> {
    var h = x;
    h ^= h >> vec4(16u);
    h *= vec4(0x7feb352du);
    h ^= h >> vec4(15u);
    h *= vec4(0x846ca68bu);
    h ^= h >> vec4(16u);
    return h;
}

fn mix32(x: u32) -> u32 {
    return mix4(vec4(x)).x;
}

// h of the four words of vec4 `v`.
fn hash4(key: u32, v: u32) -> vec4<u32> {
    return mix4((vec4(v * 4u) + vec4(0u, 1u, 2u, 3u)) ^ vec4(key));
}

fn first_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * 64u + lid;
}

// Setup: the state (1, 0).
@compute @workgroup_size(64)
fn fill(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let stride = nwg.x * nwg.y * 64u;
    for (var v = first_index(wid, nwg, lid); v < p.words4; v += stride) {
        mem[v] = hash4(p.key, v);
    }
}

// One write pass: every word gains this pass's step.
@compute @workgroup_size(64)
fn write(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let stride = nwg.x * nwg.y * 64u;
    let mul = vec4(p.mul);
    let add = vec4(p.add);
    for (var v = first_index(wid, nwg, lid); v < p.words4; v += stride) {
        mem[v] = mem[v] + hash4(p.key, v) * mul + add;
    }
}

// The check's only read of memory.
fn load(v: u32) -> vec4<u32> {
    return mem[v];
}

// Off the hot path: counts, digests and records each mismatching word.
fn mismatch(v: u32, got: vec4<u32>, want: vec4<u32>) {
    let base = 32u + p.slot * (2u + 3u * p.recs);
    for (var j = 0u; j < 4u; j++) {
        if (got[j] == want[j]) {
            continue;
        }
        let w = v * 4u + j;
        let i = atomicAdd(&report[base], 1u);
        atomicAdd(&report[base + 1u], mix32(mix32(w ^ (p.chunk * 0x9e3779b9u)) + got[j]));
        if (i < p.recs) {
            let r = base + 2u + 3u * i;
            atomicStore(&report[r], p.chunk);
            atomicStore(&report[r + 1u], w);
            atomicStore(&report[r + 2u], got[j]);
        }

    }
}

const SPAN: u32 = 16u;

// One check repetition: reads every word once (vec4 loads, consecutive
// lanes on consecutive addresses).
@compute @workgroup_size(64)
fn check(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let stride = nwg.x * nwg.y * 64u;
    let mul = vec4(p.mul);
    let add = vec4(p.add);
    // The hot loop only ORs differences over a run of SPAN reads; a run
    // that differs anywhere is read again word by word off the hot path.
    for (var v0 = first_index(wid, nwg, lid); v0 < p.words4; v0 += stride * SPAN) {
        var diff = vec4(0u);
        for (var k = 0u; k < SPAN; k++) {
            let v = v0 + k * stride;
            if (v < p.words4) {
                diff |= load(v) ^ (hash4(p.key, v) * mul + add);
            }
        }
        if (any(diff != vec4(0u))) {
            for (var k = 0u; k < SPAN; k++) {
                let v = v0 + k * stride;
                if (v < p.words4) {
                    let got = load(v);
                    let want = hash4(p.key, v) * mul + add;
                    if (any(got != want)) {
                        mismatch(v, got, want);
                    }
                }
            }
        }
    }
}
