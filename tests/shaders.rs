//! Every shader parses and validates with naga, with no GPU needed.

use std::fs;

#[test]
fn every_shader_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let mut seen = 0;
    for entry in fs::read_dir(dir).expect("shaders/ exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let src = fs::read_to_string(&path).unwrap();
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
        // Every shader documents its bindings and layout in a header comment.
        assert!(
            src.trim_start().starts_with("//"),
            "{} has no header comment",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 1, "no shaders found in {dir}");
}

#[test]
fn hash_shader_is_what_the_generator_writes() {
    // The generator is the source of truth for the unrolled rounds; when
    // python3 is available, check the committed shader was regenerated.
    let root = env!("CARGO_MANIFEST_DIR");
    let Ok(out) = std::process::Command::new("python3")
        .arg(format!("{root}/tools/gen_sha256d.py"))
        .output()
    else {
        eprintln!("python3 not found; generator check skipped");
        return;
    };
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
