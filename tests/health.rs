//! The soak against an injected wrong result, and `hashflops health` end
//! to end on the adapter present.

mod common;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{assert_caught, ctx, gpu, hashflops, mutate, run_with_shaders, stderr};
use hashflops::workloads::hash;
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
            bad[0].params.to_string().starts_with("interval=1;"),
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

/// The soak's two shaders, with the given mutations applied.
fn soak_shaders(hash: Option<(&str, &str)>, soak: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut sha = hash::WGSL.to_string();
    if let Some((from, to)) = hash {
        sha = mutate(&sha, from, to);
    }
    let mut s = soak::WGSL.to_string();
    for (from, to) in soak {
        s = mutate(&s, from, to);
    }
    vec![("sha256d", sha), ("soak", s)]
}

// Anchors of the mutations: the hash loop's bound, the first line after the
// FMA kernel's bounds check, the copy's store and the copy's first line.
const HASH_LOOP: &str = "it < iterations;";
const FMA_BODY: &str = "let h = mix32(i ^ rep.seed);";
const COPY_STORE: &str = "cdst[d] = csrc[i];";
const COPY_BODY: &str = "let n = arrayLength(&csrc);";

/// Every row of `kernel` unverified, exit 1, and each of `said` in a
/// warning naming the kernel.
fn assert_named(run: &common::ShaderRun, kernel: &str, what: &str, said: &[&str]) {
    assert_caught(run, kernel, what);
    let err = stderr(&run.output);
    for s in said {
        assert!(
            err.contains(&format!("{kernel}: {s}")),
            "{what}: no \"{kernel}: {s}\" in stderr: {err}"
        );
    }
    let out = String::from_utf8_lossy(&run.output.stdout);
    assert!(
        out.contains("results differed from the reference"),
        "{what}: no soak finding: {out}"
    );
}

#[test]
fn the_soak_shaders_unmodified_pass_through_the_shader_dir() {
    let run = run_with_shaders("soak", &soak_shaders(None, &[]), &[]);
    assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
    let rows = run.rows();
    for k in ["soak_hash", "soak_fma", "soak_copy"] {
        let mine: Vec<_> = rows.iter().filter(|r| r["kernel"] == k).collect();
        assert!(!mine.is_empty(), "no {k} row");
        assert!(mine.iter().all(|r| r["verified"] == true), "{k}: {mine:?}");
    }
}

#[test]
fn soak_loads_doing_no_work_or_reusing_their_output_are_caught() {
    // The hash loop runs no trip; the FMA kernel keeps an output already
    // written; the copy skips every second repetition.
    let shaders = soak_shaders(
        Some((HASH_LOOP, "it < 0u;")),
        &[
            (
                FMA_BODY,
                "if (any(fout[i] != vec2<f32>(0.0))) { return; }\n    let h = mix32(i ^ rep.seed);",
            ),
            (
                COPY_BODY,
                "if (rep.index % 2u == 1u) { return; }\n    let n = arrayLength(&csrc);",
            ),
        ],
    );
    let run = run_with_shaders("soak", &shaders, &[]);
    assert_named(
        &run,
        "soak_hash",
        "hash loop of zero trips",
        &["coverage: invocation", "the GPU found 0 candidates"],
    );
    assert_named(&run, "soak_fma", "memoising FMA", &["fma: "]);
    assert_named(
        &run,
        "soak_copy",
        "copy of every second repetition",
        &["copy: "],
    );
}

#[test]
fn soak_loads_doing_half_their_work_are_caught() {
    // The hash loop runs half its trips; the FMA kernel skips every second
    // repetition; the copy keeps a word already written.
    let shaders = soak_shaders(
        Some((HASH_LOOP, "it < iterations / 2u;")),
        &[
            (
                FMA_BODY,
                "if (rep.index % 2u == 1u) { return; }\n    let h = mix32(i ^ rep.seed);",
            ),
            (
                COPY_STORE,
                "if (cdst[d] != 0u) { return; }\n        cdst[d] = csrc[i];",
            ),
        ],
    );
    let run = run_with_shaders("soak", &shaders, &[]);
    assert_named(
        &run,
        "soak_hash",
        "hash loop of half the trips",
        &["coverage: invocation"],
    );
    assert_named(
        &run,
        "soak_fma",
        "FMA of every second repetition",
        &["fma: "],
    );
    assert_named(&run, "soak_copy", "memoising copy", &["copy: "]);
}

#[test]
fn health_fails_on_a_soak_load_that_reuses_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let shaders = soak_shaders(
        None,
        &[(
            FMA_BODY,
            "if (any(fout[i] != vec2<f32>(0.0))) { return; }\n    let h = mix32(i ^ rep.seed);",
        )],
    );
    for (name, src) in &shaders {
        std::fs::write(dir.path().join(format!("{name}.wgsl")), src).unwrap();
    }
    let o = hashflops(&[
        "health",
        "--duration",
        "8s",
        "--quiet",
        "--shader-dir",
        dir.path().to_str().unwrap(),
    ]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("health verdict: faulty"), "{out}");
    assert!(out.contains("stability: results differ"), "{out}");
    assert!(err.contains("soak_fma: fma: "), "{err}");
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

/// One short `health --json` on the adapter present, shared by the tests
/// that only read it: (exit code, stdout, the JSON document).
fn short_health() -> &'static (Option<i32>, String, serde_json::Value) {
    static RUN: std::sync::OnceLock<(Option<i32>, String, serde_json::Value)> =
        std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("h.json");
        let o = hashflops(&[
            "health",
            "--duration",
            "8s",
            "--quiet",
            "--json",
            json.to_str().unwrap(),
        ]);
        let doc = serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", stderr(&o)));
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            doc,
        )
    })
}

#[test]
fn health_says_incomplete_not_healthy_when_not_everything_was_covered() {
    let (code, out, doc) = short_health();
    // 8 s is too short to judge a GPU's stability, and a CPU adapter's is
    // never judged: no card is fully covered, none is healthy.
    assert_eq!(*code, Some(0), "incomplete is no fault: {out}");
    assert!(!out.contains("health verdict: healthy"), "{out}");
    assert!(out.contains("health verdict: incomplete"), "{out}");
    let h = &doc["health"][0];
    assert_eq!(h["verdict"], "incomplete", "{h}");
    let detail = h["verdict_detail"].as_str().unwrap();
    assert!(detail.starts_with("covered: "), "{detail}");
    assert!(detail.contains("not covered: "), "{detail}");
    assert!(detail.contains("stability not judged"), "{detail}");
    assert!(detail.lines().count() <= 2, "{detail}");
    assert!(
        out.contains(&format!("  {}", detail.lines().next().unwrap())),
        "{out}"
    );
    if doc["adapters"][0]["device_type"] == "cpu" {
        assert!(detail.contains("CPU adapter"), "{detail}");
        // Link and power a CPU adapter does not have are said, and are
        // not what keeps it from healthy.
        assert!(
            detail.contains("link and power not available on this system"),
            "{detail}"
        );
    }
}

#[test]
fn health_rows_suggest_no_flag_health_refuses() {
    use hashflops::report::table::{row_note_for, Command};
    use hashflops::report::ResultRow;
    let (_, out, doc) = short_health();
    assert!(!out.contains("--full"), "{out}");
    let help = hashflops(&["health", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    let rows: Vec<ResultRow> = serde_json::from_value(doc["rows"].clone()).unwrap();
    assert!(!rows.is_empty());
    for mut r in rows {
        // Every row as noisy as a row gets.
        r.cv_pct = 50.0;
        let note = row_note_for(&r, Command::Health);
        assert!(note.contains("noisy"), "{note}");
        for flag in note.split_whitespace().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(flag),
                "{} row suggests {flag}, which health does not take: {note}",
                r.suite
            );
        }
    }
}

#[test]
fn a_bad_duration_is_refused_naming_the_argument() {
    let o = hashflops(&["health", "--duration", "ten"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--duration") && e.contains("30s"), "{e}");
}

#[test]
fn durations_read_as_people_type_them() {
    use hashflops::cli::parse_duration;
    use std::time::Duration;
    for (text, secs) in [
        ("60", 60),
        ("90s", 90),
        ("1m30s", 90),
        ("1m 30s", 90),
        ("5m", 300),
        ("2h", 7200),
        (" 45 ", 45),
        ("168h", 168 * 3600),
    ] {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_secs(secs)),
            "{text:?}"
        );
    }
    for bad in [
        "",
        "ten",
        "1m30x",
        "-5",
        "5 parsecs",
        "0",
        "0s",
        "169h",
        "99999999999999999999999",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad:?} was taken");
    }
}

#[test]
fn a_nonsense_duration_is_one_line_and_exit_2() {
    for bad in ["1m30x", "soon", "0"] {
        let o = hashflops(&["health", "--duration", bad]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{bad}: {e}");
        assert!(e.contains("--duration"), "{bad}: {e}");
    }
}
