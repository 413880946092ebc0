//! The integer hash every on-GPU data generator uses (the VRAM pattern, the
//! peak chains, the LLM weights, activations and KV cache, the soak
//! kernels). WGSL has no includes, so the shaders carry the same function
//! as `mix32` in `vram.wgsl`, `peak_body.wgsl`, `llm_init.wgsl`,
//! `llm_attention.wgsl` and `soak.wgsl` (peak's on vec4s); the CPU
//! references regenerate their data with this one, so it must stay bit for
//! bit what those shaders compute.

/// lowbias32 (Chris Wellons' hash-prospector): a bijection on u32 with good
/// avalanche, two multiplies and three shifts, cheap in any shader.
pub fn mix32(x: u32) -> u32 {
    let mut h = x;
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned outputs: every generator's data, and each CPU reference's
    /// agreement with its shader, rests on these.
    #[test]
    fn mix32_outputs_are_pinned() {
        assert_eq!(mix32(0), 0);
        assert_eq!(mix32(1), 0x6889_90c0);
        assert_eq!(mix32(2), 0xd113_2181);
        assert_eq!(mix32(0xdead_beef), 0xe628_c683);
        assert_eq!(mix32(u32::MAX), 0x6768_824a);
    }
}
