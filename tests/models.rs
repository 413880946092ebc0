//! `hashflops list --models`, the real binary: one line per catalogue model
//! with the figures the domain computes, and the same in JSON with every
//! model's sources.

mod common;

use hashflops::domain::formats::FORMATS;
use hashflops::domain::models::{catalogue, Model};
use hashflops::units::si;

fn stdout(args: &[&str]) -> String {
    let out = common::hashflops(args);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The table's line for `m`: it starts with the model's name.
fn line<'a>(text: &'a str, m: &Model) -> &'a str {
    let hits: Vec<&str> = text
        .lines()
        .filter(|l| l.split("  ").next().map(str::trim) == Some(m.name))
        .collect();
    assert_eq!(hits.len(), 1, "{} in {text}", m.name);
    hits[0]
}

#[test]
fn list_models_prints_a_line_per_model_with_the_domains_figures() {
    let text = stdout(&["list", "--models"]);
    let header = text.lines().next().unwrap();
    for f in FORMATS {
        assert!(
            header.contains(&format!("{} resident", f.label())),
            "{header}"
        );
        assert!(
            header.contains(&format!("{} read/token", f.label())),
            "{header}"
        );
    }
    for m in catalogue() {
        let cells: Vec<&str> = line(&text, m).split_whitespace().collect();
        let mut sizes = vec![si(m.kv_cache_bytes(1024) as f64, "B")];
        for f in FORMATS {
            sizes.push(si(m.bytes_resident(f), "B"));
            sizes.push(si(m.weights_read_per_token(f), "B"));
        }
        // The line ends in the layers, then the sizes, two words each
        // ("3.79 GB").
        let first = cells.len() - 2 * sizes.len();
        let got: Vec<String> = cells[first..].chunks(2).map(|c| c.join(" ")).collect();
        assert_eq!(got, sizes, "{}", m.name);
        assert_eq!(cells[first - 1], m.layers.to_string(), "{}", m.name);
        // Params and active, in billions to three digits.
        for (cell, n) in cells[1..3].iter().zip([m.params(), m.active_params()]) {
            let b: f64 = cell.strip_suffix('B').unwrap().parse().unwrap();
            assert!(
                (b * 1e9 / n as f64 - 1.0).abs() < 0.006,
                "{}: {cell}",
                m.name
            );
        }
    }
    // Header, the models, the one-line legend.
    assert_eq!(text.lines().count(), catalogue().len() + 2, "{text}");
}

#[test]
fn list_models_json_has_every_model_its_sizes_and_sources() {
    let doc: serde_json::Value =
        serde_json::from_str(&stdout(&["list", "--models", "--json"])).unwrap();
    let all = doc.as_array().unwrap();
    assert_eq!(all.len(), catalogue().len());
    for (j, m) in all.iter().zip(catalogue()) {
        assert_eq!(j["id"], m.id);
        assert_eq!(j["params"], m.params());
        assert_eq!(j["active_params"], m.active_params());
        assert_eq!(j["kv_cache_bytes_per_1k_tokens"], m.kv_cache_bytes(1024));
        for key in ["source", "params_source"] {
            let url = j[key].as_str().unwrap();
            assert!(url.starts_with("https://"), "{}: {url}", m.id);
        }
        let formats = j["formats"].as_array().unwrap();
        assert_eq!(formats.len(), FORMATS.len());
        for (jf, f) in formats.iter().zip(FORMATS) {
            assert_eq!(jf["format"], f.name());
            assert_eq!(jf["bytes_resident"], m.bytes_resident(f));
            assert_eq!(jf["weights_read_per_token"], m.weights_read_per_token(f));
        }
        let moe = m.experts > 0;
        assert_eq!(j["published_active_params"].is_number(), moe, "{}", m.id);
    }
    let ids: Vec<&str> = all.iter().map(|j| j["id"].as_str().unwrap()).collect();
    for id in ["qwen3-30b-a3b", "gpt-oss-20b", "gemma3-27b", "llama2-70b"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
}

#[test]
fn list_models_refuses_profiles_and_backend() {
    for extra in ["--profiles", "--backend=vulkan"] {
        let out = common::hashflops(&["list", "--models", extra]);
        assert_eq!(out.status.code(), Some(2), "{extra}");
        assert!(common::stderr(&out).contains("--models"), "{extra}");
    }
}
