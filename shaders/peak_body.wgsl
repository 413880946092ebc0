// Peak arithmetic rates: the shader body shared by every variant. A
// variant header (peak_f32, peak_f16, peak_f64) comes first and defines
// F (the float element), V (a vector of F: vec4<f32>, vec2<f16>, vec2<f64>)
// and `start(i, j, prev: V) -> V`, the starting value of chain j of
// invocation i in this repetition, from the value that chain stored last.
//
// Bindings (group 0; each entry point uses the output it writes):
//   0 out_v   array<V>            fma_chain: CHAINS values per invocation
//   1 params  Params              read-only storage, not a uniform: drivers
//                                 that specialise on uniform values would
//                                 recompile for every iteration count
//   2 out_f32 array<vec4<f32>>    fp32_mul_add: 2 * CHAINS per invocation
//   3 out_u   array<vec4<u32>>    i32_mad: CHAINS, int8_dot4: 2 * CHAINS,
//                                 sha256_round: 8 per invocation
// Layout: 1-D workgroups of WG invocations; invocation i = workgroup_id.x *
// WG + local_invocation_index writes its chains at i * (its count) + chain.
// `iters` loop iterations; each is two steps of every chain.
//
// Repetitions: the host zeroes the outputs once before timing, and every
// dispatch (repetition) of a measurement gets its own index, params.rep.
// Each chain of each repetition starts from seed(): a hash of the
// invocation, chain, lane, params.rep and the value that chain stored in
// the previous repetition, mapped into the kernel's start range (floats:
// [1, 2) with 10 fraction bits). So the final output is what all the
// repetitions produce together, in order: a repetition skipped, or cut
// short because its output is already there, changes it.
//
// Every chain is never combined with another chain and is stored whole,
// so the host can replay any chain exactly. The recurrences have no fixed
// point and no short cycle within the iteration counts used: floats grow
// strictly (x * a with a > 1 moves x by at least one ulp, plus b > 0), the
// LCG of i32_mad has period 2^32, int8_dot4 adds an odd constant larger
// than any dot product so x moves forward at every step, and the SHA-256
// rounds are a permutation.
//
// Kernels (per chain step; coefficients come from params at run time):
//   fma_chain     x = fma(x, a, b)                       2 FLOP per lane
//   fp32_mul_add  x = x * m   on multiply-only chains    1 FLOP per lane
//                 y = y + d   on add-only chains         1 FLOP per lane
//     Why: naga emits OpFMul / OpFAdd without NoContraction and Vulkan lets
//     a driver contract a multiply that feeds an add into an FMA. Here no
//     product is ever an operand of an add, even at the end: chains are
//     stored, not summed.
//   i32_mad       a = a * m + k   (wrapping)             2 ops per lane
//   int8_dot4     x = x + dot4I8Packed(y, w) + c; then
//                 y = y + dot4I8Packed(x, w) + c
//                 (a dp4a each: 4 multiplies + 4 adds = 8 ops per lane
//                 counted; the add of c is not counted)
//   sha256_round  one SHA-256 compression round on eight state words,
//                 K + W taken from params; 23 u32 operations per round
//                 counting a rotate as one.

override WG: u32 = 64u;
override CHAINS: u32 = 8u;

struct Params {
    iters: u32,
    seed: u32,
    // This repetition's index within the measurement.
    rep: u32,
    _pad1: u32,
    // (fma a, fma b, mul m, add d), exact in every float format used
    f: vec4<f32>,
    // i32_mad: (m, k, -, -); int8_dot4: (w, c, -, -); sha256_round: K + W
    k: vec4<u32>,
}

@group(0) @binding(0) var<storage, read_write> out_v: array<V>;
@group(0) @binding(1) var<storage, read> params: Params;
@group(0) @binding(2) var<storage, read_write> out_f32: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out_u: array<vec4<u32>>;

fn mix32(x: u32) -> u32 {
    var h = x;
    h = (h ^ (h >> 16u)) * 0x7feb352du;
    h = (h ^ (h >> 15u)) * 0x846ca68bu;
    return h ^ (h >> 16u);
}

// A 32-bit hash of (invocation, chain, lane, repetition, what the chain
// stored last): every chain of every invocation starts somewhere else in
// every repetition.
fn seed(i: u32, j: u32, q: u32, prev: u32) -> u32 {
    let r = mix32(prev ^ (params.rep * 0x27d4eb2fu));
    return mix32(i * 0x9e3779b9u + j * 0x85ebca6bu + q * 0xc2b2ae35u + params.seed + r);
}

// A start value in [1, 2) with 10 fraction bits, exact in f16, f32, f64,
// made from bits alone (no float arithmetic).
fn unit(i: u32, j: u32, q: u32, prev: u32) -> f32 {
    return bitcast<f32>(0x3f800000u | ((seed(i, j, q, prev) & 1023u) << 13u));
}

fn unit4(i: u32, j: u32, prev: vec4<u32>) -> vec4<f32> {
    return vec4<f32>(
        unit(i, j, 0u, prev.x),
        unit(i, j, 1u, prev.y),
        unit(i, j, 2u, prev.z),
        unit(i, j, 3u, prev.w),
    );
}

fn seed4(i: u32, j: u32, prev: vec4<u32>) -> vec4<u32> {
    return vec4<u32>(
        seed(i, j, 0u, prev.x),
        seed(i, j, 1u, prev.y),
        seed(i, j, 2u, prev.z),
        seed(i, j, 3u, prev.w),
    );
}

// What chain j (of `per` stored per invocation, from o) stored last; a
// chain the CHAINS setting leaves unused reads the last used one, never
// another invocation's output.
fn prev_v(o: u32, j: u32) -> V {
    return out_v[o + min(j, CHAINS - 1u)];
}

fn prev_f32(o: u32, j: u32) -> vec4<u32> {
    return bitcast<vec4<u32>>(out_f32[o + min(j, 2u * CHAINS - 1u)]);
}

fn prev_u(o: u32, j: u32, per: u32) -> vec4<u32> {
    return out_u[o + min(j, per - 1u)];
}

@compute @workgroup_size(WG)
fn fma_chain(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let o = i * CHAINS;
    let a = V(F(params.f.x));
    let b = V(F(params.f.y));
    var a0 = start(i, 0u, prev_v(o, 0u));
    var a1 = start(i, 1u, prev_v(o, 1u));
    var a2 = start(i, 2u, prev_v(o, 2u));
    var a3 = start(i, 3u, prev_v(o, 3u));
    var a4 = start(i, 4u, prev_v(o, 4u));
    var a5 = start(i, 5u, prev_v(o, 5u));
    var a6 = start(i, 6u, prev_v(o, 6u));
    var a7 = start(i, 7u, prev_v(o, 7u));
    var a8 = start(i, 8u, prev_v(o, 8u));
    var a9 = start(i, 9u, prev_v(o, 9u));
    var a10 = start(i, 10u, prev_v(o, 10u));
    var a11 = start(i, 11u, prev_v(o, 11u));
    var a12 = start(i, 12u, prev_v(o, 12u));
    var a13 = start(i, 13u, prev_v(o, 13u));
    var a14 = start(i, 14u, prev_v(o, 14u));
    var a15 = start(i, 15u, prev_v(o, 15u));
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        a0 = fma(a0, a, b);
        a1 = fma(a1, a, b);
        a2 = fma(a2, a, b);
        a3 = fma(a3, a, b);
        if (CHAINS > 4u) {
            a4 = fma(a4, a, b);
            a5 = fma(a5, a, b);
            a6 = fma(a6, a, b);
            a7 = fma(a7, a, b);
        }
        if (CHAINS > 8u) {
            a8 = fma(a8, a, b);
            a9 = fma(a9, a, b);
            a10 = fma(a10, a, b);
            a11 = fma(a11, a, b);
            a12 = fma(a12, a, b);
            a13 = fma(a13, a, b);
            a14 = fma(a14, a, b);
            a15 = fma(a15, a, b);
        }
        a0 = fma(a0, a, b);
        a1 = fma(a1, a, b);
        a2 = fma(a2, a, b);
        a3 = fma(a3, a, b);
        if (CHAINS > 4u) {
            a4 = fma(a4, a, b);
            a5 = fma(a5, a, b);
            a6 = fma(a6, a, b);
            a7 = fma(a7, a, b);
        }
        if (CHAINS > 8u) {
            a8 = fma(a8, a, b);
            a9 = fma(a9, a, b);
            a10 = fma(a10, a, b);
            a11 = fma(a11, a, b);
            a12 = fma(a12, a, b);
            a13 = fma(a13, a, b);
            a14 = fma(a14, a, b);
            a15 = fma(a15, a, b);
        }
    }
    out_v[o + 0u] = a0;
    out_v[o + 1u] = a1;
    out_v[o + 2u] = a2;
    out_v[o + 3u] = a3;
    if (CHAINS > 4u) {
        out_v[o + 4u] = a4;
        out_v[o + 5u] = a5;
        out_v[o + 6u] = a6;
        out_v[o + 7u] = a7;
    }
    if (CHAINS > 8u) {
        out_v[o + 8u] = a8;
        out_v[o + 9u] = a9;
        out_v[o + 10u] = a10;
        out_v[o + 11u] = a11;
        out_v[o + 12u] = a12;
        out_v[o + 13u] = a13;
        out_v[o + 14u] = a14;
        out_v[o + 15u] = a15;
    }
}

@compute @workgroup_size(WG)
fn fp32_mul_add(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let o = i * 2u * CHAINS;
    let m = vec4<f32>(params.f.z);
    let d = vec4<f32>(params.f.w);
    // x: multiply-only chains; y: add-only chains.
    var x0 = unit4(i, 0u, prev_f32(o, 0u));
    var y0 = unit4(i, 1u, prev_f32(o, 1u));
    var x1 = unit4(i, 2u, prev_f32(o, 2u));
    var y1 = unit4(i, 3u, prev_f32(o, 3u));
    var x2 = unit4(i, 4u, prev_f32(o, 4u));
    var y2 = unit4(i, 5u, prev_f32(o, 5u));
    var x3 = unit4(i, 6u, prev_f32(o, 6u));
    var y3 = unit4(i, 7u, prev_f32(o, 7u));
    var x4 = unit4(i, 8u, prev_f32(o, 8u));
    var y4 = unit4(i, 9u, prev_f32(o, 9u));
    var x5 = unit4(i, 10u, prev_f32(o, 10u));
    var y5 = unit4(i, 11u, prev_f32(o, 11u));
    var x6 = unit4(i, 12u, prev_f32(o, 12u));
    var y6 = unit4(i, 13u, prev_f32(o, 13u));
    var x7 = unit4(i, 14u, prev_f32(o, 14u));
    var y7 = unit4(i, 15u, prev_f32(o, 15u));
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        x0 = x0 * m;
        y0 = y0 + d;
        x1 = x1 * m;
        y1 = y1 + d;
        x2 = x2 * m;
        y2 = y2 + d;
        x3 = x3 * m;
        y3 = y3 + d;
        if (CHAINS > 4u) {
            x4 = x4 * m;
            y4 = y4 + d;
            x5 = x5 * m;
            y5 = y5 + d;
            x6 = x6 * m;
            y6 = y6 + d;
            x7 = x7 * m;
            y7 = y7 + d;
        }
        x0 = x0 * m;
        y0 = y0 + d;
        x1 = x1 * m;
        y1 = y1 + d;
        x2 = x2 * m;
        y2 = y2 + d;
        x3 = x3 * m;
        y3 = y3 + d;
        if (CHAINS > 4u) {
            x4 = x4 * m;
            y4 = y4 + d;
            x5 = x5 * m;
            y5 = y5 + d;
            x6 = x6 * m;
            y6 = y6 + d;
            x7 = x7 * m;
            y7 = y7 + d;
        }
    }
    out_f32[o + 0u] = x0;
    out_f32[o + 1u] = y0;
    out_f32[o + 2u] = x1;
    out_f32[o + 3u] = y1;
    out_f32[o + 4u] = x2;
    out_f32[o + 5u] = y2;
    out_f32[o + 6u] = x3;
    out_f32[o + 7u] = y3;
    if (CHAINS > 4u) {
        out_f32[o + 8u] = x4;
        out_f32[o + 9u] = y4;
        out_f32[o + 10u] = x5;
        out_f32[o + 11u] = y5;
        out_f32[o + 12u] = x6;
        out_f32[o + 13u] = y6;
        out_f32[o + 14u] = x7;
        out_f32[o + 15u] = y7;
    }
}

@compute @workgroup_size(WG)
fn i32_mad(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    // u32 wrapping arithmetic is i32's two's-complement arithmetic.
    let o = i * CHAINS;
    let m = vec4<u32>(params.k.x);
    let k = vec4<u32>(params.k.y);
    var a0 = seed4(i, 0u, prev_u(o, 0u, CHAINS));
    var a1 = seed4(i, 1u, prev_u(o, 1u, CHAINS));
    var a2 = seed4(i, 2u, prev_u(o, 2u, CHAINS));
    var a3 = seed4(i, 3u, prev_u(o, 3u, CHAINS));
    var a4 = seed4(i, 4u, prev_u(o, 4u, CHAINS));
    var a5 = seed4(i, 5u, prev_u(o, 5u, CHAINS));
    var a6 = seed4(i, 6u, prev_u(o, 6u, CHAINS));
    var a7 = seed4(i, 7u, prev_u(o, 7u, CHAINS));
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
    out_u[o + 0u] = a0;
    out_u[o + 1u] = a1;
    out_u[o + 2u] = a2;
    out_u[o + 3u] = a3;
    if (CHAINS > 4u) {
        out_u[o + 4u] = a4;
        out_u[o + 5u] = a5;
        out_u[o + 6u] = a6;
        out_u[o + 7u] = a7;
    }
}

// One dp4a per lane: the signed 8-bit dot product of y's bytes with w's.
fn dot4(y: vec4<u32>, w: u32) -> vec4<u32> {
    return bitcast<vec4<u32>>(vec4<i32>(
        dot4I8Packed(y.x, w),
        dot4I8Packed(y.y, w),
        dot4I8Packed(y.z, w),
        dot4I8Packed(y.w, w),
    ));
}

@compute @workgroup_size(WG)
fn int8_dot4(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let o = i * 2u * CHAINS;
    let w = params.k.x;
    let c = vec4<u32>(params.k.y);
    var x0 = seed4(i, 0u, prev_u(o, 0u, 2u * CHAINS));
    var y0 = seed4(i, 1u, prev_u(o, 1u, 2u * CHAINS));
    var x1 = seed4(i, 2u, prev_u(o, 2u, 2u * CHAINS));
    var y1 = seed4(i, 3u, prev_u(o, 3u, 2u * CHAINS));
    var x2 = seed4(i, 4u, prev_u(o, 4u, 2u * CHAINS));
    var y2 = seed4(i, 5u, prev_u(o, 5u, 2u * CHAINS));
    var x3 = seed4(i, 6u, prev_u(o, 6u, 2u * CHAINS));
    var y3 = seed4(i, 7u, prev_u(o, 7u, 2u * CHAINS));
    var x4 = seed4(i, 8u, prev_u(o, 8u, 2u * CHAINS));
    var y4 = seed4(i, 9u, prev_u(o, 9u, 2u * CHAINS));
    var x5 = seed4(i, 10u, prev_u(o, 10u, 2u * CHAINS));
    var y5 = seed4(i, 11u, prev_u(o, 11u, 2u * CHAINS));
    var x6 = seed4(i, 12u, prev_u(o, 12u, 2u * CHAINS));
    var y6 = seed4(i, 13u, prev_u(o, 13u, 2u * CHAINS));
    var x7 = seed4(i, 14u, prev_u(o, 14u, 2u * CHAINS));
    var y7 = seed4(i, 15u, prev_u(o, 15u, 2u * CHAINS));
    let n = params.iters;
    for (var t = 0u; t < n; t += 1u) {
        x0 = x0 + dot4(y0, w) + c;
        y0 = y0 + dot4(x0, w) + c;
        x1 = x1 + dot4(y1, w) + c;
        y1 = y1 + dot4(x1, w) + c;
        x2 = x2 + dot4(y2, w) + c;
        y2 = y2 + dot4(x2, w) + c;
        x3 = x3 + dot4(y3, w) + c;
        y3 = y3 + dot4(x3, w) + c;
        if (CHAINS > 4u) {
            x4 = x4 + dot4(y4, w) + c;
            y4 = y4 + dot4(x4, w) + c;
            x5 = x5 + dot4(y5, w) + c;
            y5 = y5 + dot4(x5, w) + c;
            x6 = x6 + dot4(y6, w) + c;
            y6 = y6 + dot4(x6, w) + c;
            x7 = x7 + dot4(y7, w) + c;
            y7 = y7 + dot4(x7, w) + c;
        }
    }
    out_u[o + 0u] = x0;
    out_u[o + 1u] = y0;
    out_u[o + 2u] = x1;
    out_u[o + 3u] = y1;
    out_u[o + 4u] = x2;
    out_u[o + 5u] = y2;
    out_u[o + 6u] = x3;
    out_u[o + 7u] = y3;
    if (CHAINS > 4u) {
        out_u[o + 8u] = x4;
        out_u[o + 9u] = y4;
        out_u[o + 10u] = x5;
        out_u[o + 11u] = y5;
        out_u[o + 12u] = x6;
        out_u[o + 13u] = y6;
        out_u[o + 14u] = x7;
        out_u[o + 15u] = y7;
    }
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
    let o = i * 8u;
    let k0 = vec4<u32>(params.k.x);
    let k1 = vec4<u32>(params.k.y);
    let k2 = vec4<u32>(params.k.z);
    let k3 = vec4<u32>(params.k.w);
    var a = seed4(i, 0u, prev_u(o, 0u, 8u));
    var b = seed4(i, 1u, prev_u(o, 1u, 8u));
    var c = seed4(i, 2u, prev_u(o, 2u, 8u));
    var d = seed4(i, 3u, prev_u(o, 3u, 8u));
    var e = seed4(i, 4u, prev_u(o, 4u, 8u));
    var f = seed4(i, 5u, prev_u(o, 5u, 8u));
    var gg = seed4(i, 6u, prev_u(o, 6u, 8u));
    var h = seed4(i, 7u, prev_u(o, 7u, 8u));
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
    out_u[o] = a;
    out_u[o + 1u] = b;
    out_u[o + 2u] = c;
    out_u[o + 3u] = d;
    out_u[o + 4u] = e;
    out_u[o + 5u] = f;
    out_u[o + 6u] = gg;
    out_u[o + 7u] = h;
}
