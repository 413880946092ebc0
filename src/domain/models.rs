//! The Llama-2 shapes (Meta's published configurations) and the three sizes
//! of a model in a weight format that outputs quote, each named for what it
//! counts:
//!
//! - [`Model::weights_read_per_token`]: the layer matrices single-stream
//!   decode reads for one token, what every decode ceiling divides;
//! - [`Model::bytes_resident`]: every parameter in the format, what must
//!   fit the adapter's memory;
//! - [`Model::file_size`]: the GGUF file's tensors as llama.cpp quantizes
//!   them, what a load moves over the host link.
//!
//! For Llama-2-7B Q4_0 these are 3.64 GB, 3.79 GB and 3.83 GB.

use super::formats::{q4_k_m, Format, NORM_BYTES};

/// A Llama-2 shape: every layer has the attention projections Q, K, V, O
/// and the feed-forward gate, up and down, and two RMS norms; around the
/// layers, the token embedding table, a final norm and the output head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Model {
    /// As in row params: `llama2-7b`.
    pub id: &'static str,
    /// As the model is published: `Llama-2-7B`.
    pub name: &'static str,
    /// Its size class: `7B`.
    pub size: &'static str,
    pub hidden: u64,
    pub ffn: u64,
    pub layers: u64,
    /// Rows of K and V: hidden for multi-head attention, fewer with grouped
    /// query attention (70B: 8 KV heads of 128).
    pub kv: u64,
    /// Tokens of the vocabulary: rows of the embedding table and the head.
    pub vocab: u64,
}

pub const LLAMA2_7B: Model = Model {
    id: "llama2-7b",
    name: "Llama-2-7B",
    size: "7B",
    hidden: 4096,
    ffn: 11008,
    layers: 32,
    kv: 4096,
    vocab: 32000,
};
pub const LLAMA2_13B: Model = Model {
    id: "llama2-13b",
    name: "Llama-2-13B",
    size: "13B",
    hidden: 5120,
    ffn: 13824,
    layers: 40,
    kv: 5120,
    vocab: 32000,
};
pub const LLAMA2_70B: Model = Model {
    id: "llama2-70b",
    name: "Llama-2-70B",
    size: "70B",
    hidden: 8192,
    ffn: 28672,
    layers: 80,
    kv: 1024,
    vocab: 32000,
};

/// Smallest first: the order of every table that lists them.
pub const MODELS: [Model; 3] = [LLAMA2_7B, LLAMA2_13B, LLAMA2_70B];

/// The model whose [`Model::id`] is `id`.
pub fn by_id(id: &str) -> Option<Model> {
    MODELS.into_iter().find(|m| m.id == id)
}

/// One weight matrix of a layer: `rows` outputs, `k` inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub name: &'static str,
    pub rows: u64,
    pub k: u64,
}

impl Model {
    /// The layer's matrices in the order a token uses them.
    pub fn matrices(&self) -> [Matrix; 7] {
        let m = |name, rows, k| Matrix { name, rows, k };
        [
            m("q", self.hidden, self.hidden),
            m("k", self.kv, self.hidden),
            m("v", self.kv, self.hidden),
            m("o", self.hidden, self.hidden),
            m("gate", self.ffn, self.hidden),
            m("up", self.ffn, self.hidden),
            m("down", self.hidden, self.ffn),
        ]
    }

    pub fn layer_weights(&self) -> u64 {
        self.matrices().iter().map(|m| m.rows * m.k).sum()
    }

    pub fn layer_bytes(&self, f: Format) -> u64 {
        self.matrices()
            .iter()
            .map(|m| m.rows * f.row_bytes(m.k))
            .sum()
    }

    /// Outputs of one layer for one token.
    pub fn layer_outputs(&self) -> u64 {
        self.matrices().iter().map(|m| m.rows).sum()
    }

    /// Weights of the embedding table, and as many of the output head.
    fn vocab_weights(&self) -> u64 {
        self.vocab * self.hidden
    }

    /// Norm weights: two per layer and the final one, `hidden` each.
    fn norm_weights(&self) -> u64 {
        (2 * self.layers + 1) * self.hidden
    }

    /// Parameters, from the shape: every layer's matrices and norms, the
    /// embedding table, the final norm and the output head.
    pub fn params(&self) -> u64 {
        self.layers * self.layer_weights() + 2 * self.vocab_weights() + self.norm_weights()
    }

    /// Bytes of weights single-stream decode reads per token in format `f`:
    /// every matrix of every layer, once, as the `llm` suite's decode
    /// kernels read them (its rows' `weight_bytes_per_token`). Left out:
    /// the embedding table (one row a token), the norms (kilobytes) and
    /// the output head, so a ceiling from it bounds the layers the suite
    /// measures, and a whole model a little loosely.
    pub fn weights_read_per_token(&self, f: Format) -> f64 {
        (self.layers * self.layer_bytes(f)) as f64
    }

    /// Bytes of every parameter (layers, embedding table, output head,
    /// norms) at format `f`'s bits per weight: the memory the model takes
    /// once loaded with every tensor in that format, which the VRAM fit
    /// judges. The KV cache and activations come on top.
    pub fn bytes_resident(&self, f: Format) -> f64 {
        self.params() as f64 * f.bits_per_weight() / 8.0
    }

    /// Bytes of the tensors of the model's GGUF file in format `f`, as
    /// llama.cpp's quantizer writes them: the layers and the embedding
    /// table in `f`, the output head in Q6_K for a Q4_0 file, the norms in
    /// f32. The file's header (vocabulary, metadata) adds under a
    /// megabyte. This is what a load moves over the host link.
    pub fn file_size(&self, f: Format) -> f64 {
        let vocab = self.vocab_weights();
        let bytes = self.layers * self.layer_bytes(f)
            + f.row_bytes(vocab)
            + f.output_head_bytes(vocab)
            + self.norm_weights() * NORM_BYTES;
        bytes as f64
    }

    /// Whether llama.cpp's quantizer takes this shape for a 70B, which its
    /// Q4_K_M mix heeds: a Llama of 80 layers with fewer KV heads than
    /// heads (`llama_quant_model_from_metadata` in src/llama-quant.cpp).
    pub fn is_llama_cpp_70b(&self) -> bool {
        self.layers == 80 && self.kv < self.hidden
    }

    /// Bytes of the tensors of the model's Q4_K_M GGUF file: each matrix,
    /// the embedding table and the output head in the format
    /// [`q4_k_m`] gives it, the norms in f32.
    pub fn q4_k_m_file_size(&self) -> f64 {
        let (n, big) = (self.layers, self.is_llama_cpp_70b());
        let mut bytes = self.norm_weights() * NORM_BYTES;
        for layer in 0..n {
            for m in self.matrices() {
                bytes += m.rows * q4_k_m(m.name, layer, n, big).row_bytes(m.k);
            }
        }
        for tensor in ["token_embd", "output"] {
            bytes += self.vocab * q4_k_m(tensor, 0, n, big).row_bytes(self.hidden);
        }
        bytes as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::si;

    /// Parameter counts as Meta publishes them (the Llama 2 paper and
    /// model cards: 6.74B, 13.0B, 69.0B).
    const PUBLISHED_PARAMS: [f64; 3] = [6.74e9, 13.0e9, 69.0e9];

    /// GGUF file sizes as TheBloke's Llama-2-7B/13B/70B-GGUF model cards
    /// on Hugging Face list them (GB).
    const PUBLISHED_FILES: [(Model, Format, f64); 5] = [
        (LLAMA2_7B, Format::Q4_0, 3.83e9),
        (LLAMA2_7B, Format::Q8_0, 7.16e9),
        (LLAMA2_13B, Format::Q4_0, 7.37e9),
        (LLAMA2_13B, Format::Q8_0, 13.83e9),
        (LLAMA2_70B, Format::Q4_0, 38.87e9),
    ];

    #[test]
    fn parameter_counts_from_the_shapes_match_the_published_ones() {
        for (m, published) in MODELS.iter().zip(PUBLISHED_PARAMS) {
            let share = m.params() as f64 / published;
            assert!((share - 1.0).abs() < 0.01, "{}: {}", m.name, m.params());
        }
        assert_eq!(LLAMA2_7B.params(), 6_738_415_616);
    }

    #[test]
    fn file_sizes_match_the_published_gguf_files() {
        for (m, f, published) in PUBLISHED_FILES {
            // Published to 10 MB; the header adds under 1 MB.
            let size = m.file_size(f);
            assert!(
                (size - published).abs() < 5e6 + 1e6,
                "{} {}: {size}",
                m.name,
                f.label()
            );
        }
    }

    /// The Q4_K_M files of TheBloke's Llama-2-7B/13B/70B-GGUF model cards
    /// (GB): a check of the tensor mix, every tensor typed as llama.cpp's
    /// quantizer types it.
    #[test]
    fn q4_k_m_file_sizes_match_the_published_gguf_files() {
        for (m, published) in [
            (LLAMA2_7B, 4.08e9),
            (LLAMA2_13B, 7.87e9),
            (LLAMA2_70B, 41.42e9),
        ] {
            let size = m.q4_k_m_file_size();
            assert!((size - published).abs() < 5e6 + 1e6, "{}: {size}", m.name);
        }
        assert!(LLAMA2_70B.is_llama_cpp_70b());
        assert!(!LLAMA2_13B.is_llama_cpp_70b());
    }

    #[test]
    fn the_three_sizes_of_7b_q4_0_are_distinct_and_named() {
        let m = LLAMA2_7B;
        let f = Format::Q4_0;
        // 32 layers of 202.4 M weights at 18 bytes per 32 (the llm rows).
        assert_eq!(m.weights_read_per_token(f), 3_642_753_024.0);
        assert_eq!(si(m.weights_read_per_token(f), "B"), "3.64 GB");
        assert_eq!(si(m.bytes_resident(f), "B"), "3.79 GB");
        assert_eq!(si(m.file_size(f), "B"), "3.83 GB");
        assert!(m.weights_read_per_token(f) < m.bytes_resident(f));
        assert!(m.bytes_resident(f) < m.file_size(f));
    }

    #[test]
    fn models_are_found_by_id_smallest_first() {
        assert_eq!(by_id("llama2-13b"), Some(LLAMA2_13B));
        assert_eq!(by_id("Llama-2-13B"), None);
        assert!(MODELS.windows(2).all(|w| w[0].params() < w[1].params()));
    }
}
