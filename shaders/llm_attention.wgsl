// Attention for one new token over an f16 KV cache, split over the context
// as flash-decoding does: `attend` scores one chunk of cached positions
// against every query head of one KV head's group and leaves, per query
// head, the chunk's max score, its sum of exponentials and its weighted sum
// of values; `combine` merges the chunks of each query head (and its
// attention sink, where the model has one) and adds the head's output to
// the outputs, which the host zeroed once before timing.
//
// The cache is f16 values in u32 pairs (element 2i in the low half), read
// with unpack2x16float, so no shader-f16 feature is needed. A layer's cache
// holds `stored` positions: all of the context (a global layer), or the
// last `window` as a ring (a sliding layer), position p at slot p % stored.
// Row of slot s, KV head g: elements (s * kv_heads + g) * head_dim ...
//
// `fill` generates a cache on the GPU from a hash of (key, element index);
// the CPU reference regenerates the values it needs
// (src/workloads/llm/attention/reference.rs).

struct Job {
    kv_heads: u32,
    head_dim: u32,
    context: u32,
    // 0: a global layer
    window: u32,
    stored: u32,
    // first query element of this repetition's query window
    x_offset: u32,
    heads: u32,
    // first output of this layer
    out_offset: u32,
    // first sink logit of this layer
    sink_offset: u32,
    has_sink: u32,
    // 1 / sqrt(head_dim)
    scale: f32,
}

struct Gen {
    key: u32,
    // exponent field of the smallest magnitude (f16 bias 15)
    exponent: u32,
    words: u32,
    groups_x: u32,
}

// Positions one `attend` workgroup scores; the host dispatches
// ceil(len / CHUNK) chunks.
const CHUNK: u32 = 256u;
const WG: u32 = 64u;
// Most query heads a KV head serves, and most group * head_dim: the host
// refuses larger shapes.
const GROUP_MAX: u32 = 8u;
const Q_MAX: u32 = 1024u;
const LANES: u32 = WG / GROUP_MAX;
// The model's query heads per KV head and head_dim, fixed per pipeline so
// the loops over them unroll and the per-head sums stay in registers.
override GROUP: u32 = 1u;
override HEAD_DIM: u32 = 8u;
const LOWEST: f32 = -3.0e38;

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> kc: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> vc: array<u32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<storage, read> job: Job;
@group(0) @binding(5) var<storage, read> sinks: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> dst: array<u32>;
@group(0) @binding(8) var<storage, read> gen: Gen;

var<workgroup> qs: array<f32, Q_MAX>;
// Scores, then their exponentials: [head in group][position in chunk].
var<workgroup> w: array<f32, 2048>;
var<workgroup> red: array<f32, WG>;
var<workgroup> head_max: array<f32, GROUP_MAX>;

fn attended() -> u32 {
    return select(job.context, min(job.context, job.window), job.window > 0u);
}

// The first element of one row of the part buffer: [chunk][query head]
// rows of (max, sum, head_dim weighted values).
fn part_row(chunk: u32, head: u32) -> u32 {
    return (chunk * job.heads + head) * (job.head_dim + 2u);
}

@compute @workgroup_size(64)
fn attend(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let kvh = wid.y;
    let start = job.context - attended();
    let p0 = start + wid.x * CHUNK;
    let n = min(CHUNK, job.context - p0);
    let group = GROUP;
    let hd = HEAD_DIM;
    let qbase = job.x_offset + kvh * group * hd;
    for (var i = li; i < group * hd; i += WG) {
        qs[i] = q[qbase + i] * job.scale;
    }
    workgroupBarrier();

    let vec4s = hd / 8u;
    for (var j = li; j < n; j += WG) {
        let kb = (((p0 + j) % job.stored) * job.kv_heads + kvh) * vec4s;
        var s: array<f32, GROUP_MAX>;
        for (var i = 0u; i < vec4s; i++) {
            let kw = kc[kb + i];
            let a = unpack2x16float(kw.x);
            let b = unpack2x16float(kw.y);
            let c = unpack2x16float(kw.z);
            let d = unpack2x16float(kw.w);
            for (var h = 0u; h < group; h++) {
                let o = h * hd + 8u * i;
                s[h] += qs[o] * a.x + qs[o + 1u] * a.y + qs[o + 2u] * b.x + qs[o + 3u] * b.y
                    + qs[o + 4u] * c.x + qs[o + 5u] * c.y + qs[o + 6u] * d.x + qs[o + 7u] * d.y;
            }
        }
        for (var h = 0u; h < group; h++) {
            w[h * CHUNK + j] = s[h];
        }
    }
    workgroupBarrier();

    // Max-subtracted exponentials: LANES invocations per head.
    let h = li % GROUP_MAX;
    let lane = li / GROUP_MAX;
    var m = LOWEST;
    if (h < group) {
        for (var j = lane; j < n; j += LANES) {
            m = max(m, w[h * CHUNK + j]);
        }
    }
    red[li] = m;
    workgroupBarrier();
    if (li < GROUP_MAX) {
        var mm = red[li];
        for (var k = 1u; k < LANES; k++) {
            mm = max(mm, red[li + k * GROUP_MAX]);
        }
        head_max[li] = mm;
    }
    workgroupBarrier();
    var l = 0.0;
    if (h < group) {
        for (var j = lane; j < n; j += LANES) {
            let e = exp(w[h * CHUNK + j] - head_max[h]);
            w[h * CHUNK + j] = e;
            l += e;
        }
    }
    workgroupBarrier();
    red[li] = l;
    workgroupBarrier();
    if (li < group) {
        var sum = 0.0;
        for (var k = 0u; k < LANES; k++) {
            sum += red[li + k * GROUP_MAX];
        }
        let row = part_row(wid.x, kvh * group + li);
        part[row] = head_max[li];
        part[row + 1u] = sum;
    }

    // Weighted values: one u32 (two elements) of the head's row per
    // invocation, adjacent invocations on adjacent words.
    let words = hd / 2u;
    for (var wd = li; wd < words; wd += WG) {
        var acc: array<vec2<f32>, GROUP_MAX>;
        for (var j = 0u; j < n; j++) {
            let vb = (((p0 + j) % job.stored) * job.kv_heads + kvh) * words;
            let vv = unpack2x16float(vc[vb + wd]);
            for (var g = 0u; g < group; g++) {
                acc[g] += w[g * CHUNK + j] * vv;
            }
        }
        for (var g = 0u; g < group; g++) {
            let row = part_row(wid.x, kvh * group + g) + 2u + 2u * wd;
            part[row] = acc[g].x;
            part[row + 1u] = acc[g].y;
        }
    }
}

@compute @workgroup_size(64)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let head = wid.x;
    let chunks = (attended() + CHUNK - 1u) / CHUNK;
    let sink = sinks[job.sink_offset + head];
    var m = select(LOWEST, sink, job.has_sink != 0u);
    for (var c = 0u; c < chunks; c++) {
        m = max(m, part[part_row(c, head)]);
    }
    var l = select(0.0, exp(sink - m), job.has_sink != 0u);
    for (var c = 0u; c < chunks; c++) {
        let row = part_row(c, head);
        l += part[row + 1u] * exp(part[row] - m);
    }
    let out = job.out_offset + head * job.head_dim;
    for (var d = li; d < job.head_dim; d += WG) {
        var o = 0.0;
        for (var c = 0u; c < chunks; c++) {
            let row = part_row(c, head);
            o += part[row + 2u + d] * exp(part[row] - m);
        }
        y[out + d] += o / l;
    }
}

fn mix32(v: u32) -> u32 {
    var x = v;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

// Random sign and mantissa, exponent `gen.exponent` or one more: a
// magnitude within a factor 4, never zero, infinite or NaN.
fn kv_f16(i: u32) -> u32 {
    let h = mix32(i * 0x9e3779b9u + (gen.key ^ 0x5bd1e995u));
    return (h & 0x8000u) | ((gen.exponent + ((h >> 10u) & 1u)) << 10u) | (h & 0x3ffu);
}

@compute @workgroup_size(64)
fn fill(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let i = (g.y * gen.groups_x + g.x) * 64u + li;
    if (i >= gen.words) {
        return;
    }
    dst[i] = kv_f16(2u * i) | (kv_f16(2u * i + 1u) << 16u);
}
