// Peak arithmetic rates, f32 variant header: composed in front of
// peak_body.wgsl, which documents bindings, layout and kernels. Every
// kernel but fma_chain is taken from this composition.

alias F = f32;
alias V = vec4<f32>;

fn start(i: u32, j: u32) -> V {
    return unit4(i, j);
}
