//! The catalogue's data file (`data/models.csv`): one line per model, its
//! shape as the model's published configuration gives it, the parameter
//! counts its publisher states, and where each comes from. Parsed once;
//! the file is compiled in and checked by the unit tests, so a malformed
//! one is a build defect (panic), not a user error.

use std::sync::OnceLock;

use serde::{Deserialize, Deserializer};

use super::{ActiveBasis, Model, Published};
use crate::domain::formats::BLOCK;

const CSV: &str = include_str!("../../../data/models.csv");

/// One line of the data file, as written.
#[derive(Debug, Deserialize)]
pub struct Entry {
    id: String,
    name: String,
    size: String,
    layers: u64,
    hidden: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
    ffn: u64,
    experts: u64,
    active_experts: u64,
    shared_experts: u64,
    sliding_window: u64,
    global_every: u64,
    #[serde(deserialize_with = "yes_no")]
    attention_sinks: bool,
    #[serde(deserialize_with = "yes_no")]
    biases: bool,
    #[serde(deserialize_with = "yes_no")]
    qk_norm: bool,
    norms_per_layer: u64,
    vocab: u64,
    #[serde(deserialize_with = "yes_no")]
    tied_embeddings: bool,
    published_params: f64,
    published_active: Option<f64>,
    active_basis: Option<ActiveBasis>,
    source: String,
    params_source: String,
    notes: String,
}

/// `yes` or `no`, nothing else: a typo must not read as false.
fn yes_no<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match String::deserialize(d)?.as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "{other:?} is neither yes nor no"
        ))),
    }
}

/// Every line of `text`, each checked; the first problem is the error.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let entries: Vec<Entry> = csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for (i, e) in entries.iter().enumerate() {
        check(e).map_err(|p| format!("{}: {p}", e.id))?;
        if entries[..i].iter().any(|o| o.id == e.id) {
            return Err(format!("{}: listed twice", e.id));
        }
    }
    Ok(entries)
}

/// What a shape must satisfy for the sizes computed from it to mean
/// anything.
fn check(e: &Entry) -> Result<(), String> {
    let dims = [e.layers, e.hidden, e.heads, e.kv_heads, e.head_dim, e.ffn];
    if dims.contains(&0) || e.vocab == 0 || e.norms_per_layer == 0 {
        return Err("a zero dimension".into());
    }
    if !e.heads.is_multiple_of(e.kv_heads) {
        return Err("query heads are not a multiple of KV heads".into());
    }
    // Every matrix's input is one of these; the formats store rows in
    // blocks of 32.
    if [e.hidden, e.heads * e.head_dim, e.ffn]
        .iter()
        .any(|k| !k.is_multiple_of(BLOCK))
    {
        return Err(format!("a matrix input is not a multiple of {BLOCK}"));
    }
    if e.active_experts > e.experts || (e.experts > 0) != (e.active_experts > 0) {
        return Err("active experts must be 1..=experts, or 0 for dense".into());
    }
    if e.shared_experts > 0 && e.experts == 0 {
        return Err("shared experts in a dense model".into());
    }
    if (e.global_every > 0) != (e.sliding_window > 0) || e.global_every == 1 {
        return Err("a sliding window needs a global layer every N > 1".into());
    }
    if e.published_active.is_some() != e.active_basis.is_some() {
        return Err("an active count needs its basis, and only then".into());
    }
    if (e.experts > 0) != e.published_active.is_some() {
        return Err("an MoE model needs its published active count".into());
    }
    let positive = |x: f64| x > 0.0;
    if !positive(e.published_params) || e.published_active.is_some_and(|a| !positive(a)) {
        return Err("published counts must be positive".into());
    }
    if ![&e.source, &e.params_source]
        .iter()
        .all(|s| s.starts_with("https://"))
    {
        return Err("every figure needs its source URL".into());
    }
    if e.name.is_empty() || e.size.is_empty() {
        return Err("a model needs a name and a size".into());
    }
    Ok(())
}

fn model(e: &'static Entry) -> Model {
    Model {
        id: &e.id,
        name: &e.name,
        size: &e.size,
        layers: e.layers,
        hidden: e.hidden,
        heads: e.heads,
        kv_heads: e.kv_heads,
        head_dim: e.head_dim,
        ffn: e.ffn,
        experts: e.experts,
        active_experts: e.active_experts,
        shared_experts: e.shared_experts,
        sliding_window: e.sliding_window,
        global_every: e.global_every,
        attention_sinks: e.attention_sinks,
        biases: e.biases,
        qk_norm: e.qk_norm,
        norms_per_layer: e.norms_per_layer,
        vocab: e.vocab,
        tied_embeddings: e.tied_embeddings,
        published: Some(Published {
            params: e.published_params,
            active: e.published_active.zip(e.active_basis),
            source: &e.source,
            params_source: &e.params_source,
            notes: &e.notes,
        }),
    }
}

/// Every model of the data file, in its order (smallest first).
pub fn all() -> &'static [Model] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    static MODELS: OnceLock<Vec<Model>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let entries =
            ENTRIES.get_or_init(|| parse(CSV).unwrap_or_else(|e| panic!("data/models.csv: {e}")));
        entries.iter().map(model).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_every_line_checks() {
        let entries = parse(CSV).unwrap();
        assert_eq!(entries.len(), all().len());
        assert!(all().len() >= 13);
    }

    /// Each sabotaged copy of a real line must be refused: the checks
    /// above can fail.
    #[test]
    fn malformed_lines_are_refused() {
        let mut lines = CSV.lines();
        let header = lines.next().unwrap();
        let dense = lines.clone().find(|l| l.starts_with("qwen3-8b,")).unwrap();
        let moe = lines.find(|l| l.starts_with("gpt-oss-20b,")).unwrap();
        let broken = [
            dense.replace(",32,8,128,12288,", ",32,7,128,12288,"),
            dense.replace(",12288,", ",12289,"),
            dense.replace(",no,no,yes,", ",no,no,maybe,"),
            dense.replace(",8.2e9,", ",,"),
            dense.replace("https://huggingface.co/Qwen/Qwen3-8B/blob", "Qwen3-8B/blob"),
            dense.replace(",0,0,0,0,0,", ",0,0,0,1024,0,"),
            moe.replace(",32,4,0,", ",32,0,0,"),
            moe.replace(",without-embedding,", ",,"),
            moe.replace(",without-embedding,", ",with-some,"),
            format!("{dense}\n{dense}"),
        ];
        assert!(parse(&format!("{header}\n{dense}\n{moe}\n")).is_ok());
        for b in broken {
            let text = format!("{header}\n{b}\n");
            assert!(parse(&text).is_err(), "accepted: {b}");
        }
    }
}
