// Peak arithmetic rates, f32 variant header: composed in front of
// peak_body.wgsl, which documents bindings, layout and kernels. Every
// kernel but fma_chain is taken from this composition.

alias F = f32;
alias V = vec4<f32>;

fn start(i: u32, j: u32, prev: V) -> V {
    return unit4(i, j, bitcast<vec4<u32>>(prev));
}
