//! Every suite fits every adapter profile (`data/profiles.csv`): the real
//! binary runs every suite of the registry under `HASHFLOPS_PROFILE`, exits
//! 0, verifies every row, and skips exactly the kernels the profile's
//! missing features rule out, each for a named reason. The expectations
//! assume an adapter that itself has every feature hashflops asks for (Mesa's
//! lavapipe, the CI adapter), so that every skip is the profile's.
//!
//! Cost: one `run --quick` of every suite per profile, at the smallest
//! sizes (`--size 1M` for stream, 128^3 for matmul), about a minute each
//! on two cores.

mod common;

use hashflops::gpu::profile;
use hashflops::workloads::REGISTRY;

/// The kernels a profile's missing features rule out on a full-featured
/// adapter: `(suite/kernel, part of the reason)`.
const EXPECTED_SKIPS: &[(&str, &[(&str, &str)])] = &[
    ("webgpu-default", NO_F16_F64),
    ("wgpu-downlevel", FOUR_BUFFERS),
    ("gl", FOUR_BUFFERS),
    ("rx580-radv", NO_F16),
    ("gtx1060-nvidia", NO_F16),
    ("cmp170hx-nvidia", NO_F64),
    ("arc-a770", NO_F64),
    ("apple-m1-metal", NO_F64),
];

const NO_F16: &[(&str, &str)] = &[
    ("matmul/hgemm", "lacks SHADER_F16"),
    ("peak/fp16_fma", "lacks SHADER_F16"),
];
const NO_F64: &[(&str, &str)] = &[("peak/fp64_fma", "lacks SHADER_F64")];
const NO_F16_F64: &[(&str, &str)] = &[
    ("matmul/hgemm", "lacks SHADER_F16"),
    ("peak/fp64_fma", "lacks SHADER_F64"),
    ("peak/fp16_fma", "lacks SHADER_F16"),
];

/// WebGPU's downlevel limits and GL: no f16 or f64, and four storage
/// buffers a stage.
const FOUR_BUFFERS: &[(&str, &str)] = &[
    ("matmul/hgemm", "lacks SHADER_F16"),
    ("peak/fp64_fma", "lacks SHADER_F64"),
    ("peak/fp16_fma", "lacks SHADER_F16"),
    ("llm/attention", "the adapter allows 4"),
];

/// Runs every suite of the registry, `--quick` at the smallest sizes, with
/// `env` set; returns the exit code, stderr and the JSON document.
fn run_all_suites(
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String, serde_json::Value) {
    let suites: Vec<&str> = REGISTRY.iter().map(|s| s.id.name()).collect();
    let suites = suites.join(",");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let mut args = vec![
        "run",
        "--quick",
        "--quiet",
        "--suite",
        &suites,
        "--size",
        "1M",
        "--m",
        "128",
        "--n",
        "128",
        "--k",
        "128",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .args(&args)
        .envs(env.iter().copied())
        .output()
        .expect("running hashflops");
    let err = common::stderr(&out);
    let doc = std::fs::read_to_string(&json)
        .map(|t| serde_json::from_str(&t).expect("the JSON document parses"))
        .unwrap_or_else(|e| panic!("no JSON document ({e}); stderr: {err}"));
    (out.status.code(), err, doc)
}

/// Asserts exit 0, every row verified, every suite of the registry present
/// (a row or a skip), and the skips (telemetry aside) equal to `expected`.
fn assert_fits(what: &str, extra: &[&str], env: &[(&str, &str)], expected: &[(&str, &str)]) {
    let (code, err, doc) = run_all_suites(extra, env);
    assert_eq!(code, Some(0), "{what}: exit code; stderr: {err}");
    let rows = doc["rows"].as_array().expect("rows");
    for r in rows {
        assert_eq!(r["verified"], true, "{what}: unverified row {r}");
    }
    let skipped: Vec<(String, String)> = doc["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["suite"] != "telemetry")
        .map(|s| {
            let at = format!(
                "{}/{}",
                s["suite"].as_str().unwrap(),
                s["kernel"].as_str().unwrap()
            );
            (at, s["reason"].as_str().unwrap().to_string())
        })
        .collect();
    let got: Vec<&str> = skipped.iter().map(|(k, _)| k.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    assert_eq!(got, want, "{what}: skipped kernels; stderr: {err}");
    for ((at, reason), (_, part)) in skipped.iter().zip(expected) {
        assert!(
            reason.contains(part),
            "{what}: {at} skipped for {reason:?}, not {part:?}"
        );
    }
    for suite in REGISTRY {
        let name = suite.id.name();
        let present = rows.iter().any(|r| r["suite"] == name)
            || skipped
                .iter()
                .any(|(k, _)| k.starts_with(&format!("{name}/")));
        assert!(present, "{what}: suite {name} gave no row and no skip");
    }
}

fn assert_profile_fits(name: &str) {
    let expected = EXPECTED_SKIPS
        .iter()
        .find(|(p, _)| *p == name)
        .unwrap_or_else(|| panic!("no expected skips for profile {name}"))
        .1;
    assert_fits(
        &format!("profile {name}"),
        &[],
        &[(profile::PROFILE_ENV, name)],
        expected,
    );
}

/// One test per profile, so that each failure names its profile and two
/// run at once.
macro_rules! profile_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test]
        fn $test() {
            assert_profile_fits($name);
        })*

        #[test]
        fn every_profile_of_the_data_file_has_a_test_and_expected_skips() {
            let tested = [$($name),*];
            for p in profile::all() {
                assert!(tested.contains(&p.name.as_str()), "profile {} has no test", p.name);
                assert!(
                    EXPECTED_SKIPS.iter().any(|(n, _)| *n == p.name),
                    "profile {} has no expected skips", p.name
                );
            }
            assert_eq!(tested.len(), profile::all().len(), "a test names no profile");
        }
    };
}

profile_tests! {
    webgpu_default_fits => "webgpu-default",
    wgpu_downlevel_fits => "wgpu-downlevel",
    gl_fits => "gl",
    rx580_radv_fits => "rx580-radv",
    gtx1060_nvidia_fits => "gtx1060-nvidia",
    cmp170hx_nvidia_fits => "cmp170hx-nvidia",
    arc_a770_fits => "arc-a770",
    apple_m1_metal_fits => "apple-m1-metal",
}

/// wgpu's real GL backend (llvmpipe through EGL on CI), where the machine
/// has one: the same run, its own adapter's features ruling out f16 and
/// f64. A machine without a GL adapter says so and passes.
#[test]
fn every_suite_fits_the_gl_backend() {
    let list = common::hashflops(&["list", "--json", "--backend", "gl"]);
    let adapters: serde_json::Value =
        serde_json::from_slice(&list.stdout).unwrap_or(serde_json::Value::Null);
    if adapters.as_array().is_none_or(|a| a.is_empty()) {
        eprintln!(
            "no GL adapter here (wgpu finds none through EGL): the GL backend run is not done"
        );
        return;
    }
    assert_fits("the GL backend", &["--backend", "gl"], &[], NO_F16_F64);
}

#[test]
fn an_unknown_profile_is_a_usage_error_naming_the_profiles() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .args(["run", "--quick", "--suite", "hash"])
        .env(profile::PROFILE_ENV, "rx9999")
        .output()
        .expect("running hashflops");
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("HASHFLOPS_PROFILE=rx9999"), "{err}");
    for p in profile::all() {
        assert!(err.contains(&p.name), "{err}");
    }
}

#[test]
fn list_profiles_names_each_with_a_line() {
    let out = common::hashflops(&["list", "--profiles"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), profile::all().len(), "{text}");
    for p in profile::all() {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&p.name) && l.contains(&p.about)),
            "{text}"
        );
    }
}
