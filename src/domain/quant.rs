//! How a model file quantizes its matrices: one format for every matrix
//! (a Q4_0 or an MXFP4 file), or llama.cpp's Q4_K_M mix, whose format
//! changes with the tensor and the layer. The one place that says which
//! format a matrix of a layer is stored in.

use super::formats::{offered, q4_k_m, Format, FORMATS};
use super::models::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quant {
    Uniform(Format),
    /// llama.cpp's `LLAMA_FTYPE_MOSTLY_Q4_K_M` ([`q4_k_m`]).
    Q4KM,
}

/// What the Q4_K_M mix stores the router in: llama.cpp keeps
/// `ffn_gate_inp` in f32, which no `llm` kernel reads, so the kernels read
/// it as f16, the nearest they have (it is under 0.1 % of an MoE layer's
/// active bytes).
pub const ROUTER_AS: Format = Format::F16;

impl Quant {
    /// As in kernel names: `q4_0`, `q4_k_m`.
    pub fn name(self) -> &'static str {
        match self {
            Quant::Uniform(f) => f.name(),
            Quant::Q4KM => "q4_k_m",
        }
    }

    /// As model cards write it: `Q4_0`, `Q4_K_M`.
    pub fn label(self) -> &'static str {
        match self {
            Quant::Uniform(f) => f.label(),
            Quant::Q4KM => "Q4_K_M",
        }
    }

    /// Every quantization there is: each format alone, then the mix.
    pub fn all() -> Vec<Quant> {
        let mut out: Vec<Quant> = FORMATS.into_iter().map(Quant::Uniform).collect();
        out.push(Quant::Q4KM);
        out
    }

    /// The format matrix `tensor` (a [`Model::weights`] name) of layer
    /// `layer` of `m` is stored in. An expert or shared-expert matrix is
    /// quantized as its dense counterpart (llama-quantize's read-back of
    /// Qwen3-30B-A3B shows `ffn_down_exps` in Q6_K where `ffn_down` is).
    pub fn format_of(self, m: &Model, tensor: &str, layer: u64) -> Format {
        let f = match self {
            Quant::Uniform(f) => return f,
            Quant::Q4KM => q4_k_m,
        };
        if tensor == "router" {
            return ROUTER_AS;
        }
        let dense = tensor
            .strip_prefix("expert_")
            .or_else(|| tensor.strip_prefix("shared_"))
            .unwrap_or(tensor);
        f(dense, layer, m.layers, m.is_llama_cpp_70b())
    }

    /// Every matrix of the quantization's layers can be stored: each row
    /// a whole number of its format's blocks.
    pub fn stores(self, m: &Model) -> bool {
        (0..m.layers).all(|l| {
            m.weights().iter().all(|w| {
                self.format_of(m, w.matrix.name, l)
                    .check_row(w.matrix.k)
                    .is_ok()
            })
        })
    }
}

impl Quant {
    /// Bytes of the matrices one token reads in layer `layer` of `m` (an
    /// MoE layer's router and active experts).
    pub fn layer_bytes_read(self, m: &Model, layer: u64) -> u64 {
        m.weights()
            .iter()
            .map(|w| {
                let f = self.format_of(m, w.matrix.name, layer);
                w.read * w.matrix.rows * f.row_bytes(w.matrix.k)
            })
            .sum()
    }

    /// Every parameter of `m` stored this way: what must fit the memory
    /// ([`Model::bytes_resident`] for one format, the Q4_K_M file's tensors
    /// for the mix).
    pub fn bytes_resident(self, m: &Model) -> f64 {
        match self {
            Quant::Uniform(f) => m.bytes_resident(f),
            Quant::Q4KM => m.q4_k_m_file_size(),
        }
    }

    /// Bits a parameter of `m` takes on average.
    pub fn bits_per_weight(self, m: &Model) -> f64 {
        match self {
            Quant::Uniform(f) => f.bits_per_weight(),
            Quant::Q4KM => 8.0 * self.bytes_resident(m) / m.params() as f64,
        }
    }

    /// The ways `m` is run, in order: its [`offered`] formats, each alone,
    /// then the Q4_K_M mix where its rows are whole K-quant super-blocks
    /// and it is not released in a format of its own.
    pub fn offered(m: &Model) -> Vec<Quant> {
        let formats = offered(m.id);
        let native = formats == [Format::MXFP4];
        let mut out: Vec<Quant> = formats.into_iter().map(Quant::Uniform).collect();
        if !native && Quant::Q4KM.stores(m) {
            out.push(Quant::Q4KM);
        }
        out
    }

    /// Bytes of weights single-stream decode reads per token: every layer's
    /// [`Quant::layer_bytes_read`], counted as
    /// [`Model::weights_read_per_token`] counts (no output head, embedding
    /// row or norms), which it equals for a uniform format.
    pub fn weights_read_per_token(self, m: &Model) -> u64 {
        (0..m.layers).map(|l| self.layer_bytes_read(m, l)).sum()
    }
}

/// Written as in kernel names: `q4_k_m`.
impl serde::Serialize for Quant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for Quant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::models::by_id;

    #[test]
    fn the_mix_gives_experts_their_dense_counterparts_format() {
        let qwen = by_id("qwen3-30b-a3b").unwrap();
        for l in 0..qwen.layers {
            let down = Quant::Q4KM.format_of(&qwen, "down", l);
            assert_eq!(Quant::Q4KM.format_of(&qwen, "expert_down", l), down);
            assert_eq!(Quant::Q4KM.format_of(&qwen, "expert_gate", l), Format::Q4_K);
        }
        assert_eq!(Quant::Q4KM.format_of(&qwen, "expert_down", 0), Format::Q6_K);
        assert_eq!(Quant::Q4KM.format_of(&qwen, "router", 3), ROUTER_AS);
        let oss = by_id("gpt-oss-20b").unwrap();
        assert_eq!(
            Quant::Uniform(Format::MXFP4).format_of(&oss, "router", 0),
            Format::MXFP4
        );
        // gpt-oss' 2880-wide rows are not whole K-quant super-blocks.
        assert!(!Quant::Q4KM.stores(&oss));
        assert!(Quant::Q4KM.stores(&qwen));
        for f in FORMATS {
            let q = Quant::Uniform(f);
            if q.stores(&qwen) {
                assert_eq!(
                    q.weights_read_per_token(&qwen) as f64,
                    qwen.weights_read_per_token(f)
                );
            }
        }
        let k4 = Quant::Uniform(Format::Q4_K).weights_read_per_token(&qwen);
        let mix = Quant::Q4KM.weights_read_per_token(&qwen);
        assert!(mix > k4 && mix < Quant::Uniform(Format::Q6_K).weights_read_per_token(&qwen));
        let llama = by_id("llama3.1-8b").unwrap();
        assert_eq!(Quant::offered(&llama).last(), Some(&Quant::Q4KM));
        assert_eq!(Quant::offered(&oss), vec![Quant::Uniform(Format::MXFP4)]);
        let bits = Quant::Q4KM.bits_per_weight(&llama);
        assert!(bits > 4.5 && bits < 5.5, "{bits}");
        let names: Vec<&str> = Quant::all().iter().map(|q| q.name()).collect();
        assert_eq!(names.last(), Some(&"q4_k_m"));
        assert_eq!(names.len(), FORMATS.len() + 1);
    }
}
