// The problem's dimensions as the host writes them, for every matmul
// entry point: composed after matmul.wgsl or matmul_subgroup.wgsl, each of
// which binds it as `dims` (binding 3), so that one declaration matches
// the host's layout for both.

// (M, N, K, first workgroup row of the band), then the input window of A
// this dispatch reads: repetition r of a timed run reads window r mod 2.
struct Dims {
    x: u32,
    y: u32,
    z: u32,
    w: u32,
    window: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}
