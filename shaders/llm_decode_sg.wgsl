// Decode for CPU adapters with subgroups of 8 (lavapipe): y += W x for one
// token, W in the block format of the header this body is composed after,
// x in f32, accumulation in f32. Job, bindings and block_dot come from
// llm_decode_io.wgsl.
//
// On a CPU adapter invocations are the SIMD lanes of one thread, and a
// buffer load whose address differs between lanes is done lane by lane, so
// loads, not arithmetic, set the pace. Here a workgroup is one subgroup and
// each lane owns a whole row: no lanes share a row, so there is no
// reduction and no barrier. The activations are the same for every row, so
// for each block lane i loads only x elements 4i..4i+4 and the other lanes
// take them by subgroupBroadcast: 1 load of x per lane per block instead of
// 8. The last workgroup's surplus lanes redo the last row and write nothing.
// In its own file so that adapters without subgroups never compile it.

const SG_ROWS: u32 = 8u;

@compute @workgroup_size(8)
fn decode_sg(@builtin(workgroup_id) g: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let row = g.x * SG_ROWS + lane;
    let base = min(row, job.rows - 1u) * job.row_bytes;
    let blocks = job.k / 32u;
    var acc = 0.0;
    for (var blk = 0u; blk < blocks; blk++) {
        let mine = x[job.x_offset + blk * 8u + lane];
        var xs = array<vec4<f32>, 8>(
            subgroupBroadcast(mine, 0u),
            subgroupBroadcast(mine, 1u),
            subgroupBroadcast(mine, 2u),
            subgroupBroadcast(mine, 3u),
            subgroupBroadcast(mine, 4u),
            subgroupBroadcast(mine, 5u),
            subgroupBroadcast(mine, 6u),
            subgroupBroadcast(mine, 7u),
        );
        acc += block_dot(base, blk, &xs);
    }
    if (row < job.rows) {
        y[job.out_offset + row] += acc;
    }
}
