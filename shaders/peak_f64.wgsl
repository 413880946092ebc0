// Peak arithmetic rates, f64 variant header: composed in front of
// peak_body.wgsl (bindings, layout, kernels there). Needs SHADER_F64.

alias F = f64;
alias V = vec2<f64>;

// A lane's last value enters the hash as 32 bits of its fraction and its
// integer part (exact: chain values are non-negative and below 2^32).
fn link(x: F) -> u32 {
    return u32(fract(x) * 4294967296.0) ^ u32(x);
}

fn start(i: u32, j: u32, prev: V) -> V {
    return V(F(unit(i, j, 0u, link(prev.x))), F(unit(i, j, 1u, link(prev.y))));
}
