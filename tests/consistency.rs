//! One run per adapter kind (a CPU adapter, an H100, a mining card with
//! throttled FMA and a narrow link), rendered to every output hashflops
//! writes — the terminal (results table, verdict, summary, energy), the
//! JSON, the CSV, the Prometheus exposition and the chart's data — and
//! read back from each: one value per fact, no figure above a bound it is
//! printed under, and no measured row called "not measured".

mod common;

use common::runs::{answer, cpu, h100, mining};
use hashflops::gpu::AdapterDesc;
use hashflops::report::{chart, compare, files, prom, table, ResultRow, RunMeta};
use hashflops::units::{si, tokens_per_s};
use serde_json::Value;

/// Every output of one run.
struct Outputs {
    text: String,
    json: Value,
    csv: Vec<(String, f64, bool)>,
    prom: Vec<f64>,
    chart: Value,
}

fn outputs(d: &AdapterDesc, rows: &[ResultRow]) -> Outputs {
    let (answer, mut json) = answer(d, rows);
    let text = table::results_table(rows) + &answer;
    json["rows"] = serde_json::to_value(rows).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    files::append_csv(&path, rows).unwrap();
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let csv = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[13].to_string(), r[17].parse().unwrap(), &r[23] == "true")
        })
        .collect();
    let meta = RunMeta::now();
    let exposition = prom::render(&meta, std::slice::from_ref(d), rows);
    let lines = exposition.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let prom = scrape
        .samples
        .iter()
        .filter_map(|x| match x.value {
            prometheus_parse::Value::Gauge(g) => Some(g),
            _ => None,
        })
        .collect();
    let groups = compare::group(rows, None).unwrap();
    let series = chart::data::series(&groups, rows, &chart::data::all_cards());
    let chart = serde_json::to_value(&series[0].metrics).unwrap();
    Outputs {
        text,
        json,
        csv,
        prom,
        chart,
    }
}

/// Each key figure of the summary is a measured row's value, the same in
/// the CSV, the Prometheus exposition, the chart's data and the terminal.
fn one_value_per_fact(o: &Outputs) {
    let metrics = &o.json["summaries"][0]["metrics"];
    assert_eq!(&o.chart, metrics, "the chart's figures are the summary's");
    for (name, v) in metrics.as_object().unwrap() {
        if v.is_null() {
            continue;
        }
        let value = v["value"].as_f64().unwrap();
        assert!(
            o.csv.iter().any(|(_, x, ok)| *ok && *x == value),
            "{name} {value} is no verified CSV row"
        );
        assert!(
            o.prom.contains(&value),
            "{name} {value} is not exported: {:?}",
            o.prom
        );
    }
    for f in hashflops::report::summary::FIELDS {
        let got = metrics[field_key(f.label)]["value"].as_f64();
        if let Some(value) = got {
            let shown = si(value, f.unit);
            assert!(
                o.text.contains(&shown),
                "{} {shown} not in:\n{}",
                f.label,
                o.text
            );
        }
    }
}

/// The JSON key of a summary field, by its label.
fn field_key(label: &str) -> &'static str {
    match label {
        "SHA-256d hash rate" => "hash_rate",
        "f32 matmul" => "sgemm",
        "f16 matmul" => "hgemm",
        "f32 FMA peak" => "fp32_fma",
        "f32 mul+add peak" => "fp32_mul_add",
        "f16 FMA peak" => "fp16_fma",
        "f64 FMA peak" => "fp64_fma",
        "int8 dot4 peak" => "int8_dot4",
        "i32 mad peak" => "i32_mad",
        "stream triad" => "stream_triad",
        "stream copy" => "stream_copy",
        "host link upload" => "upload",
        "host link download" => "download",
        "round trip" => "round_trip_s",
        "Ethash hash rate" => "ethash",
        other => panic!("a new key figure {other}: name its JSON key here"),
    }
}

/// The decode bound is one figure in the summary, the energy and the
/// verdict; no measured decode is above it or above its ceiling.
fn no_figure_above_its_bound(o: &Outputs) {
    let bound = &o.json["summaries"][0]["decode_bound"];
    let bs = bound["bytes_per_s"].as_f64().unwrap();
    assert_eq!(
        o.json["energy"][0]["ceiling_bandwidth_bs"].as_f64(),
        Some(bs)
    );
    let kernel = bound["kernel"].as_str().unwrap();
    assert!(
        o.text.contains(&format!("{kernel} {}", si(bs, "B/s"))),
        "{}",
        o.text
    );
    for r in o.json["rows"].as_array().unwrap() {
        if r["metric"] == "bandwidth" && r["suite"] == "llm" {
            let read = r["value"].as_f64().unwrap();
            assert!(
                read <= bs,
                "{} reads {read} above the bound {bs}",
                r["kernel"]
            );
        }
    }
    for (at, _) in o.text.match_indices("% of the bound") {
        let before = o.text[..at].trim_end();
        let n: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<String>()
            .chars()
            .rev()
            .collect();
        let share: f64 = n.parse().unwrap();
        assert!(share <= 100.0, "{share}% of the bound:\n{}", o.text);
    }
}

fn codes(o: &Outputs) -> Vec<String> {
    o.json["verdict"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// How the summary says a kernel was not measured, and the kernel.
const NOT_MEASURED: [(&str, &str); 11] = [
    ("f32 matmul not measured", "sgemm"),
    ("f16 matmul not measured", "hgemm"),
    ("fp64 not measured", "fp64_fma"),
    ("fp16 not measured", "fp16_fma"),
    ("int8 dot not measured", "int8_dot4"),
    ("i32 not measured", "i32_mad"),
    ("triad not measured", "triad"),
    ("copy not measured", "copy"),
    ("upload not measured", "h2d_staging"),
    ("download not measured", "d2h"),
    ("round trip not measured", "round_trip"),
];

/// "not measured" only of kernels with no row: every such phrase is one
/// of [`NOT_MEASURED`], and its kernel has none.
fn measured_rows_are_never_not_measured(o: &Outputs, rows: &[ResultRow]) {
    let text = o.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut known = 0;
    for (phrase, kernel) in NOT_MEASURED {
        let n = text.matches(phrase).count();
        known += n;
        if n > 0 {
            assert!(
                !rows.iter().any(|r| r.kernel.to_string() == kernel),
                "{kernel} was measured, but: {phrase}\n{}",
                o.text
            );
        }
    }
    assert_eq!(text.matches("not measured").count(), known, "{}", o.text);
}

/// Every figure a finding states as measured is a verified row's value, as
/// the CSV holds it: the verdict's JSON carries the same facts as the rest.
fn findings_state_measured_rows(o: &Outputs) {
    let mut seen = 0;
    for f in o.json["verdict"][0]["findings"].as_array().unwrap() {
        for fig in f["figures"].as_array().unwrap() {
            if fig["basis"] != "measured" {
                continue;
            }
            let v = fig["value"].as_f64().unwrap();
            seen += 1;
            assert!(
                o.csv.iter().any(|(_, x, ok)| *ok && *x == v),
                "{} {}: {v} is no verified row",
                f["code"],
                fig["name"]
            );
        }
    }
    assert!(seen > 0, "no finding states a measured figure");
}

/// The figure named `name` of a finding, if it has one.
fn figure(f: &Value, name: &str) -> Option<f64> {
    f["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .and_then(|x| x["value"].as_f64())
}

/// Each catalogue model's line: the JSON's best fitting format, its decode
/// rate and energy a token, are the verdict's figures, the summary's row
/// and the energy line's, one value each; a model with no fitting format
/// is said not to fit.
fn model_lines_agree(o: &Outputs) {
    let llm = o.json["llm"].as_array().expect("an llm list");
    let findings = o.json["verdict"][0]["findings"].as_array().unwrap();
    let energy = o.json["energy"][0]["models"].as_array().unwrap();
    let summary = &o.text[o.text.find("== Summary").unwrap()..];
    let models = hashflops::domain::models::catalogue();
    let formats: usize = models
        .iter()
        .map(|m| hashflops::domain::quant::Quant::offered(m).len())
        .sum();
    assert_eq!(llm.len(), formats);
    let model_findings: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("llm.model_"))
        .collect();
    assert_eq!(model_findings.len(), models.len());
    for m in models {
        let mine = |e: &&Value| e["model"] == m.id;
        let Some(best) = llm.iter().filter(mine).find(|e| e["best_fit"] == true) else {
            let f = model_findings
                .iter()
                .find(|f| {
                    f["text"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{} ", m.name))
                })
                .unwrap();
            assert_eq!(f["code"], "llm.model_too_big", "{}", f["text"]);
            continue;
        };
        let label = best["format"].as_str().unwrap().to_uppercase();
        let f = model_findings
            .iter()
            .find(|f| {
                f["text"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{} {label}:", m.name))
            })
            .unwrap_or_else(|| panic!("no finding for {} {label}", m.name));
        let Some(tps) = best["decode_tok_s"].as_f64() else {
            continue;
        };
        assert_eq!(figure(f, "decode"), Some(tps), "{}", f["text"]);
        let shown = tokens_per_s(tps);
        assert!(
            f["text"].as_str().unwrap().contains(&shown),
            "{}",
            f["text"]
        );
        let basis = best["basis"].as_str().unwrap();
        let decode_fig = f["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "decode");
        assert_eq!(decode_fig.unwrap()["basis"], basis);
        let row = summary
            .lines()
            .find(|l| l.contains(&format!(" {} ", m.name)) && l.contains(&format!(" {label} ")))
            .unwrap_or_else(|| panic!("no summary row for {} {label}:\n{summary}", m.name));
        assert!(row.contains(&shown) && row.contains(basis), "{row}");
        let j = best["joules_per_token"].as_f64().expect("power was read");
        assert_eq!(figure(f, "joules_per_token"), Some(j));
        let e = energy.iter().find(|e| e["model"] == m.id).unwrap();
        assert_eq!(
            (e["decode_tok_s"].as_f64(), e["joules_per_token"].as_f64()),
            (Some(tps), Some(j))
        );
        let cost = best["cost_per_million_tokens"].as_f64().unwrap();
        assert_eq!(figure(f, "cost_per_million_tokens"), Some(cost));
        assert!(
            o.text
                .contains(&format!("{} {label} {}", m.name, si(j, "J"))),
            "{}",
            o.text
        );
    }
}

fn holds_together(o: &Outputs, rows: &[ResultRow]) {
    model_lines_agree(o);
    one_value_per_fact(o);
    findings_state_measured_rows(o);
    no_figure_above_its_bound(o);
    measured_rows_are_never_not_measured(o, rows);
}

#[test]
fn a_cpu_adapter_holds_together() {
    let (d, rows) = cpu();
    let o = outputs(&d, &rows);
    holds_together(&o, &rows);
    assert_eq!(o.json["summaries"][0]["fma"]["throttled"], false);
    let c = codes(&o);
    assert!(
        !c.iter()
            .any(|c| c == "link.narrow" || c == "fma.crippled" || c == "llm.llama_cpp_int8"),
        "{c:?}"
    );
}

#[test]
fn an_h100_holds_together() {
    let (d, rows) = h100();
    let o = outputs(&d, &rows);
    holds_together(&o, &rows);
    // The cache-sized copy is kept apart from the memory's everywhere.
    assert_eq!(
        o.json["summaries"][0]["metrics"]["stream_copy"]["value"],
        3.0e12
    );
    assert_eq!(
        o.json["summaries"][0]["decode_bound"]["bytes_per_s"],
        3.0e12
    );
    let c = codes(&o);
    assert!(
        !c.iter()
            .any(|c| c == "link.narrow" || c == "fma.crippled" || c == "llm.llama_cpp_int8"),
        "{c:?}"
    );
}

#[test]
fn a_mining_card_holds_together() {
    let (d, rows) = mining();
    let o = outputs(&d, &rows);
    holds_together(&o, &rows);
    let fma = &o.json["summaries"][0]["fma"];
    assert_eq!(fma["throttled"], true);
    let c = codes(&o);
    assert!(c.iter().any(|c| c == "fma.crippled"), "{c:?}");
    // For LLM use, llama.cpp's own switches are named, as its source spells them.
    let f = o.json["verdict"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "llm.llama_cpp_int8")
        .expect("llm.llama_cpp_int8");
    for s in hashflops::report::verdict::LLAMA_CPP_SETTINGS {
        assert!(
            f["text"].as_str().unwrap().contains(s.name),
            "{}",
            f["text"]
        );
    }
    assert!(c.iter().any(|c| c == "link.narrow"), "{c:?}");
    // The throttled FMA is said with the figures the summary holds.
    assert!(
        o.text.contains(&si(fma["fma"].as_f64().unwrap(), "FLOP/s"))
            && o.text
                .contains(&si(fma["unfused"].as_f64().unwrap(), "FLOP/s")),
        "{}",
        o.text
    );
}

#[test]
fn the_model_line_check_fails_on_a_rate_the_json_alone_changed() {
    let (d, rows) = mining();
    let mut o = outputs(&d, &rows);
    let llm = o.json["llm"].as_array_mut().unwrap();
    let best = llm
        .iter_mut()
        .find(|e| e["best_fit"] == true && e["decode_tok_s"].is_f64())
        .unwrap();
    let v = best["decode_tok_s"].as_f64().unwrap();
    best["decode_tok_s"] = serde_json::json!(v * 1.01);
    let o = std::panic::AssertUnwindSafe(&o);
    let caught = std::panic::catch_unwind(|| model_lines_agree(&o));
    assert!(caught.is_err(), "a disagreeing rate went unnoticed");
}
