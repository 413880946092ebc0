//! Shared by the integration tests: the adapter that is present, or a
//! failure that says how to get one. GPU tests never pass silently.
#![allow(dead_code)]

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
