//! Adapter identity through the real binary: indices that do not change
//! with --backend, and selection by PCI bus id.

mod common;
use common::{hashflops, stderr};

fn listed(args: &[&str]) -> Vec<serde_json::Value> {
    let out = hashflops(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("`list --json` prints an array")
}

#[test]
fn an_adapter_keeps_its_index_under_backend() {
    let all = listed(&["list", "--json"]);
    assert!(!all.is_empty(), "{}", common::NO_ADAPTER);
    for a in &all {
        let backend = a["backend"].as_str().unwrap();
        let only = listed(&["list", "--json", "--backend", backend]);
        assert!(
            only.iter()
                .any(|b| b["index"] == a["index"] && b["name"] == a["name"]),
            "adapter {} is not listed with the same index under --backend {backend}",
            a["index"]
        );
    }
}

#[test]
fn an_unknown_bus_id_is_a_usage_error_naming_what_exists() {
    let out = hashflops(&[
        "run",
        "--adapter",
        "0000:7f:1f.7",
        "--suite",
        "hash",
        "--quick",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("PCI bus id") && err.contains("available"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn an_index_of_another_backend_is_refused() {
    let all = listed(&["list", "--json"]);
    let Some(gl) = all.iter().find(|a| a["backend"] == "gl") else {
        // Only one API present: nothing to cross.
        assert!(!all.is_empty(), "{}", common::NO_ADAPTER);
        return;
    };
    let not_gl = all
        .iter()
        .find(|a| a["backend"] != "gl")
        .expect("a native adapter");
    let idx = not_gl["index"].to_string();
    let out = hashflops(&[
        "run",
        "--backend",
        "gl",
        "--adapter",
        &idx,
        "--suite",
        "hash",
        "--quick",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}:", gl["index"])),
        "{}",
        stderr(&out)
    );
}
