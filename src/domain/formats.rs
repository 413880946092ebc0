//! llama.cpp's weight formats as stored: blocks of 32 weights, a Q4_0 block
//! 18 bytes (an f16 scale and 32 nibbles), a Q8_0 block 34 (an f16 scale
//! and 32 bytes), F16 two bytes a weight. The kernels that read them and
//! the generator that writes them live with the `llm` suite.

/// Weights per block (llama.cpp's QK4_0 and QK8_0; the f16 kernels walk the
/// same 32-wide steps).
pub const BLOCK: u64 = 32;

/// llama.cpp's Q6_K, which its quantizer gives the output head of a Q4_0
/// model: 210 bytes per 256 weights (6.5625 bits a weight). Only the file
/// size needs it; no kernel here reads Q6_K.
pub const Q6_K_BLOCK: (u64, u64) = (256, 210);

/// Norm weights stay f32 in every llama.cpp file.
pub const NORM_BYTES: u64 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Q4_0,
    Q8_0,
    F16,
}

/// Written as in kernel names: `q4_0`.
impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

pub const FORMATS: [Format; 3] = [Format::Q4_0, Format::Q8_0, Format::F16];

impl Format {
    /// As in kernel names and row params: `q4_0`, `q8_0`, `f16`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Q4_0 => "q4_0",
            Format::Q8_0 => "q8_0",
            Format::F16 => "f16",
        }
    }

    /// As llama.cpp and model cards write it: `Q4_0`, `Q8_0`, `F16`.
    pub fn label(self) -> &'static str {
        match self {
            Format::Q4_0 => "Q4_0",
            Format::Q8_0 => "Q8_0",
            Format::F16 => "F16",
        }
    }

    /// The format named `name` as in [`Format::name`].
    pub fn from_name(name: &str) -> Option<Format> {
        FORMATS.into_iter().find(|f| f.name() == name)
    }

    /// Bytes of 32 weights (llama.cpp's type sizes: 18, 34, 2 x 32).
    pub fn block_bytes(self) -> u64 {
        match self {
            Format::Q4_0 => 18,
            Format::Q8_0 => 34,
            Format::F16 => 64,
        }
    }

    /// Bits a weight costs, the block's scale included: 4.5, 8.5, 16.
    pub fn bits_per_weight(self) -> f64 {
        (self.block_bytes() * 8) as f64 / BLOCK as f64
    }

    /// Bytes of a row of `k` weights (`k` a multiple of [`BLOCK`]).
    pub fn row_bytes(self, k: u64) -> u64 {
        k / BLOCK * self.block_bytes()
    }

    /// Bytes of `n` weights of a matrix that llama.cpp's quantizer stores
    /// in this format, save the output head: a Q4_0 file keeps that at
    /// Q6_K (llama.cpp's `llama_tensor_get_type`), Q8_0 and F16 in their
    /// own format.
    pub fn output_head_bytes(self, n: u64) -> u64 {
        match self {
            Format::Q4_0 => n / Q6_K_BLOCK.0 * Q6_K_BLOCK.1,
            _ => n / BLOCK * self.block_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_weight_are_llama_cpps() {
        assert_eq!(Format::Q4_0.bits_per_weight(), 4.5);
        assert_eq!(Format::Q8_0.bits_per_weight(), 8.5);
        assert_eq!(Format::F16.bits_per_weight(), 16.0);
        assert_eq!(Format::Q4_0.row_bytes(4096), 128 * 18);
        for f in FORMATS {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(f.label().to_lowercase(), f.name());
        }
        assert_eq!(Format::from_name("q4"), None);
    }
}
