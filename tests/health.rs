//! The soak against an injected wrong result, and `hashflops health` end
//! to end on the adapter present.

mod common;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{assert_caught, ctx, gpu, hashflops, mutate, run_with_shaders, stderr};
use hashflops::workloads::soak::{self, Load, Plan};
use hashflops::workloads::{Shaders, SizeOptions};

fn short(corrupt: Option<(Load, usize)>) -> Plan {
    Plan {
        duration: Duration::from_secs(3),
        interval: Duration::from_secs(1),
        corrupt,
    }
}

#[test]
fn a_soak_result_made_wrong_once_is_caught() {
    let gpu = gpu();
    let shaders = Shaders::builtin();
    let sizes = SizeOptions::default();
    let ctx = ctx(&gpu, &shaders, &sizes);
    let never = AtomicBool::new(false);
    for load in [Load::Fma, Load::Copy, Load::Hash] {
        let out = soak::soak(&ctx, &short(Some((load, 1))), &never).unwrap();
        assert!(
            out.stability.intervals >= 2,
            "the soak ran one interval only"
        );
        let bad: Vec<_> = out.measured.iter().filter(|m| !m.verified).collect();
        assert_eq!(bad.len(), 1, "{load:?}: one wrong interval expected");
        assert!(
            bad[0].params.starts_with("interval=1;"),
            "{}",
            bad[0].params
        );
        assert_eq!(out.stability.status, "results differ");
    }
    let out = soak::soak(&ctx, &short(None), &never).unwrap();
    assert!(out.measured.iter().all(|m| m.verified));
    assert_ne!(out.stability.status, "results differ");
}

#[test]
fn a_soak_kernel_doing_one_step_less_is_caught() {
    let src = soak::WGSL;
    let bad = mutate(src, "k < sp.iters;", "k + 1u < sp.iters;");
    let run = run_with_shaders("soak", &[("soak", bad)], &[]);
    assert_caught(&run, "soak_fma", "one step fewer");
}

#[test]
fn health_gives_a_verdict_with_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("h.csv");
    let json = dir.path().join("h.json");
    let o = hashflops(&[
        "health",
        "--duration",
        "15s",
        "--quiet",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    for k in [
        "vram_write",
        "vram_check",
        "soak_hash",
        "soak_fma",
        "soak_copy",
    ] {
        assert!(
            rows.iter()
                .any(|r| r["kernel"] == k && r["verified"] == true),
            "no verified {k} row"
        );
    }
    let h = &doc["health"][0];
    for key in ["memory", "stability", "link", "power"] {
        assert!(!h[key].is_null(), "health lacks {key}: {h}");
    }
    assert_eq!(h["memory"]["status"], "OK");
    // No telemetry source on this machine: said so, never a zero.
    let stdout = String::from_utf8_lossy(&o.stdout);
    if doc["telemetry"][0]["readings"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(
            h["power"].as_str().unwrap().starts_with("unavailable"),
            "{h}"
        );
        assert!(stdout.contains("power:     unavailable"), "{stdout}");
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().count() >= 6, "{text}");
}

#[test]
fn a_bad_duration_is_refused_naming_the_argument() {
    let o = hashflops(&["health", "--duration", "ten"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--duration") && e.contains("30s"), "{e}");
}
