//! llama.cpp's weight formats as stored (ggml-common.h): Q4_0 (18 bytes per
//! 32 weights: an f16 scale and 32 nibbles), Q8_0 (34: an f16 scale and 32
//! bytes), F16 (two bytes a weight), the K-quants Q4_K, Q5_K and Q6_K (144,
//! 176 and 210 bytes per super-block of 256 weights) and MXFP4 (17 bytes
//! per 32: an E8M0 scale and 32 E2M1 nibbles). The kernels that read them
//! and the generator that writes them live with the `llm` suite.

/// Weights per step of the kernels: every format's block, or sub-block of a
/// K-quant super-block, covers 32 weights (or a whole number of them).
pub const BLOCK: u64 = 32;

/// llama.cpp's QK_K: weights per K-quant super-block.
pub const QK_K: u64 = 256;

/// Norm weights stay f32 in every llama.cpp file.
pub const NORM_BYTES: u64 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(non_camel_case_types)]
pub enum Format {
    Q4_0,
    Q8_0,
    F16,
    Q4_K,
    Q5_K,
    Q6_K,
    MXFP4,
}

/// Written as in kernel names: `q4_0`.
impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

pub const FORMATS: [Format; 7] = [
    Format::Q4_0,
    Format::Q8_0,
    Format::F16,
    Format::Q4_K,
    Format::Q5_K,
    Format::Q6_K,
    Format::MXFP4,
];

/// The formats a whole GGUF file is published in, one format for every
/// layer (TheBloke's Q4_0, Q8_0 and F16 files): the ones the summary's
/// ceiling table lists. A K-quant file mixes formats per tensor
/// ([`q4_k_m`]).
pub const FILE_FORMATS: [Format; 3] = [Format::Q4_0, Format::Q8_0, Format::F16];

/// A row length a format cannot store: K-quant rows are whole super-blocks
/// of [`QK_K`] weights, the others whole blocks of [`BLOCK`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} stores rows in blocks of {} weights; a row of {k} weights is not a whole number of them",
    format.label(),
    format.block_weights()
)]
pub struct RowError {
    pub format: Format,
    pub k: u64,
}

impl Format {
    /// As in kernel names and row params: `q4_0`, `q4_k`, `mxfp4`.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Q4_0 => "q4_0",
            Format::Q8_0 => "q8_0",
            Format::F16 => "f16",
            Format::Q4_K => "q4_k",
            Format::Q5_K => "q5_k",
            Format::Q6_K => "q6_k",
            Format::MXFP4 => "mxfp4",
        }
    }

    /// As llama.cpp and model cards write it: `Q4_0`, `Q4_K`, `MXFP4`.
    pub fn label(self) -> &'static str {
        match self {
            Format::Q4_0 => "Q4_0",
            Format::Q8_0 => "Q8_0",
            Format::F16 => "F16",
            Format::Q4_K => "Q4_K",
            Format::Q5_K => "Q5_K",
            Format::Q6_K => "Q6_K",
            Format::MXFP4 => "MXFP4",
        }
    }

    /// The format named `name` as in [`Format::name`].
    pub fn from_name(name: &str) -> Option<Format> {
        FORMATS.into_iter().find(|f| f.name() == name)
    }

    /// Weights per block as llama.cpp stores them: [`QK_K`] for the
    /// K-quants, [`BLOCK`] for the others (F16 counted in 32s too).
    pub fn block_weights(self) -> u64 {
        match self {
            Format::Q4_K | Format::Q5_K | Format::Q6_K => QK_K,
            _ => BLOCK,
        }
    }

    /// Bytes of one block of [`Format::block_weights`] (llama.cpp's type
    /// sizes: 18, 34, 2 x 32, 144, 176, 210, 17).
    pub fn block_bytes(self) -> u64 {
        match self {
            Format::Q4_0 => 18,
            Format::Q8_0 => 34,
            Format::F16 => 64,
            Format::Q4_K => 144,
            Format::Q5_K => 176,
            Format::Q6_K => 210,
            Format::MXFP4 => 17,
        }
    }

    /// Bits a weight costs, the scales included: 4.5, 8.5, 16, 4.5, 5.5,
    /// 6.5625, 4.25.
    pub fn bits_per_weight(self) -> f64 {
        (self.block_bytes() * 8) as f64 / self.block_weights() as f64
    }

    /// Whether a row of `k` weights is whole blocks of this format.
    pub fn check_row(self, k: u64) -> Result<(), RowError> {
        if k > 0 && k.is_multiple_of(self.block_weights()) {
            Ok(())
        } else {
            Err(RowError { format: self, k })
        }
    }

    /// Bytes of a row of `k` weights (`k` accepted by
    /// [`Format::check_row`]).
    pub fn row_bytes(self, k: u64) -> u64 {
        k / self.block_weights() * self.block_bytes()
    }

    /// Bytes of the output head (`n` weights) of a file whose layers are in
    /// this format: llama.cpp's quantizer (`llama_tensor_get_type_impl` in
    /// src/llama-quant.cpp) stores it in Q6_K unless the file is Q8_0, and
    /// leaves an F16 file's head F16 (it only retypes quantized files);
    /// an MXFP4 file's head is Q8_0.
    pub fn output_head_bytes(self, n: u64) -> u64 {
        let head = match self {
            Format::Q8_0 | Format::F16 => self,
            Format::MXFP4 => Format::Q8_0,
            _ => Format::Q6_K,
        };
        n / head.block_weights() * head.block_bytes()
    }
}

/// Models released in MXFP4 (OpenAI's gpt-oss: its experts ship in it and
/// llama.cpp's GGUFs keep them so); no other model is run in MXFP4.
const MXFP4_RELEASES: [&str; 1] = ["gpt-oss-20b"];

/// The formats model `id` is run in, in [`FORMATS`] order: MXFP4 alone for
/// a model released in it, every other format for the rest.
pub fn offered(id: &str) -> Vec<Format> {
    let native = MXFP4_RELEASES.contains(&id);
    FORMATS
        .into_iter()
        .filter(|&f| (f == Format::MXFP4) == native)
        .collect()
}

/// A Llama tensor's format in a Q4_K_M file, as llama.cpp's quantizer picks
/// it: `llama_tensor_get_type_impl` in src/llama-quant.cpp (the vendored
/// llama.cpp of llama_cpp_python 0.3.36), for a dense Llama (no experts,
/// not Falcon) with separate Q, K, V projections:
///
/// - `output`: Q6_K (quantized, and not Q8_0);
/// - `v` (attn_v): Q6_K in the layers `use_more_bits` picks, else Q4_K,
///   raised to Q5_K in a 70B model (`qs.model.type == LLM_TYPE_70B`);
/// - `down` (ffn_down): Q6_K in the layers `use_more_bits` picks;
/// - every other tensor (`token_embd`, `q`, `k`, `o`, `gate`, `up`): the
///   ftype's default, Q4_K (`llama_ftype_get_default_type`).
///
/// `use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2`: the
/// first and last eighth of the layers and every third between. `layer`
/// counts attn_v and ffn_down tensors, one a layer. Tensor names are the
/// domain's matrix names (`q` .. `down`, as in [`super::models::Model`]).
/// `is_70b`: llama.cpp's quantizer takes the model for a 70B
/// ([`super::models::Model::is_llama_cpp_70b`]).
pub fn q4_k_m(tensor: &str, layer: u64, n_layers: u64, is_70b: bool) -> Format {
    let more_bits =
        layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
    match tensor {
        "output" => Format::Q6_K,
        "v" if more_bits => Format::Q6_K,
        "v" if is_70b => Format::Q5_K,
        "down" if more_bits => Format::Q6_K,
        _ => Format::Q4_K,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mxfp4_is_offered_only_for_the_model_released_in_it() {
        assert_eq!(offered("gpt-oss-20b"), vec![Format::MXFP4]);
        let llama = offered("llama3.1-8b");
        assert!(!llama.contains(&Format::MXFP4));
        assert_eq!(llama.len(), FORMATS.len() - 1);
    }

    #[test]
    fn bits_per_weight_are_llama_cpps() {
        let bits = [4.5, 8.5, 16.0, 4.5, 5.5, 6.5625, 4.25];
        for (f, b) in FORMATS.into_iter().zip(bits) {
            assert_eq!(f.bits_per_weight(), b, "{f:?}");
        }
        assert_eq!(Format::Q4_0.row_bytes(4096), 128 * 18);
        assert_eq!(Format::Q6_K.row_bytes(4096), 16 * 210);
        assert_eq!(Format::MXFP4.row_bytes(4096), 128 * 17);
        for f in FORMATS {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(f.label().to_lowercase(), f.name());
        }
        assert_eq!(Format::from_name("q4"), None);
    }

    #[test]
    fn k_quant_rows_are_whole_super_blocks() {
        assert!(Format::Q4_K.check_row(11008).is_ok());
        assert!(Format::Q4_0.check_row(1184).is_ok());
        let err = Format::Q6_K.check_row(1184).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Q6_K stores rows in blocks of 256 weights; a row of 1184 weights is not a whole number of them"
        );
        assert!(Format::MXFP4.check_row(48).is_err());
        assert!(Format::F16.check_row(0).is_err());
    }

    /// Llama-2-7B (32 layers): use_more_bits picks layers 0-3, 28-31 and
    /// 6, 9, .. 27 (every third from n/8 = 4 on, offset 2).
    #[test]
    fn q4_k_m_gives_more_bits_where_llama_cpp_does() {
        let picked: Vec<u64> = (0..32)
            .filter(|&l| q4_k_m("down", l, 32, false) == Format::Q6_K)
            .collect();
        let want = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        assert_eq!(picked, want);
        for l in 0..32 {
            assert_eq!(q4_k_m("v", l, 32, false), q4_k_m("down", l, 32, false));
            for t in ["q", "k", "o", "gate", "up", "token_embd"] {
                assert_eq!(q4_k_m(t, l, 32, false), Format::Q4_K, "{t} {l}");
            }
        }
        assert_eq!(q4_k_m("output", 0, 32, false), Format::Q6_K);
        // 70B (80 layers): attn_v at least Q5_K, ffn_down unchanged.
        assert_eq!(q4_k_m("v", 12, 80, true), Format::Q6_K);
        assert_eq!(q4_k_m("v", 11, 80, true), Format::Q5_K);
        assert_eq!(q4_k_m("down", 11, 80, true), Format::Q4_K);
        assert_eq!(q4_k_m("down", 70, 80, true), Format::Q6_K);
    }
}
