//! `hashflops list --models`: the model catalogue, one line a model: its
//! parameters, the KV cache a context costs, and in every weight format the
//! bytes it keeps resident and reads per token; with `--json`, the shape,
//! the published counts and their sources too.

use std::io::Write;

use anyhow::Result;
use comfy_table::{presets::NOTHING, CellAlignment, Table};
use serde::Serialize;

use crate::domain::formats::{Format, FORMATS};
use crate::domain::models::{catalogue, ActiveBasis, Model};
use crate::error::exit;
use crate::units::{num, si};

/// The context the KV column is quoted for, in tokens.
pub const KV_CONTEXT: u64 = 1024;

/// One model of `list --models --json`: its shape as the domain holds
/// it, then what is computed from it and what its publisher states.
#[derive(Serialize)]
struct ModelJson {
    #[serde(flatten)]
    shape: Model,
    /// Computed from the shape.
    params: u64,
    active_params: u64,
    kv_cache_bytes_per_1k_tokens: u64,
    formats: Vec<FormatJson>,
    published_params: Option<f64>,
    published_active_params: Option<f64>,
    published_active_basis: Option<ActiveBasis>,
    source: Option<&'static str>,
    params_source: Option<&'static str>,
    notes: Option<&'static str>,
}

#[derive(Serialize)]
struct FormatJson {
    format: Format,
    bytes_resident: f64,
    weights_read_per_token: f64,
}

impl ModelJson {
    fn of(m: &Model) -> ModelJson {
        let p = m.published;
        ModelJson {
            shape: *m,
            params: m.params(),
            active_params: m.active_params(),
            kv_cache_bytes_per_1k_tokens: m.kv_cache_bytes(KV_CONTEXT),
            formats: FORMATS
                .iter()
                .map(|&f| FormatJson {
                    format: f,
                    bytes_resident: m.bytes_resident(f),
                    weights_read_per_token: m.weights_read_per_token(f),
                })
                .collect(),
            published_params: p.map(|p| p.params),
            published_active_params: p.and_then(|p| p.active.map(|a| a.0)),
            published_active_basis: p.and_then(|p| p.active.map(|a| a.1)),
            source: p.map(|p| p.source),
            params_source: p.map(|p| p.params_source),
            notes: p.map(|p| p.notes).filter(|n| !n.is_empty()),
        }
    }
}

/// Billions, three digits: `8.19B`.
fn billions(n: u64) -> String {
    format!("{}B", num(n as f64 / 1e9))
}

/// The table: a header, then one line a model; a column pair per format.
fn table(models: &[Model]) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING);
    let mut header: Vec<String> = ["model", "params", "active", "layers", "KV/1k ctx"]
        .map(String::from)
        .to_vec();
    for f in FORMATS {
        header.push(format!("{} resident", f.label()));
        header.push(format!("{} read/token", f.label()));
    }
    t.set_header(header);
    for m in models {
        let mut row = vec![
            m.name.to_string(),
            billions(m.params()),
            billions(m.active_params()),
            m.layers.to_string(),
            si(m.kv_cache_bytes(KV_CONTEXT) as f64, "B"),
        ];
        for f in FORMATS {
            row.push(si(m.bytes_resident(f), "B"));
            row.push(si(m.weights_read_per_token(f), "B"));
        }
        t.add_row(row);
    }
    for i in 1..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// `list --models`.
pub fn list_models(json: bool) -> Result<i32> {
    let models = catalogue();
    let mut out = std::io::stdout().lock();
    if json {
        let all: Vec<ModelJson> = models.iter().map(ModelJson::of).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
    } else {
        writeln!(out, "{}", table(models))?;
        writeln!(
            out,
            "KV cache in f16 for {KV_CONTEXT} tokens; read/token: the layer matrices one token reads \
             (an MoE model's router and active experts); resident: every parameter. \
             Sources: --json."
        )?;
    }
    out.flush()?;
    Ok(exit::OK)
}
