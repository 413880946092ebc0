//! Every shader parses and validates with naga, with no GPU needed.

use std::fs;

/// Every shader as a suite compiles it (bodies composed with their
/// per-variant headers), from the registry: the one list of suites.
#[test]
fn every_shader_validates() {
    let mut seen = 0;
    for suite in hashflops::workloads::REGISTRY {
        for (label, src) in (suite.shaders)() {
            let module = naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{}/{label}: {}", suite.id, e.emit_to_string(&src)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}/{label}: {}", suite.id, e.emit_to_string(&src)));
            // Every shader documents its bindings and layout in a header comment.
            assert!(
                src.trim_start().starts_with("//"),
                "{}/{label} has no header comment",
                suite.id
            );
            seen += 1;
        }
    }
    assert!(seen >= 1, "no shaders found in the registry");
}

#[test]
fn hash_shader_is_what_the_generator_writes() {
    // The generator is the source of truth for the unrolled rounds: the
    // committed shader must be what it writes now.
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("python3")
        .arg(format!("{root}/tools/gen_sha256d.py"))
        .output()
        .expect("running python3 (install it: apt-get install python3) to check the generated SHA-256d shader");
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = fs::read_to_string(format!("{root}/shaders/sha256d.wgsl")).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        committed.trim_end(),
        "shaders/sha256d.wgsl is stale: run python3 tools/gen_sha256d.py > shaders/sha256d.wgsl"
    );
}
