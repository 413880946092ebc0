//! Energy per unit of work, wherever power was read while the work ran:
//! joules per GH for the hash loop, GFLOP per joule for matmul, tokens per
//! kWh for LLM decode (measured, and at the decode ceiling of the one bound).

use crate::domain::quant::Quant;
use serde::Serialize;

use super::facts::{verified, Facts};
use super::models;
use crate::catalogue::{Quantity, Suite};
use crate::domain::formats::Format;
use crate::domain::models::LLAMA2_7B;
use crate::telemetry::{mean_power, Telemetry};

/// When each suite ran, in seconds since the sampler started.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    pub suite: Suite,
    pub t0_s: f64,
    pub t1_s: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Energy {
    pub hash_j_per_gh: Option<f64>,
    pub hash_watts: Option<f64>,
    pub matmul_gflop_per_j: Option<f64>,
    pub matmul_watts: Option<f64>,
    pub decode_tokens_per_kwh: Option<f64>,
    pub decode_watts: Option<f64>,
    /// Tokens per kWh at the Llama-2-7B Q4_0 decode ceiling, at the power
    /// drawn while the suite that measured the bound ran.
    pub ceiling_tokens_per_kwh: Option<f64>,
    /// That ceiling, tokens/s: the verdict's and the summary's.
    pub ceiling_tokens_s: Option<f64>,
    /// The bound behind that ceiling, named as the verdict and the summary
    /// name it (e.g. "stream copy"), and its rate.
    pub ceiling_bound: Option<String>,
    pub ceiling_bandwidth_bs: Option<f64>,
    /// Each catalogue model in its best fitting format, where power was
    /// read while the suite behind its decode rate ran.
    pub models: Vec<ModelEnergy>,
    /// The price of a kWh (`run --power-price`).
    pub price_per_kwh: Option<f64>,
    /// Why a figure is missing.
    pub unavailable: Option<String>,
}

/// Energy and cost per token of one model in one format, from
/// [`models::lines`]: the verdict's and the summary's figures.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelEnergy {
    pub model: &'static str,
    #[serde(skip)]
    pub name: &'static str,
    pub format: Quant,
    pub decode_tok_s: f64,
    pub joules_per_token: f64,
    pub cost_per_million_tokens: Option<f64>,
}

/// The models that fit (or whose fit is unknown) with an energy a token.
fn model_energy(facts: &Facts) -> Vec<ModelEnergy> {
    models::lines(facts)
        .into_iter()
        .filter(|l| l.fits != Some(false))
        .filter_map(|l| {
            Some(ModelEnergy {
                model: l.model,
                name: l.name,
                format: l.format,
                decode_tok_s: l.decode_tok_s?,
                joules_per_token: l.joules_per_token?,
                cost_per_million_tokens: l.cost_per_million_tokens,
            })
        })
        .collect()
}

pub const J_PER_KWH: f64 = 3.6e6;

fn watts(t: &Telemetry, windows: &[Window], suite: Suite) -> Option<f64> {
    let w = windows.iter().find(|w| w.suite == suite)?;
    mean_power(t, w.t0_s, w.t1_s)
}

/// The mean power while one suite ran.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct SuiteWatts {
    pub suite: Suite,
    pub watts: f64,
}

/// The mean power of each suite that ran while power was read; None when
/// no power was read at all.
pub fn suite_watts(t: &Telemetry, windows: &[Window]) -> Option<Vec<SuiteWatts>> {
    if !t.readings.iter().any(|r| r.quantity == Quantity::Power) {
        return None;
    }
    Some(
        windows
            .iter()
            .filter_map(|w| {
                mean_power(t, w.t0_s, w.t1_s).map(|watts| SuiteWatts {
                    suite: w.suite,
                    watts,
                })
            })
            .collect(),
    )
}

/// The energy figures from one adapter's facts and the telemetry of its run.
pub fn energy(t: &Telemetry, windows: &[Window], facts: &Facts) -> Energy {
    let mut e = Energy {
        price_per_kwh: facts.power_price,
        ..Energy::default()
    };
    if !t.readings.iter().any(|r| r.quantity == Quantity::Power) {
        e.unavailable = Some(
            t.unavailable
                .iter()
                .find(|(q, _)| *q == Quantity::Power)
                .map_or("no power reading".into(), |(_, why)| {
                    format!("no power reading: {why}")
                }),
        );
        return e;
    }
    let m = &facts.metrics;
    e.hash_watts = watts(t, windows, Suite::Hash);
    if let (Some(w), Some(h)) = (e.hash_watts, verified(m.hash_rate)) {
        e.hash_j_per_gh = Some(w / (h / 1e9));
    }
    e.matmul_watts = watts(t, windows, Suite::Matmul);
    if let (Some(w), Some(f)) = (e.matmul_watts, verified(m.sgemm)) {
        e.matmul_gflop_per_j = Some(f / 1e9 / w);
    }
    e.decode_watts = watts(t, windows, Suite::Llm);
    let decode = facts
        .llm(&LLAMA2_7B, Format::Q4_0)
        .and_then(|l| verified(l.decode));
    if let (Some(w), Some(tps)) = (e.decode_watts, decode) {
        e.decode_tokens_per_kwh = Some(tps * J_PER_KWH / w);
    }
    // The one bound on decode, over the bytes Llama-2-7B Q4_0 reads per token.
    if let (Some(b), Some(c)) = (&facts.decode_bound, facts.ceiling(&LLAMA2_7B, Format::Q4_0)) {
        if let Some(w) = watts(t, windows, b.suite) {
            e.ceiling_tokens_per_kwh = Some(c * J_PER_KWH / w);
            e.ceiling_tokens_s = Some(c);
            e.ceiling_bound = Some(b.kernel.clone());
            e.ceiling_bandwidth_bs = Some(b.bytes_per_s);
        }
    }
    e.models = model_energy(facts);
    e
}

/// The terminal line.
pub fn render(e: &Energy) -> String {
    if e.unavailable.is_some() {
        // The reason is on the telemetry line above and in the JSON.
        let cost = match e.price_per_kwh {
            Some(_) => "\ncost per million tokens: power was not read",
            None => "",
        };
        return format!("energy per work: unavailable (no power reading){cost}");
    }
    let mut parts = Vec::new();
    if let (Some(j), Some(w)) = (e.hash_j_per_gh, e.hash_watts) {
        parts.push(format!("SHA-256d {j:.2} J per GH at {w:.0} W"));
    }
    if let (Some(g), Some(w)) = (e.matmul_gflop_per_j, e.matmul_watts) {
        parts.push(format!("f32 matmul {g:.1} GFLOP per J at {w:.0} W"));
    }
    if let (Some(k), Some(w)) = (e.decode_tokens_per_kwh, e.decode_watts) {
        parts.push(format!(
            "Llama-2-7B Q4_0 decode {:.2} M tokens per kWh at {w:.0} W",
            k / 1e6
        ));
    }
    if let Some(k) = e.ceiling_tokens_per_kwh {
        let by = match (&e.ceiling_bound, e.ceiling_bandwidth_bs) {
            (Some(name), Some(b)) => format!(" ({name} {})", crate::units::si(b, "B/s")),
            _ => String::new(),
        };
        parts.push(format!(
            "{:.2} M tokens per kWh at the decode ceiling{by}",
            k / 1e6
        ));
    }
    let work = if parts.is_empty() {
        "energy per work: power was read, but not while a rated suite ran".into()
    } else {
        format!("energy per work: {}", parts.join("; "))
    };
    work + &render_models(e)
}

/// "energy per token: Llama-2-7B Q8_0 410 mJ (0.0342 per million tokens
/// at 0.3 a kWh); ...", on its own line; empty without a model.
fn render_models(e: &Energy) -> String {
    let each: Vec<String> = e
        .models
        .iter()
        .map(|m| {
            let cost = match (m.cost_per_million_tokens, e.price_per_kwh) {
                (Some(c), Some(p)) => format!(
                    " ({} per million tokens at {} a kWh)",
                    crate::units::num(c),
                    crate::units::num(p)
                ),
                _ => String::new(),
            };
            format!(
                "{} {} {} at {}{cost}",
                m.name,
                m.format.label(),
                crate::units::si(m.joules_per_token, "J"),
                crate::units::tokens_per_s(m.decode_tok_s)
            )
        })
        .collect();
    if each.is_empty() {
        return String::new();
    }
    format!(
        "\nenergy per token, each model in its best fitting format: {}",
        each.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Reading;

    #[test]
    fn joules_per_gh_from_power_during_the_hash_suite() {
        let mut t = Telemetry::default();
        for (ts, w) in [(0.5, 100.0), (1.5, 200.0), (2.5, 200.0), (9.0, 999.0)] {
            t.readings.push(Reading {
                t_s: ts,
                quantity: Quantity::Power,
                unit: "W",
                value: w,
                source: "nvml",
            });
        }
        let windows = vec![Window {
            suite: Suite::Hash,
            t0_s: 1.0,
            t1_s: 3.0,
        }];
        let row: crate::report::ResultRow = serde_json::from_value(serde_json::json!({
            "run_id": "r", "timestamp_utc": "t", "tool_version": "0", "host": "h",
            "adapter_index": 0, "adapter": "a", "vendor_id": "0x10de", "device_id": "0x0001",
            "device_type": "discrete", "backend": "vulkan", "driver": "", "driver_info": "",
            "suite": "hash", "kernel": "sha256d", "params": "", "metric": "hash_rate", "unit": "H/s",
            "value": 4e9, "min": 4e9, "max": 4e9, "cv_pct": 1.0, "samples": 5,
            "timing": "gpu-timestamp", "verified": true
        }))
        .unwrap();
        let memory = crate::report::summary::Memory::unrecorded(false);
        let e = energy(&t, &windows, &Facts::from_rows(&[row], memory.clone()));
        // 200 W over the window / 4 GH/s = 50 J per GH.
        assert_eq!(e.hash_watts, Some(200.0));
        assert_eq!(e.hash_j_per_gh, Some(50.0));
        assert!(render(&e).contains("50.00 J per GH"));
        let none = energy(
            &Telemetry::default(),
            &windows,
            &Facts::from_rows(&[], memory),
        );
        assert!(render(&none).contains("unavailable"));
    }

    #[test]
    fn each_fitting_model_gets_the_models_rules_energy_a_token() {
        use crate::report::summary::fixtures::{desc, row};
        let mut t = Telemetry::default();
        for ts in [0.5, 1.5, 2.5] {
            t.readings.push(Reading {
                t_s: ts,
                quantity: Quantity::Power,
                unit: "W",
                value: 120.0,
                source: "nvml",
            });
        }
        let windows = vec![Window {
            suite: Suite::Stream,
            t0_s: 0.0,
            t1_s: 3.0,
        }];
        let rows = [row("stream", "copy", "bandwidth", 400e9, true)];
        let facts = Facts::new(&desc(Some(8_000_000_000)), &rows, None)
            .with_power(suite_watts(&t, &windows), Some(0.30));
        let e = energy(&t, &windows, &facts);
        let lines = models::lines(&facts);
        let fitting: Vec<_> = lines.iter().filter(|l| l.fits == Some(true)).collect();
        assert_eq!(e.models.len(), fitting.len());
        for (m, l) in e.models.iter().zip(&fitting) {
            assert_eq!(m.model, l.model);
            assert_eq!(m.joules_per_token, 120.0 / l.decode_tok_s.unwrap());
            assert_eq!(m.cost_per_million_tokens, l.cost_per_million_tokens);
        }
        let text = render(&e);
        assert!(
            text.contains("energy per token, each model in its best fitting format"),
            "{text}"
        );
        // Priced, no power read: said once.
        let dark = Facts::new(&desc(Some(8_000_000_000)), &rows, None).with_power(None, Some(0.30));
        let text = render(&energy(&Telemetry::default(), &windows, &dark));
        assert!(
            text.ends_with("cost per million tokens: power was not read"),
            "{text}"
        );
    }
}
