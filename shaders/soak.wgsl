// Sustained load for the soak: an FMA-bound rotation and a memory copy.
//
// Every dispatch is one repetition and reads its own slot of `reps` (bound
// with a dynamic offset; read-only storage rather than a uniform, which
// lavapipe would fold into the code and recompile for every repetition).
//
// `fma_rotate` starts each element from its input moved by an offset hashed
// from the element and the repetition's seed, rotates it `iters` times by a
// fixed angle (the recurrence has no fixed point besides zero, never a
// start), and adds the result to the element's output. The output is the
// sum over every repetition, each with its own start, so a repetition
// skipped, or one that kept its earlier output, changes it.
//
// `copy` moves one word per element from one buffer to the other, rotated
// by the repetition's offset; repetitions alternate direction, so the final
// buffer is the input rotated by the sum of every repetition's offset.

struct Rep {
    index: u32,
    seed: u32,
    offset: u32,
    pad: u32,
}

struct SoakParams {
    n: u32,
    iters: u32,
    c: f32,
    s: f32,
}

@group(0) @binding(0) var<storage, read> rep: Rep;

// A bijection on u32 (lowbias32); `mix32` on the host.
fn mix32(x: u32) -> u32 {
    var h = x;
    h ^= h >> 16u;
    h *= 0x7feb352du;
    h ^= h >> 15u;
    h *= 0x846ca68bu;
    h ^= h >> 16u;
    return h;
}

@group(0) @binding(1) var<storage, read> sp: SoakParams;
@group(0) @binding(2) var<storage, read> fin: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> fout: array<vec2<f32>>;

// The host dispatches one workgroup per SPAN elements; WG invocations
// cover them in SPAN / WG steps, so that the workgroup fits every device
// (GLES 3.1 guarantees 128 invocations) whatever the host's sizing.
const SPAN: u32 = 256u;
const WG: u32 = 64u;

@compute @workgroup_size(WG)
fn fma_rotate(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let base = (wid.y * nwg.x + wid.x) * SPAN + lid;
    for (var r = 0u; r < SPAN; r += WG) {
        let i = base + r;
        if (i >= sp.n) {
            return;
        }
        // Offsets in [-0.5, 0.5) in steps of 2^-16: exact in f32.
        let h = mix32(i ^ rep.seed);
        let off = vec2<f32>(f32(h & 0xffffu), f32(h >> 16u)) / 65536.0 - 0.5;
        var v = fin[i] + off;
        for (var k = 0u; k < sp.iters; k++) {
            v = vec2<f32>(fma(v.x, sp.c, -(v.y * sp.s)), fma(v.x, sp.s, v.y * sp.c));
        }
        fout[i] += v;
    }
}

@group(0) @binding(4) var<storage, read> csrc: array<u32>;
@group(0) @binding(5) var<storage, read_write> cdst: array<u32>;

@compute @workgroup_size(WG)
fn copy(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = arrayLength(&csrc);
    let stride = nwg.x * nwg.y * SPAN;
    for (var s = (wid.y * nwg.x + wid.x) * SPAN + lid; s < n; s += stride) {
        for (var r = 0u; r < SPAN && s + r < n; r += WG) {
            let i = s + r;
            var d = i + rep.offset;
            if (d >= n) {
                d -= n;
            }
            cdst[d] = csrc[i];
        }
    }
}
