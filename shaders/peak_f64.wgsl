// Peak arithmetic rates, f64 variant header: composed in front of
// peak_body.wgsl (bindings, layout, kernels there). Needs SHADER_F64.

alias F = f64;
alias V = vec2<f64>;

fn start(i: u32, j: u32) -> V {
    return V(F(unit(i, j, 0u)), F(unit(i, j, 1u)));
}
