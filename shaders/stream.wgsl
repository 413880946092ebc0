// BabelStream-style memory bandwidth kernels, f32 accessed as vec4<f32>.
//
// Bindings (group 0): copy, mul, add and triad share a layout of 0-3, the
// two dot kernels one of 0, 1, 3 and 4, so that no layout holds more than
// 4 storage buffers (wgpu's downlevel and GLES 3.1 limit):
//   0 a, 1 b, 2 c   the three arrays, `p.n` vec4 elements each
//   3 p             sizes, scalars and the copy's rotation (a storage
//                   buffer, not a uniform: software drivers recompile a
//                   shader whenever a uniform that bounds a loop changes)
//   4 dot_out       one f32 partial sum per workgroup of the dot kernel,
//                   then at [p.groups] the dot product, from dot_final
//
// No two repetitions are alike: the host alternates two bind groups by the
// repetition's parity. The odd one swaps the kernel's source and
// destination arrays and holds other parameters, so every repetition reads
// what the one before it wrote (ping-pong) and a skipped or memoised
// repetition leaves the arrays out of step with the host's replay.
//
// Workgroup layout: WG invocations in x; the grid is 1-D flattened from a
// 2-D dispatch (x, y) and every kernel walks the arrays with a grid-stride
// loop, so any number of workgroups covers any array size.
//
//   copy   c = a rotated: c[i] = a[(i + rot) mod n]
//   mul    b = mul_scalar * c
//   add    c = a + b
//   triad  a = b + triad_scalar * c
//   dot    dot_out[g] += sum over the workgroup's elements of a * b
//          (each repetition adds to what the previous ones left);
//          dot_final: dot_out[p.groups] = sum of dot_out[0 .. p.groups]

struct Params {
    mul_scalar: f32,
    // vec4 elements per array
    n: u32,
    // workgroups the dot kernel ran with (partial sums in `dot_out`)
    groups: u32,
    // vec4 elements the copy rotates by (less than n)
    rot: u32,
    triad_scalar: f32,
}

@group(0) @binding(0) var<storage, read_write> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> p: Params;
// The dot's outputs: the workgroups' partial sums, then the result at
// [groups]. One binding, so that no kernel binds more than 4 storage
// buffers (wgpu's downlevel and GLES 3.1 limit).
@group(0) @binding(4) var<storage, read_write> dot_out: array<f32>;

// Set by the host from the device's limits; a power of two (the tree
// reduction halves it).
override WG: u32 = 256u;

var<workgroup> scratch: array<f32, WG>;

fn group_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

@compute @workgroup_size(WG)
fn copy(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = p.n;
    let stride = nwg.x * nwg.y * WG;
    let rot = p.rot;
    for (var i = group_index(wid, nwg) * WG + lid; i < n; i += stride) {
        var j = i + rot;
        if (j >= n) {
            j -= n;
        }
        c[i] = a[j];
    }
}

@compute @workgroup_size(WG)
fn mul(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = p.n;
    let s = p.mul_scalar;
    let stride = nwg.x * nwg.y * WG;
    for (var i = group_index(wid, nwg) * WG + lid; i < n; i += stride) {
        b[i] = s * c[i];
    }
}

@compute @workgroup_size(WG)
fn add(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = p.n;
    let stride = nwg.x * nwg.y * WG;
    for (var i = group_index(wid, nwg) * WG + lid; i < n; i += stride) {
        c[i] = a[i] + b[i];
    }
}

@compute @workgroup_size(WG)
fn triad(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = p.n;
    let s = p.triad_scalar;
    let stride = nwg.x * nwg.y * WG;
    for (var i = group_index(wid, nwg) * WG + lid; i < n; i += stride) {
        a[i] = b[i] + s * c[i];
    }
}

// Tree reduction of `scratch`; every invocation of the workgroup calls it.
fn reduce_scratch(lid: u32) {
    for (var half = WG / 2u; half > 0u; half = half / 2u) {
        workgroupBarrier();
        if (lid < half) {
            scratch[lid] = scratch[lid] + scratch[lid + half];
        }
    }
    workgroupBarrier();
}

@compute @workgroup_size(WG)
fn dot_partial(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let n = p.n;
    let groups = p.groups;
    let g = group_index(wid, nwg);
    // A 2-D grid may hold a few more workgroups than there are partial sums;
    // the stride counts only those that write a partial sum.
    if (g >= groups) {
        return;
    }
    let stride = groups * WG;
    var sum = 0.0;
    for (var i = g * WG + lid; i < n; i += stride) {
        sum += dot(a[i], b[i]);
    }
    scratch[lid] = sum;
    reduce_scratch(lid);
    if (lid == 0u) {
        dot_out[g] = dot_out[g] + scratch[0];
    }
}

@compute @workgroup_size(WG)
fn dot_final(@builtin(local_invocation_index) lid: u32) {
    let groups = p.groups;
    var sum = 0.0;
    for (var i = lid; i < groups; i += WG) {
        sum += dot_out[i];
    }
    scratch[lid] = sum;
    reduce_scratch(lid);
    if (lid == 0u) {
        dot_out[groups] = scratch[0];
    }
}
