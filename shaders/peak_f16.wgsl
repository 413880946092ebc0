// Peak f16 FMA rate: the fp32_fma kernel of peak.wgsl on vec4<f16> values,
// in its own file because `enable f16;` must not reach adapters without
// f16. Products and sums are f16 (fma on f16 operands).
//
// Bindings (group 0):
//   0 out    array<vec4<u32>>  one vec4 per invocation: the f32 value of the
//                              sum of its chains, as bits
//   1 params Params            read-only storage (see peak.wgsl for why)
// Layout: 1-D workgroups of WG invocations; invocation i = workgroup_id.x *
// WG + local_invocation_index. `iters` loop iterations, each two steps of
// every chain: a = fma(a, b, c), 2 FLOP per lane, with b and c from params.
// CHAINS (4 or 8) is the number of vec4<f16> accumulators per invocation.

enable f16;

override WG: u32 = 64u;
override CHAINS: u32 = 8u;

struct Params {
    iters: u32,
    seed: u32,
    _pad0: u32,
    _pad1: u32,
    // (b, c, -, -)
    f: vec4<f32>,
    k: vec4<u32>,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> params: Params;

fn start(i: u32, j: u32) -> f32 {
    return f32((i * 37u + j * 11u + params.seed) % 997u) / 997.0;
}

fn start_h(i: u32, j: u32) -> vec4<f16> {
    return vec4<f16>(-vec4<f32>(start(i, j)) - vec4<f32>(0.0, 0.125, 0.25, 0.375));
}

@compute @workgroup_size(WG)
fn fp16_fma(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = g.x * WG + l;
    let b = vec4<f16>(f16(params.f.x));
    let c = vec4<f16>(f16(params.f.y));
    var a0 = start_h(i, 0u);
    var a1 = start_h(i, 1u);
    var a2 = start_h(i, 2u);
    var a3 = start_h(i, 3u);
    var a4 = start_h(i, 4u);
    var a5 = start_h(i, 5u);
    var a6 = start_h(i, 6u);
    var a7 = start_h(i, 7u);
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
    var s = (vec4<f32>(a0) + vec4<f32>(a1)) + (vec4<f32>(a2) + vec4<f32>(a3));
    if (CHAINS > 4u) {
        s += (vec4<f32>(a4) + vec4<f32>(a5)) + (vec4<f32>(a6) + vec4<f32>(a7));
    }
    out[i] = bitcast<vec4<u32>>(s);
}
