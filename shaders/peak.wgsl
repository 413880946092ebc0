// Peak arithmetic rates, in the spirit of clpeak and vkpeak: every
// invocation runs long dependent chains in registers, several independent
// chains at once so that latency is hidden, and writes the sum of its
// chains so that nothing can be optimised away. The host recomputes a few
// invocations on the CPU.
//
// Bindings (group 0):
//   0 out    array<vec4<u32>>  one vec4 per invocation (floats as bits)
//   1 params Params            read-only storage, not a uniform: drivers
//                              that specialise on uniform values (lavapipe)
//                              would recompile for every iteration count
// Layout: 1-D workgroups of WG invocations; invocation i = workgroup_id.x *
// WG + local_invocation_index. `iters` loop iterations in all; each is two
// steps of every chain (sha256_round: eight rounds).
//
// Kernels (per chain step, on vec4 values; `b`, `c` etc. come from params
// at run time, so no compiler can fold or predict the chains):
//   fp32_fma      a = fma(a, b, c)                       2 FLOP per lane
//   fp32_mul_add  x = x * b   on multiply-only chains    1 FLOP per lane
//                 y = y + c   on add-only chains         1 FLOP per lane
//     Why: naga emits OpFMul / OpFAdd without NoContraction, and Vulkan
//     lets a driver contract a multiply that feeds an add into an FMA (Mesa
//     and NVIDIA both do). So no multiply result here is ever an operand
//     of an add: half the chains only multiply (by b, then by a separately
//     loaded ~1/b), half only add (c, then a separately loaded ~-c). There
//     is no a * b + c anywhere for contraction to form, and no extra
//     instruction is needed to hide one. Reassociating x * b * binv would
//     need fast-math, which SPIR-V does not grant.
//   i32_mad       a = a * m + k   (wrapping)             2 ops per lane
//   sha256_round  one SHA-256 compression round on eight state words,
//                 K + W taken from params; 23 u32 operations per round
//                 counting a rotate as one (Sigma: 3 rotates + 2 xors
//                 each, Ch 3, Maj 4, 7 adds).
// CHAINS (4 or 8) is the number of vec4 accumulators per invocation for the
// fma, mul_add and mad kernels.

override WG: u32 = 64u;
override CHAINS: u32 = 8u;

struct Params {
    iters: u32,
    seed: u32,
    _pad0: u32,
    _pad1: u32,
    // fp32_fma: (b, c, -, -); fp32_mul_add: (b, binv, c, cneg)
    f: vec4<f32>,
    // i32_mad: (m, k, -, -); sha256_round: four K + W words
    k: vec4<u32>,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> params: Params;

// A starting value per invocation and chain, in [0, 1).
fn start(i: u32, j: u32) -> f32 {
    return f32((i * 37u + j * 11u + params.seed) % 997u) / 997.0;
}

fn start_f(i: u32, j: u32) -> vec4<f32> {
    return -vec4<f32>(start(i, j)) - vec4<f32>(0.0, 0.125, 0.25, 0.375);
}

fn start_u(i: u32, j: u32) -> vec4<u32> {
    let s = i * 0x9e3779b9u + j * 0x85ebca6bu + params.seed;
    return vec4<u32>(s, s ^ 0x68e31da4u, s + 0x1b873593u, s * 3u);
}

@compute @workgroup_size(WG)
fn fp32_fma(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let b = vec4<f32>(params.f.x);
    let c = vec4<f32>(params.f.y);
    var a0 = start_f(i, 0u);
    var a1 = start_f(i, 1u);
    var a2 = start_f(i, 2u);
    var a3 = start_f(i, 3u);
    var a4 = start_f(i, 4u);
    var a5 = start_f(i, 5u);
    var a6 = start_f(i, 6u);
    var a7 = start_f(i, 7u);
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        a0 = fma(a0, b, c);
        a1 = fma(a1, b, c);
        a2 = fma(a2, b, c);
        a3 = fma(a3, b, c);
        if (CHAINS > 4u) {
            a4 = fma(a4, b, c);
            a5 = fma(a5, b, c);
            a6 = fma(a6, b, c);
            a7 = fma(a7, b, c);
        }
        a0 = fma(a0, b, c);
        a1 = fma(a1, b, c);
        a2 = fma(a2, b, c);
        a3 = fma(a3, b, c);
        if (CHAINS > 4u) {
            a4 = fma(a4, b, c);
            a5 = fma(a5, b, c);
            a6 = fma(a6, b, c);
            a7 = fma(a7, b, c);
        }
    }
    var s = (a0 + a1) + (a2 + a3);
    if (CHAINS > 4u) {
        s += (a4 + a5) + (a6 + a7);
    }
    out[i] = bitcast<vec4<u32>>(s);
}

@compute @workgroup_size(WG)
fn fp32_mul_add(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let b = vec4<f32>(params.f.x);
    let binv = vec4<f32>(params.f.y);
    let c = vec4<f32>(params.f.z);
    let cneg = vec4<f32>(params.f.w);
    // x: multiply-only chains; y: add-only chains.
    var x0 = start_f(i, 0u);
    var y0 = start_f(i, 1u);
    var x1 = start_f(i, 2u);
    var y1 = start_f(i, 3u);
    var x2 = start_f(i, 4u);
    var y2 = start_f(i, 5u);
    var x3 = start_f(i, 6u);
    var y3 = start_f(i, 7u);
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        x0 = x0 * b;
        y0 = y0 + c;
        x1 = x1 * b;
        y1 = y1 + c;
        if (CHAINS > 4u) {
            x2 = x2 * b;
            y2 = y2 + c;
            x3 = x3 * b;
            y3 = y3 + c;
        }
        x0 = x0 * binv;
        y0 = y0 + cneg;
        x1 = x1 * binv;
        y1 = y1 + cneg;
        if (CHAINS > 4u) {
            x2 = x2 * binv;
            y2 = y2 + cneg;
            x3 = x3 * binv;
            y3 = y3 + cneg;
        }
    }
    var s = (x0 + y0) + (x1 + y1);
    if (CHAINS > 4u) {
        s += (x2 + y2) + (x3 + y3);
    }
    out[i] = bitcast<vec4<u32>>(s);
}

@compute @workgroup_size(WG)
fn i32_mad(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let m = vec4<i32>(bitcast<i32>(params.k.x));
    let k = vec4<i32>(bitcast<i32>(params.k.y));
    var a0 = bitcast<vec4<i32>>(start_u(i, 0u));
    var a1 = bitcast<vec4<i32>>(start_u(i, 1u));
    var a2 = bitcast<vec4<i32>>(start_u(i, 2u));
    var a3 = bitcast<vec4<i32>>(start_u(i, 3u));
    var a4 = bitcast<vec4<i32>>(start_u(i, 4u));
    var a5 = bitcast<vec4<i32>>(start_u(i, 5u));
    var a6 = bitcast<vec4<i32>>(start_u(i, 6u));
    var a7 = bitcast<vec4<i32>>(start_u(i, 7u));
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        a0 = a0 * m + k;
        a1 = a1 * m + k;
        a2 = a2 * m + k;
        a3 = a3 * m + k;
        if (CHAINS > 4u) {
            a4 = a4 * m + k;
            a5 = a5 * m + k;
            a6 = a6 * m + k;
            a7 = a7 * m + k;
        }
        a0 = a0 * m + k;
        a1 = a1 * m + k;
        a2 = a2 * m + k;
        a3 = a3 * m + k;
        if (CHAINS > 4u) {
            a4 = a4 * m + k;
            a5 = a5 * m + k;
            a6 = a6 * m + k;
            a7 = a7 * m + k;
        }
    }
    var s = (a0 + a1) + (a2 + a3);
    if (CHAINS > 4u) {
        s += (a4 + a5) + (a6 + a7);
    }
    out[i] = bitcast<vec4<u32>>(s);
}

fn rotr(x: vec4<u32>, n: u32) -> vec4<u32> {
    return (x >> vec4<u32>(n)) | (x << vec4<u32>(32u - n));
}

// h + Sigma1(e) + Ch(e, f, g) + kw
fn t1(e: vec4<u32>, f: vec4<u32>, g: vec4<u32>, h: vec4<u32>, kw: vec4<u32>) -> vec4<u32> {
    let s1 = rotr(e, 6u) ^ rotr(e, 11u) ^ rotr(e, 25u);
    let ch = g ^ (e & (f ^ g));
    return h + s1 + ch + kw;
}

// Sigma0(a) + Maj(a, b, c)
fn t2(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>) -> vec4<u32> {
    let s0 = rotr(a, 2u) ^ rotr(a, 13u) ^ rotr(a, 22u);
    let maj = (a & b) | (c & (a | b));
    return s0 + maj;
}

// Eight rounds per iteration, renaming the state words instead of moving
// them, as real SHA-256 code does. Four independent states per invocation
// (one per vector lane).
@compute @workgroup_size(WG)
fn sha256_round(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let k0 = vec4<u32>(params.k.x);
    let k1 = vec4<u32>(params.k.y);
    let k2 = vec4<u32>(params.k.z);
    let k3 = vec4<u32>(params.k.w);
    var a = start_u(i, 0u);
    var b = start_u(i, 1u);
    var c = start_u(i, 2u);
    var d = start_u(i, 3u);
    var e = start_u(i, 4u);
    var f = start_u(i, 5u);
    var gg = start_u(i, 6u);
    var h = start_u(i, 7u);
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        var x = t1(e, f, gg, h, k0);
        d += x;
        h = x + t2(a, b, c);
        x = t1(d, e, f, gg, k1);
        c += x;
        gg = x + t2(h, a, b);
        x = t1(c, d, e, f, k2);
        b += x;
        f = x + t2(gg, h, a);
        x = t1(b, c, d, e, k3);
        a += x;
        e = x + t2(f, gg, h);
        x = t1(a, b, c, d, k0);
        h += x;
        d = x + t2(e, f, gg);
        x = t1(h, a, b, c, k1);
        gg += x;
        c = x + t2(d, e, f);
        x = t1(gg, h, a, b, k2);
        f += x;
        b = x + t2(c, d, e);
        x = t1(f, gg, h, a, k3);
        e += x;
        a = x + t2(b, c, d);
    }
    out[i] = (a ^ b) + (c ^ d) + (e ^ f) + (gg ^ h);
}
