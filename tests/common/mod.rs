//! Shared by the integration tests: the adapter that is present, or a
//! failure that says how to get one. GPU tests never pass silently.
#![allow(dead_code)]

pub mod llm;
pub mod runs;

use hashflops::gpu::{Adapters, Gpu};
use hashflops::timing::TimingPlan;
use hashflops::workloads::{Ctx, Scale, Shaders, SizeOptions};

pub const NO_ADAPTER: &str = "no GPU adapter: these tests need one. Install your GPU's Vulkan driver, \
or Mesa's software one (Debian/Ubuntu: apt-get install mesa-vulkan-drivers); `cargo run -- list` shows what is found";

/// Opens the default adapter (the same one `hashflops run` would pick).
pub fn gpu() -> Gpu {
    let adapters = Adapters::enumerate(None);
    assert!(!adapters.list.is_empty(), "{NO_ADAPTER}");
    let idx = adapters.select(None, false).expect(NO_ADAPTER)[0];
    let (a, d) = &adapters.list[idx];
    Gpu::open(a, d).expect("opening the default adapter")
}

/// A context for running a suite in a test: quick sizes, 5 short samples.
pub fn ctx<'a>(gpu: &'a Gpu, shaders: &'a Shaders, sizes: &'a SizeOptions) -> Ctx<'a> {
    Ctx {
        gpu,
        scale: Scale::Quick,
        plan: TimingPlan::new(5, 0.02),
        shaders,
        sizes,
        progress: indicatif::ProgressBar::hidden(),
    }
}

/// Runs the real binary.
pub fn hashflops(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .args(args)
        .output()
        .expect("running hashflops")
}

/// `run --suite hash --quick --quiet` plus `extra`.
pub fn quick_hash_run(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--suite", "hash", "--quick", "--quiet"];
    args.extend_from_slice(extra);
    hashflops(&args)
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A copy of `src` with the one occurrence of `from` replaced by `to`. A
/// mutation that misses its target would prove nothing, so a `from` that is
/// absent or ambiguous fails the test.
pub fn mutate(src: &str, from: &str, to: &str) -> String {
    let n = src.matches(from).count();
    assert_eq!(n, 1, "mutation target {from:?} occurs {n} times, not once");
    src.replacen(from, to, 1)
}

/// What `hashflops run` did with some shaders replaced.
pub struct ShaderRun {
    pub output: std::process::Output,
    /// The `--json` document, when the run wrote one.
    pub json: Option<serde_json::Value>,
}

impl ShaderRun {
    /// Every result row of the JSON document.
    pub fn rows(&self) -> Vec<serde_json::Value> {
        self.json
            .as_ref()
            .and_then(|j| j["rows"].as_array().cloned())
            .unwrap_or_default()
    }
}

/// Runs `hashflops run --suite SUITE --quick --quiet` plus `extra`, with
/// each `(name, source)` written as `name.wgsl` into a fresh `--shader-dir`.
pub fn run_with_shaders(suite: &str, shaders: &[(&str, String)], extra: &[&str]) -> ShaderRun {
    run_with_shaders_env(suite, shaders, extra, &[])
}

/// As [`run_with_shaders`], with `env` set for the binary.
pub fn run_with_shaders_env(
    suite: &str,
    shaders: &[(&str, String)],
    extra: &[&str],
    env: &[(&str, &str)],
) -> ShaderRun {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in shaders {
        std::fs::write(dir.path().join(format!("{name}.wgsl")), src).unwrap();
    }
    let json = dir.path().join("out.json");
    let mut args = vec![
        "run",
        "--suite",
        suite,
        "--quick",
        "--quiet",
        "--shader-dir",
        dir.path().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .args(&args)
        .envs(env.iter().copied())
        .output()
        .expect("running hashflops");
    let json = std::fs::read_to_string(&json)
        .ok()
        .map(|t| serde_json::from_str(&t).expect("the JSON document parses"));
    ShaderRun { output, json }
}

/// Asserts that a sabotaged shader was caught: exit 1, at least one row,
/// and every row of `kernel` marked unverified.
pub fn assert_caught(run: &ShaderRun, kernel: &str, what: &str) {
    let rows: Vec<_> = run
        .rows()
        .into_iter()
        .filter(|r| r["kernel"].as_str().is_some_and(|k| k.contains(kernel)))
        .collect();
    assert!(
        !rows.is_empty(),
        "{what}: no {kernel} row came back; stderr: {}",
        stderr(&run.output)
    );
    for r in &rows {
        assert_eq!(r["verified"], false, "{what}: {kernel} row passed: {r}");
    }
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{what}: exit code; stderr: {}",
        stderr(&run.output)
    );
}
