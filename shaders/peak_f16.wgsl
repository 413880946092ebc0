// Peak arithmetic rates, f16 variant header: composed in front of
// peak_body.wgsl (bindings, layout, kernels there). Packed pairs: a
// vec2<f16> is one 32-bit register, so every fma is one two-wide half
// instruction where the hardware has one.

enable f16;

alias F = f16;
alias V = vec2<f16>;

// A lane's last value enters the hash as its exact f32 bits.
fn start(i: u32, j: u32, prev: V) -> V {
    let p = bitcast<vec2<u32>>(vec2<f32>(prev));
    return V(F(unit(i, j, 0u, p.x)), F(unit(i, j, 1u, p.y)));
}
