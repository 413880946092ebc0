// Sustained load for the soak: an FMA-bound rotation and a memory copy.
//
// `fma` rotates each element's vector `iters` times by a fixed angle: the
// recurrence has no fixed point (besides zero, never an input), so the
// final angle proves how many steps ran. `copy` moves one word per element.

struct SoakParams {
    n: u32,
    iters: u32,
    c: f32,
    s: f32,
}

@group(0) @binding(0) var<storage, read> sp: SoakParams;
@group(0) @binding(1) var<storage, read> fin: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> fout: array<vec2<f32>>;

@compute @workgroup_size(256)
fn fma_rotate(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= sp.n) {
        return;
    }
    var v = fin[i];
    for (var k = 0u; k < sp.iters; k++) {
        v = vec2<f32>(fma(v.x, sp.c, -(v.y * sp.s)), fma(v.x, sp.s, v.y * sp.c));
    }
    fout[i] = v;
}

@group(0) @binding(3) var<storage, read> csrc: array<u32>;
@group(0) @binding(4) var<storage, read_write> cdst: array<u32>;

@compute @workgroup_size(256)
fn copy(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let stride = nwg.x * nwg.y * 256u;
    for (var i = (wid.y * nwg.x + wid.x) * 256u + lid; i < arrayLength(&csrc); i += stride) {
        cdst[i] = csrc[i];
    }
}
