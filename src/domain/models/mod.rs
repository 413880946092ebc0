//! The catalogue of models people run (`data/models.csv`: each shape as its
//! published configuration gives it, with the source), and the sizes of a
//! model in a weight format that outputs quote, each named for what it
//! counts:
//!
//! - [`Model::weights_read_per_token`]: the layer matrices single-stream
//!   decode reads for one token (of an MoE layer, the router and the
//!   active experts only), what every decode ceiling divides;
//! - [`Model::bytes_resident`]: every parameter in the format (every
//!   expert), what must fit the adapter's memory;
//! - [`Model::file_size`]: the GGUF file's tensors as llama.cpp quantizes
//!   them, what a load moves over the host link;
//! - [`Model::kv_cache_bytes`]: the KV cache for a context, on top.
//!
//! For Llama-2-7B Q4_0 the first three are 3.64 GB, 3.79 GB and 3.83 GB.
//! The Llama-2 trio ([`LLAMA2`]) is what the `llm` suite measures and the
//! verdict and reports quote; the rest of the catalogue is listed by
//! `hashflops list --models`.

mod catalogue;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use super::formats::{q4_k_m, Format, NORM_BYTES};
use super::quant::Quant;

/// A decoder-only transformer: every layer has the attention projections
/// Q, K, V, O (`heads` x `head_dim` wide, which need not be `hidden`), a
/// feed-forward gate, up and down, dense or as experts behind a router,
/// and RMS norms; around the layers, the token embedding table, a final
/// norm and the output head.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Model {
    /// As in row params: `llama2-7b`.
    pub id: &'static str,
    /// As the model is published: `Llama-2-7B`.
    pub name: &'static str,
    /// Its size class: `7B`, `30B-A3B`.
    pub size: &'static str,
    pub layers: u64,
    pub hidden: u64,
    /// Query heads.
    pub heads: u64,
    /// Key and value heads: `heads` for multi-head attention, fewer with
    /// grouped-query attention (Llama-2-70B: 8 of 64).
    pub kv_heads: u64,
    pub head_dim: u64,
    /// The feed-forward width; of an MoE model, one expert's.
    pub ffn: u64,
    /// Routed experts a layer stores; 0 for a dense model.
    pub experts: u64,
    /// Routed experts one token goes through; 0 for a dense model.
    pub active_experts: u64,
    /// Experts every token goes through besides the routed ones.
    pub shared_experts: u64,
    /// Tokens a sliding-window layer attends to; 0: every layer is global.
    pub sliding_window: u64,
    /// Every this many layers the last is global, the others slide (Gemma
    /// 3: 6, five local to one global; gpt-oss: 2, alternating).
    pub global_every: u64,
    /// A learned sink logit per head (gpt-oss).
    pub attention_sinks: bool,
    /// Every projection, router and expert has a bias (gpt-oss).
    pub biases: bool,
    /// RMS norms on each head's queries and keys (Qwen3, Gemma 3).
    pub qk_norm: bool,
    /// `hidden`-wide RMS norms a layer: 2 (before attention and FFN), 4 in
    /// Gemma 3 (after each too).
    pub norms_per_layer: u64,
    /// Tokens of the vocabulary: rows of the embedding table and the head.
    pub vocab: u64,
    /// The output head is the embedding table.
    pub tied_embeddings: bool,
    /// What its publisher states, with sources; `None` for shapes made up
    /// for tests.
    #[serde(skip)]
    pub published: Option<Published>,
}

/// A model's published parameter counts and where they and its shape come
/// from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Published {
    pub params: f64,
    /// MoE models: parameters a token uses, counted as `ActiveBasis` says.
    pub active: Option<(f64, ActiveBasis)>,
    /// The published configuration the shape is read from.
    pub source: &'static str,
    /// The model card or paper that states the counts.
    pub params_source: &'static str,
    /// Caveats: fields derived rather than read, what the published count
    /// includes that the shape does not.
    pub notes: &'static str,
}

/// Whether a publisher's active-parameter count includes the input
/// embedding table (a lookup of one row a token, not a matrix it reads
/// whole): Qwen's does, OpenAI's for gpt-oss does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActiveBasis {
    WithEmbedding,
    WithoutEmbedding,
}

/// Every model of the catalogue, smallest first.
pub fn catalogue() -> &'static [Model] {
    catalogue::all()
}

/// The model whose [`Model::id`] is `id`.
pub fn by_id(id: &str) -> Option<Model> {
    catalogue().iter().copied().find(|m| m.id == id)
}

fn known(id: &str) -> Model {
    by_id(id).unwrap_or_else(|| panic!("data/models.csv lacks {id}"))
}

pub static LLAMA2_7B: LazyLock<Model> = LazyLock::new(|| known("llama2-7b"));
pub static LLAMA2_13B: LazyLock<Model> = LazyLock::new(|| known("llama2-13b"));
pub static LLAMA2_70B: LazyLock<Model> = LazyLock::new(|| known("llama2-70b"));

/// The Llama-2 trio, smallest first: the shapes the `llm` suite measures
/// and llama.cpp's published tables use, so the verdict and reports quote
/// these.
pub static LLAMA2: LazyLock<[Model; 3]> = LazyLock::new(|| [*LLAMA2_7B, *LLAMA2_13B, *LLAMA2_70B]);

/// The KV cache's type: llama.cpp's default, f16.
pub const KV_FORMAT: Format = Format::F16;

/// One weight matrix of a layer: `rows` outputs, `k` inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub name: &'static str,
    pub rows: u64,
    pub k: u64,
}

/// The matrices of one kind in a layer: `stored` copies (an MoE layer's
/// experts), of which one token reads `read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    pub matrix: Matrix,
    pub stored: u64,
    pub read: u64,
}

impl Model {
    /// A Llama-2 style dense shape (two norms a layer, no biases, untied
    /// head, every layer global), unpublished: for shapes made up to test
    /// kernels.
    #[allow(clippy::too_many_arguments)]
    pub const fn dense(
        id: &'static str,
        layers: u64,
        hidden: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
        ffn: u64,
        vocab: u64,
    ) -> Model {
        Model {
            id,
            name: id,
            size: id,
            layers,
            hidden,
            heads,
            kv_heads,
            head_dim,
            ffn,
            experts: 0,
            active_experts: 0,
            shared_experts: 0,
            sliding_window: 0,
            global_every: 0,
            attention_sinks: false,
            biases: false,
            qk_norm: false,
            norms_per_layer: 2,
            vocab,
            tied_embeddings: false,
            published: None,
        }
    }

    /// Rows of K and of V: `kv_heads` x `head_dim`.
    pub fn kv_rows(&self) -> u64 {
        self.kv_heads * self.head_dim
    }

    /// A layer's matrices by kind, in the order a token uses them.
    pub fn weights(&self) -> Vec<Weights> {
        let (h, q, kv, f) = (
            self.hidden,
            self.heads * self.head_dim,
            self.kv_rows(),
            self.ffn,
        );
        let w = |name, rows, k, stored, read| Weights {
            matrix: Matrix { name, rows, k },
            stored,
            read,
        };
        let mut all = vec![
            w("q", q, h, 1, 1),
            w("k", kv, h, 1, 1),
            w("v", kv, h, 1, 1),
            w("o", h, q, 1, 1),
        ];
        if self.experts == 0 {
            all.extend([
                w("gate", f, h, 1, 1),
                w("up", f, h, 1, 1),
                w("down", h, f, 1, 1),
            ]);
            return all;
        }
        all.push(w("router", self.experts, h, 1, 1));
        let (s, e, a) = (self.shared_experts, self.experts, self.active_experts);
        if s > 0 {
            all.extend([
                w("shared_gate", f, h, s, s),
                w("shared_up", f, h, s, s),
                w("shared_down", h, f, s, s),
            ]);
        }
        all.extend([
            w("expert_gate", f, h, e, a),
            w("expert_up", f, h, e, a),
            w("expert_down", h, f, e, a),
        ]);
        all
    }

    /// The matrices one token reads in a layer, in order, an active
    /// expert's as often as there are active experts.
    pub fn matrices(&self) -> Vec<Matrix> {
        self.weights()
            .iter()
            .flat_map(|w| std::iter::repeat_n(w.matrix, w.read as usize))
            .collect()
    }

    /// Weights one token multiplies in a layer.
    pub fn layer_weights(&self) -> u64 {
        self.matrices().iter().map(|m| m.rows * m.k).sum()
    }

    /// Bytes of the matrices one token reads in a layer, in format `f`.
    pub fn layer_bytes(&self, f: Format) -> u64 {
        self.matrices()
            .iter()
            .map(|m| m.rows * f.row_bytes(m.k))
            .sum()
    }

    /// Bytes of every matrix a layer stores (every expert), in format `f`.
    fn stored_layer_bytes(&self, f: Format) -> u64 {
        self.weights()
            .iter()
            .map(|w| w.stored * w.matrix.rows * f.row_bytes(w.matrix.k))
            .sum()
    }

    /// Outputs of one layer for one token.
    pub fn layer_outputs(&self) -> u64 {
        self.matrices().iter().map(|m| m.rows).sum()
    }

    /// A layer's parameters that are vectors, not matrices (norms, sinks,
    /// biases), of the matrices `copies` counts: all stored, or those a
    /// token reads. Llama.cpp keeps them f32.
    fn layer_vectors(&self, copies: fn(&Weights) -> u64) -> u64 {
        let norms = self.norms_per_layer * self.hidden;
        let qk = if self.qk_norm { 2 * self.head_dim } else { 0 };
        let sinks = if self.attention_sinks { self.heads } else { 0 };
        let biases: u64 = match self.biases {
            true => self
                .weights()
                .iter()
                .map(|w| copies(w) * w.matrix.rows)
                .sum(),
            false => 0,
        };
        norms + qk + sinks + biases
    }

    /// Weights of the embedding table, and as many of an untied head.
    fn vocab_weights(&self) -> u64 {
        self.vocab * self.hidden
    }

    /// Parameters of the layers counted by `copies`, the embedding table,
    /// the output head if untied and the final norm.
    fn count(&self, copies: fn(&Weights) -> u64) -> u64 {
        let heads = if self.tied_embeddings { 1 } else { 2 };
        self.layers * self.layer_count(copies) + heads * self.vocab_weights() + self.hidden
    }

    /// Parameters of one layer: the matrices `copies` counts and the vectors.
    fn layer_count(&self, copies: fn(&Weights) -> u64) -> u64 {
        let matrices: u64 = self
            .weights()
            .iter()
            .map(|w| copies(w) * w.matrix.rows * w.matrix.k)
            .sum();
        matrices + self.layer_vectors(copies)
    }

    /// Parameters one layer stores (every expert, its norms and biases):
    /// what a card holding the layer keeps resident.
    pub fn layer_params(&self) -> u64 {
        self.layer_count(|w| w.stored)
    }

    /// Parameters, from the shape: every layer's matrices (every expert)
    /// and vectors, the embedding table, the output head (if not tied)
    /// and the final norm.
    pub fn params(&self) -> u64 {
        self.count(|w| w.stored)
    }

    /// Parameters one token uses: as [`Model::params`] with only the
    /// active experts, the embedding table included. Equal to `params` for
    /// a dense model.
    pub fn active_params(&self) -> u64 {
        self.count(|w| w.read)
    }

    /// [`Model::active_params`] counted as a publisher counts: without the
    /// embedding table where that is its basis (an untied one; a tied
    /// table is the head, which every token reads).
    pub fn active_params_as(&self, basis: ActiveBasis) -> u64 {
        match (basis, self.tied_embeddings) {
            (ActiveBasis::WithoutEmbedding, false) => self.active_params() - self.vocab_weights(),
            _ => self.active_params(),
        }
    }

    /// Bytes of weights single-stream decode reads per token in format `f`:
    /// every matrix a token reads in every layer, once, as the `llm`
    /// suite's decode kernels read them (its rows' `weight_bytes_per_token`).
    /// Left out: the embedding table (one row a token), the norms and
    /// biases (kilobytes) and the output head, so a ceiling from it bounds
    /// the layers the suite measures, and a whole model a little loosely.
    pub fn weights_read_per_token(&self, f: Format) -> f64 {
        (self.layers * self.layer_bytes(f)) as f64
    }

    /// Bytes of every parameter (every expert, embedding table, output
    /// head, norms) at format `f`'s bits per weight: the memory the model
    /// takes once loaded with every tensor in that format, which the VRAM
    /// fit judges. The KV cache and activations come on top.
    pub fn bytes_resident(&self, f: Format) -> f64 {
        self.params() as f64 * f.bits_per_weight() / 8.0
    }

    /// Bytes of the tensors of the model's GGUF file in format `f`, as
    /// llama.cpp's quantizer writes them: the layers and the embedding
    /// table in `f`, an untied output head in Q6_K for a Q4_0 file, norms
    /// and biases in f32. The file's header (vocabulary, metadata) adds
    /// under a megabyte. This is what a load moves over the host link.
    pub fn file_size(&self, f: Format) -> f64 {
        let vocab = self.vocab_weights();
        let head = match self.tied_embeddings {
            true => 0,
            false => f.output_head_bytes(vocab),
        };
        let vectors = self.layers * self.layer_vectors(|w| w.stored) + self.hidden;
        let bytes = self.layers * self.stored_layer_bytes(f)
            + f.row_bytes(vocab)
            + head
            + vectors * NORM_BYTES;
        bytes as f64
    }

    /// Whether llama.cpp's quantizer takes this shape for a 70B, which its
    /// Q4_K_M mix heeds: a Llama of 80 layers with fewer KV heads than
    /// heads (`llama_quant_model_from_metadata` in src/llama-quant.cpp).
    pub fn is_llama_cpp_70b(&self) -> bool {
        self.layers == 80 && self.kv_heads < self.heads
    }

    /// Bytes of the tensors of the model's Q4_K_M GGUF file: each matrix,
    /// the embedding table and the output head in the format the mix
    /// gives it ([`Quant::format_of`]), the norms and an MoE router in f32
    /// as llama.cpp keeps them.
    pub fn q4_k_m_file_size(&self) -> f64 {
        let (n, big) = (self.layers, self.is_llama_cpp_70b());
        let mut bytes = (self.layers * self.layer_vectors(|w| w.stored) + self.hidden) * NORM_BYTES;
        for layer in 0..n {
            for w in self.weights() {
                let m = w.matrix;
                let row = match m.name {
                    "router" => m.k * NORM_BYTES,
                    name => Quant::Q4KM.format_of(self, name, layer).row_bytes(m.k),
                };
                bytes += w.stored * m.rows * row;
            }
        }
        let tables: &[&str] = match self.tied_embeddings {
            true => &["token_embd"],
            false => &["token_embd", "output"],
        };
        for tensor in tables {
            bytes += self.vocab * q4_k_m(tensor, 0, n, big).row_bytes(self.hidden);
        }
        bytes as f64
    }

    /// Layer `layer` (from 0) attends over a sliding window, not the whole
    /// context.
    pub fn is_sliding(&self, layer: u64) -> bool {
        self.global_every > 0 && !(layer + 1).is_multiple_of(self.global_every)
    }

    /// Bytes of the KV cache holding `context` tokens, in [`KV_FORMAT`]:
    /// each layer keeps a key and a value of `kv_heads` x `head_dim` for
    /// every token it attends to, all of them in a global layer, the last
    /// `sliding_window` in a sliding one.
    pub fn kv_cache_bytes(&self, context: u64) -> u64 {
        (0..self.layers)
            .map(|l| self.layer_kv_bytes(l, context))
            .sum()
    }

    /// [`Model::kv_cache_bytes`] of layer `layer` (from 0) alone: a card
    /// holding the layer keeps its cache.
    pub fn layer_kv_bytes(&self, layer: u64, context: u64) -> u64 {
        let tokens = match self.is_sliding(layer) {
            true => context.min(self.sliding_window),
            false => context,
        };
        let value_bytes = KV_FORMAT.block_bytes() / super::formats::BLOCK;
        tokens * 2 * self.kv_rows() * value_bytes
    }
}
