// Ethash: dataset (DAG) generation from the light cache, and the hashimoto
// search loop. Everything is 32-bit: a Keccak lane is a vec2<u32> (low,
// high), since 64-bit integers are not on every adapter.
//
// Entry `generate` (bindings 10-12):
//   10: read-only storage GenJob (dynamic offset): first 64-byte item,
//       items in this dispatch, cache items, their reciprocal, and where in
//       the page the first item goes (in vec4 units).
//   11: read-only storage cache: the light cache, 64-byte items.
//   12: storage page: the dataset page being written.
// Entry `search` (bindings 0, 9 and 20-43):
//   0: read-only storage Job (dynamic offset), one per dispatch. Storage,
//      not uniform: lavapipe folds uniform values into the code and would
//      recompile the shader for every dispatch.
//   20-43: the dataset, split into pages of 2^page_shift rows of 128
//      bytes (an adapter's storage binding may be smaller than the
//      dataset: 24 of lavapipe's 128 MiB hold 3 GiB), so a row never
//      straddles two pages; the host declares only the pages it needs.
//   9: storage out: per invocation (fold, nonces hashed), carried across
//      dispatches so that the host's check covers every dispatch: the fold
//      continues from the previous dispatch's value, over the mix digest and
//      the final hash of every nonce, in order.
// Entry `search_hits` (the bindings of `search` and 13): `search`, and besides
//   13: storage hits: a counter, the target's top word, the capacity, then
//       (nonce low, nonce high) of every nonce whose final hash's top word
//       (big-endian) is at most the target's, while the capacity lasts (the
//       counter goes on, so the host sees an overflow). The host rechecks
//       every candidate against the whole 256-bit target.
// A nonce's index j = iteration * invocations + invocation, hashed when
// j < count; nonce = (nonce_hi << 32) | (first + j).
// `x % n` by a runtime n is a scalar division per lane on a CPU adapter;
// mod_n uses a reciprocal the host computed, floor((2^32 - 1) / n).

struct Job {
    header: array<vec4<u32>, 2>,
    // first, count, nonce_hi, iterations
    nonce: vec4<u32>,
    // rows, rows reciprocal, page_shift, page_mask
    rows: vec4<u32>,
}

struct GenJob {
    // first item, count, cache items, cache reciprocal
    a: vec4<u32>,
    // vec4 offset in the page of the first item, 0, 0, 0
    b: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> job: Job;
@group(0) @binding(20) var<storage, read> d0: array<vec4<u32>>;
@group(0) @binding(21) var<storage, read> d1: array<vec4<u32>>;
@group(0) @binding(22) var<storage, read> d2: array<vec4<u32>>;
@group(0) @binding(23) var<storage, read> d3: array<vec4<u32>>;
@group(0) @binding(24) var<storage, read> d4: array<vec4<u32>>;
@group(0) @binding(25) var<storage, read> d5: array<vec4<u32>>;
@group(0) @binding(26) var<storage, read> d6: array<vec4<u32>>;
@group(0) @binding(27) var<storage, read> d7: array<vec4<u32>>;
@group(0) @binding(28) var<storage, read> d8: array<vec4<u32>>;
@group(0) @binding(29) var<storage, read> d9: array<vec4<u32>>;
@group(0) @binding(30) var<storage, read> d10: array<vec4<u32>>;
@group(0) @binding(31) var<storage, read> d11: array<vec4<u32>>;
@group(0) @binding(32) var<storage, read> d12: array<vec4<u32>>;
@group(0) @binding(33) var<storage, read> d13: array<vec4<u32>>;
@group(0) @binding(34) var<storage, read> d14: array<vec4<u32>>;
@group(0) @binding(35) var<storage, read> d15: array<vec4<u32>>;
@group(0) @binding(36) var<storage, read> d16: array<vec4<u32>>;
@group(0) @binding(37) var<storage, read> d17: array<vec4<u32>>;
@group(0) @binding(38) var<storage, read> d18: array<vec4<u32>>;
@group(0) @binding(39) var<storage, read> d19: array<vec4<u32>>;
@group(0) @binding(40) var<storage, read> d20: array<vec4<u32>>;
@group(0) @binding(41) var<storage, read> d21: array<vec4<u32>>;
@group(0) @binding(42) var<storage, read> d22: array<vec4<u32>>;
@group(0) @binding(43) var<storage, read> d23: array<vec4<u32>>;
@group(0) @binding(9) var<storage, read_write> out: array<vec2<u32>>;

struct Hits {
    count: atomic<u32>,
    target_top: u32,
    capacity: u32,
    pad: u32,
    nonces: array<vec2<u32>>,
}

@group(0) @binding(13) var<storage, read_write> hits: Hits;

@group(0) @binding(10) var<storage, read> gen: GenJob;
@group(0) @binding(11) var<storage, read> cache: array<vec4<u32>>;
@group(0) @binding(12) var<storage, read_write> page: array<vec4<u32>>;

const WORKGROUP: u32 = 64u;
const KECCAK_ROUNDS: u32 = 24u;
const FNV_PRIME: u32 = 0x01000193u;
const DATASET_PARENTS: u32 = 256u;
const ACCESSES: u32 = 64u;

var<private> RC: array<vec2<u32>, 24> = array<vec2<u32>, 24>(
    vec2(0x00000001u, 0x00000000u), vec2(0x00008082u, 0x00000000u),
    vec2(0x0000808au, 0x80000000u), vec2(0x80008000u, 0x80000000u),
    vec2(0x0000808bu, 0x00000000u), vec2(0x80000001u, 0x00000000u),
    vec2(0x80008081u, 0x80000000u), vec2(0x00008009u, 0x80000000u),
    vec2(0x0000008au, 0x00000000u), vec2(0x00000088u, 0x00000000u),
    vec2(0x80008009u, 0x00000000u), vec2(0x8000000au, 0x00000000u),
    vec2(0x8000808bu, 0x00000000u), vec2(0x0000008bu, 0x80000000u),
    vec2(0x00008089u, 0x80000000u), vec2(0x00008003u, 0x80000000u),
    vec2(0x00008002u, 0x80000000u), vec2(0x00000080u, 0x80000000u),
    vec2(0x0000800au, 0x00000000u), vec2(0x8000000au, 0x80000000u),
    vec2(0x80008081u, 0x80000000u), vec2(0x00008080u, 0x80000000u),
    vec2(0x80000001u, 0x00000000u), vec2(0x80008008u, 0x80000000u),
);
// Rho offsets and pi destinations, in the order the combined step visits lanes.
var<private> ROTC: array<u32, 24> = array<u32, 24>(
    1u, 3u, 6u, 10u, 15u, 21u, 28u, 36u, 45u, 55u, 2u, 14u,
    27u, 41u, 56u, 8u, 25u, 43u, 62u, 18u, 39u, 61u, 20u, 44u,
);
var<private> PILN: array<u32, 24> = array<u32, 24>(
    10u, 7u, 11u, 17u, 18u, 3u, 5u, 16u, 8u, 21u, 24u, 4u,
    15u, 23u, 19u, 13u, 12u, 2u, 20u, 14u, 22u, 9u, 6u, 1u,
);

var<private> st: array<vec2<u32>, 25>;

// A 64-bit rotate left by n in 1..63 on (low, high); WGSL masks shift
// counts to 5 bits, so 32 and the two halves are handled apart.
fn rotl(v: vec2<u32>, n: u32) -> vec2<u32> {
    var x = v;
    var m = n;
    if (m >= 32u) {
        x = v.yx;
        m = m - 32u;
    }
    if (m == 0u) {
        return x;
    }
    return vec2((x.x << m) | (x.y >> (32u - m)), (x.y << m) | (x.x >> (32u - m)));
}

fn keccak_f() {
    var c: array<vec2<u32>, 5>;
    for (var r = 0u; r < KECCAK_ROUNDS; r++) {
        for (var x = 0u; x < 5u; x++) {
            c[x] = st[x] ^ st[x + 5u] ^ st[x + 10u] ^ st[x + 15u] ^ st[x + 20u];
        }
        for (var x = 0u; x < 5u; x++) {
            let d = c[(x + 4u) % 5u] ^ rotl(c[(x + 1u) % 5u], 1u);
            for (var y = 0u; y < 25u; y += 5u) {
                st[y + x] ^= d;
            }
        }
        var t = st[1];
        for (var i = 0u; i < 24u; i++) {
            let j = PILN[i];
            let b = st[j];
            st[j] = rotl(t, ROTC[i]);
            t = b;
        }
        for (var y = 0u; y < 25u; y += 5u) {
            for (var x = 0u; x < 5u; x++) {
                c[x] = st[y + x];
            }
            for (var x = 0u; x < 5u; x++) {
                st[y + x] = c[x] ^ (~c[(x + 1u) % 5u] & c[(x + 2u) % 5u]);
            }
        }
        st[0] ^= RC[r];
    }
}

fn clear_state() {
    for (var i = 0u; i < 25u; i++) {
        st[i] = vec2(0u, 0u);
    }
}

// Keccak-512 of the 64 bytes in m (16 words); the digest replaces m.
fn keccak512_64(m: ptr<function, array<u32, 16>>) {
    clear_state();
    for (var i = 0u; i < 8u; i++) {
        st[i] = vec2((*m)[2u * i], (*m)[2u * i + 1u]);
    }
    // Original Keccak padding: 0x01 after the message, 0x80 at the rate's end.
    st[8] = vec2(0x00000001u, 0x80000000u);
    keccak_f();
    for (var i = 0u; i < 8u; i++) {
        (*m)[2u * i] = st[i].x;
        (*m)[2u * i + 1u] = st[i].y;
    }
}

fn fnv(a: u32, b: u32) -> u32 {
    return (a * FNV_PRIME) ^ b;
}

// The high 32 bits of a * b, from 16-bit halves.
fn mulhi(a: u32, b: u32) -> u32 {
    let al = a & 0xffffu;
    let ah = a >> 16u;
    let bl = b & 0xffffu;
    let bh = b >> 16u;
    let lh = al * bh;
    let hl = ah * bl;
    let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

// x mod n, given recip = floor((2^32 - 1) / n): the quotient estimate is at
// most 2 short, so r < 3n, and two conditional subtractions finish it.
fn mod_n(x: u32, n: u32, recip: u32) -> u32 {
    var r = x - mulhi(x, recip) * n;
    if (r >= n) {
        r -= n;
    }
    if (r >= n) {
        r -= n;
    }
    return r;
}

fn invocation(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * WORKGROUP;
}

// One 64-byte dataset item per invocation.
@compute @workgroup_size(64, 1, 1)
fn generate(@builtin(global_invocation_id) gid: vec3<u32>,
            @builtin(num_workgroups) groups: vec3<u32>) {
    let k = invocation(gid, groups);
    if (k >= gen.a.y) {
        return;
    }
    let index = gen.a.x + k;
    let n = gen.a.z;
    let recip = gen.a.w;
    var mix: array<u32, 16>;
    let own = mod_n(index, n, recip) * 4u;
    for (var q = 0u; q < 4u; q++) {
        let v = cache[own + q];
        mix[4u * q] = v.x;
        mix[4u * q + 1u] = v.y;
        mix[4u * q + 2u] = v.z;
        mix[4u * q + 3u] = v.w;
    }
    mix[0] ^= index;
    keccak512_64(&mix);
    for (var j = 0u; j < DATASET_PARENTS; j++) {
        let parent = mod_n(fnv(index ^ j, mix[j & 15u]), n, recip) * 4u;
        for (var q = 0u; q < 4u; q++) {
            let v = cache[parent + q];
            mix[4u * q] = fnv(mix[4u * q], v.x);
            mix[4u * q + 1u] = fnv(mix[4u * q + 1u], v.y);
            mix[4u * q + 2u] = fnv(mix[4u * q + 2u], v.z);
            mix[4u * q + 3u] = fnv(mix[4u * q + 3u], v.w);
        }
    }
    keccak512_64(&mix);
    let at = gen.b.x + k * 4u;
    for (var q = 0u; q < 4u; q++) {
        page[at + q] = vec4(mix[4u * q], mix[4u * q + 1u], mix[4u * q + 2u], mix[4u * q + 3u]);
    }
}

// The q-th 16 bytes of a row held at vec4 index `at` of page p.
fn fetch(p: u32, at: u32) -> vec4<u32> {
    switch p {
        case 0u: { return d0[at]; }
        case 1u: { return d1[at]; }
        case 2u: { return d2[at]; }
        case 3u: { return d3[at]; }
        case 4u: { return d4[at]; }
        case 5u: { return d5[at]; }
        case 6u: { return d6[at]; }
        case 7u: { return d7[at]; }
        case 8u: { return d8[at]; }
        case 9u: { return d9[at]; }
        case 10u: { return d10[at]; }
        case 11u: { return d11[at]; }
        case 12u: { return d12[at]; }
        case 13u: { return d13[at]; }
        case 14u: { return d14[at]; }
        case 15u: { return d15[at]; }
        case 16u: { return d16[at]; }
        case 17u: { return d17[at]; }
        case 18u: { return d18[at]; }
        case 19u: { return d19[at]; }
        case 20u: { return d20[at]; }
        case 21u: { return d21[at]; }
        case 22u: { return d22[at]; }
        default: { return d23[at]; }
    }
}

// Hashimoto of one nonce; returns the fold of `acc` over its mix digest
// and final hash.
fn hashimoto(nonce_lo: u32, nonce_hi: u32, acc_in: u32) -> u32 {
    clear_state();
    for (var i = 0u; i < 4u; i++) {
        let h = job.header[i / 2u];
        if (i % 2u == 0u) {
            st[i] = h.xy;
        } else {
            st[i] = h.zw;
        }
    }
    st[4] = vec2(nonce_lo, nonce_hi);
    st[5] = vec2(0x00000001u, 0u);
    st[8] = vec2(0u, 0x80000000u);
    keccak_f();
    var seed: array<vec2<u32>, 8>;
    var mix: array<u32, 32>;
    for (var i = 0u; i < 8u; i++) {
        seed[i] = st[i];
        mix[2u * i] = st[i].x;
        mix[2u * i + 1u] = st[i].y;
        mix[2u * i + 16u] = st[i].x;
        mix[2u * i + 17u] = st[i].y;
    }
    let s0 = seed[0].x;
    let rows = job.rows.x;
    for (var i = 0u; i < ACCESSES; i++) {
        let row = mod_n(fnv(i ^ s0, mix[i & 31u]), rows, job.rows.y);
        let p = row >> job.rows.z;
        let base = (row & job.rows.w) * 8u;
        for (var q = 0u; q < 8u; q++) {
            let v = fetch(p, base + q);
            mix[4u * q] = fnv(mix[4u * q], v.x);
            mix[4u * q + 1u] = fnv(mix[4u * q + 1u], v.y);
            mix[4u * q + 2u] = fnv(mix[4u * q + 2u], v.z);
            mix[4u * q + 3u] = fnv(mix[4u * q + 3u], v.w);
        }
    }
    var cmix: array<u32, 8>;
    var acc = acc_in;
    for (var i = 0u; i < 8u; i++) {
        cmix[i] = fnv(fnv(fnv(mix[4u * i], mix[4u * i + 1u]), mix[4u * i + 2u]), mix[4u * i + 3u]);
        acc = fnv(acc, cmix[i]);
    }
    // Keccak-256 of seed (64 bytes) || cmix (32 bytes): rate 136 bytes.
    clear_state();
    for (var i = 0u; i < 8u; i++) {
        st[i] = seed[i];
    }
    for (var i = 0u; i < 4u; i++) {
        st[8u + i] = vec2(cmix[2u * i], cmix[2u * i + 1u]);
    }
    st[12] = vec2(0x00000001u, 0u);
    st[16] = vec2(0u, 0x80000000u);
    keccak_f();
    for (var i = 0u; i < 4u; i++) {
        acc = fnv(fnv(acc, st[i].x), st[i].y);
    }
    return acc;
}

@compute @workgroup_size(64, 1, 1)
fn search(@builtin(global_invocation_id) gid: vec3<u32>,
          @builtin(num_workgroups) groups: vec3<u32>) {
    let inv = invocation(gid, groups);
    let stride = groups.x * groups.y * WORKGROUP;
    var acc = out[inv];
    for (var it = 0u; it < job.nonce.w; it++) {
        let j = it * stride + inv;
        if (j >= job.nonce.y) {
            break;
        }
        acc.x = hashimoto(job.nonce.x + j, job.nonce.z, acc.x);
        acc.y += 1u;
    }
    out[inv] = acc;
}

// The big-endian reading of a little-endian word.
fn byteswap(x: u32) -> u32 {
    return (x << 24u) | ((x << 8u) & 0x00ff0000u) | ((x >> 8u) & 0x0000ff00u) | (x >> 24u);
}

@compute @workgroup_size(64, 1, 1)
fn search_hits(@builtin(global_invocation_id) gid: vec3<u32>,
               @builtin(num_workgroups) groups: vec3<u32>) {
    let inv = invocation(gid, groups);
    let stride = groups.x * groups.y * WORKGROUP;
    var folded = out[inv];
    for (var it = 0u; it < job.nonce.w; it++) {
        let j = it * stride + inv;
        if (j >= job.nonce.y) {
            break;
        }
        let lo = job.nonce.x + j;
        folded.x = hashimoto(lo, job.nonce.z, folded.x);
        folded.y += 1u;
        // hashimoto leaves the final Keccak state in st: its first lane's
        // low word holds the hash's four most significant bytes.
        if (byteswap(st[0].x) <= hits.target_top) {
            let k = atomicAdd(&hits.count, 1u);
            if (k < hits.capacity) {
                hits.nonces[k] = vec2(lo, job.nonce.z);
            }
        }
    }
    out[inv] = folded;
}
