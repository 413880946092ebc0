use super::*;

#[test]
fn every_kernel_name_is_unique_and_reads_back() {
    let all = Kernel::all();
    for k in &all {
        let name = k.to_string();
        assert_eq!(name.parse::<Kernel>(), Ok(*k), "{name}");
        let same: Vec<_> = all.iter().filter(|x| x.to_string() == name).collect();
        assert_eq!(same.len(), 1, "{name} names {same:?}");
    }
    assert_eq!("decode_q5_k".parse(), Ok(Kernel::Decode(Format::Q5_K)));
    assert_eq!("prefill_mxfp4".parse(), Ok(Kernel::Prefill(Format::MXFP4)));
    assert!("decode_q3_k".parse::<Kernel>().is_err());
}

#[test]
fn every_metric_reads_back_with_a_unit_and_direction() {
    let mut all: Vec<Metric> = METRICS.iter().map(|(m, _)| *m).collect();
    all.extend(Quantity::ALL.iter().map(|&q| Metric::Reading(q)));
    for m in all {
        assert_eq!(m.name().parse::<Metric>(), Ok(m));
        assert!(!Kernel::Sha256d.unit(m).is_empty() || m == Metric::Reading(Quantity::Link));
    }
    assert_eq!(Metric::Latency.direction(), Direction::Lower);
    assert!(Metric::Latency.better(1.0, 2.0));
    assert!(Metric::Bandwidth.better(2.0, 1.0));
    assert_eq!(Kernel::Peak(Peak::Int8Dot4).unit(Metric::PeakRate), "OP/s");
    assert_eq!(Kernel::Peak(Peak::Fp16Fma).unit(Metric::PeakRate), "FLOP/s");
}

#[test]
fn params_render_and_read_back_typed() {
    let p = Params::new()
        .with(Fact::Model("llama2-7b".into()))
        .with(Fact::Format(Format::Q4_0))
        .detail("activations", "f32")
        .with(Fact::Bytes(1 << 20))
        .with(Fact::CacheSized("working set 3 under 4x a 4 cache".into()))
        .with(Fact::Interval(3))
        .with(Fact::StartS(12.25));
    let text = p.to_string();
    assert_eq!(
        text,
        "model=llama2-7b;format=q4_0;activations=f32;bytes=1048576;\
         comparable=no(working set 3 under 4x a 4 cache);interval=3;t_s=12.2"
    );
    let back: Params = text.parse().unwrap();
    assert_eq!(back.model(), Some("llama2-7b"));
    assert_eq!(back.format(), Some(Format::Q4_0));
    assert_eq!(back.bytes(), Some(1 << 20));
    assert_eq!(back.cache_sized(), Some("working set 3 under 4x a 4 cache"));
    assert_eq!(back.interval(), Some(3));
    assert_eq!(back.to_string(), text);
}

#[test]
fn params_keep_what_they_cannot_type() {
    let text = "bytes=lots;odd;format=q9;x=1";
    let p: Params = text.parse().unwrap();
    assert_eq!(p.bytes(), None);
    assert_eq!(p.format(), None);
    assert_eq!(p.to_string(), text);
}

/// Every name the catalogue gives to the outside: suites, kernels, metrics,
/// telemetry quantities and typed params keys.
fn catalogue_names() -> Vec<String> {
    let mut names: Vec<String> = Suite::ALL.iter().map(|s| s.to_string()).collect();
    names.extend(Kernel::all().iter().map(|k| k.to_string()));
    names.extend(METRICS.iter().map(|(_, n)| n.to_string()));
    names.extend(params::TYPED_KEYS.iter().map(|k| k.to_string()));
    names.sort();
    names.dedup();
    names
}

/// The string literals of a Rust source, up to its first `#[cfg(test)]`
/// (test modules build rows from names, as a file would).
fn literals(src: &str) -> Vec<(usize, String)> {
    let code = src.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            out.push((n + 1, after[..end].to_string()));
            rest = &after[end + 1..];
        }
    }
    out
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// What a literal in the report or the commands would match a row by: a
/// catalogue name itself, `key=` of a typed parameter, or a kernel-name
/// prefix like `decode_`.
fn matches_a_name(lit: &str, names: &[String]) -> bool {
    names.iter().any(|n| lit == n)
        || params::TYPED_KEYS
            .iter()
            .any(|k| lit.contains(&format!("{k}=")) && lit.len() <= k.len() + 12)
        || ["decode_", "prefill_", "soak_", "vram_", "h2d_"].contains(&lit)
}

/// Words printed for people that happen to equal a name: table headers and
/// a Prometheus unit. Each is output only, never compared with a row.
const DISPLAY_WORDS: [(&str, &str); 10] = [
    // The ceiling table's, the catalogue tables' (summary and
    // `list --models`) and the rig table's headers.
    ("summary/llm.rs", "model"),
    ("summary/models.rs", "model"),
    ("summary/models.rs", "format"),
    ("app/models.rs", "model"),
    ("rig.rs", "model"),
    ("rig.rs", "format"),
    ("rig.rs", "link"),
    // The comparison's and the results table's headers.
    ("compare/render.rs", "bandwidth"),
    ("table.rs", "n"),
    // `B` spelled out as Prometheus names base units.
    ("prom/mod.rs", "bytes"),
];

#[test]
fn report_and_commands_never_match_rows_by_name() {
    let names = catalogue_names();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root.join("report"), &mut files);
    rust_files(&root.join("app"), &mut files);
    assert!(files.len() > 20, "found only {files:?}");
    let mut found = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy();
        // Modules compiled only for tests.
        if name == "tests.rs" || name == "fixtures.rs" {
            continue;
        }
        let src = std::fs::read_to_string(&f).unwrap();
        for (line, lit) in literals(&src) {
            let shown = DISPLAY_WORDS
                .iter()
                .any(|(file, word)| f.ends_with(file) && lit == *word);
            if matches_a_name(&lit, &names) && !shown {
                found.push(format!("{}:{line}: {lit:?}", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "suite, kernel, metric or params names as strings outside the catalogue \
         (use the catalogue's types):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_name_scan_sees_what_it_must() {
    let names = catalogue_names();
    let src = "let a = r.kernel == \"triad\"; // \"copy\"\nlet b = p.contains(\"model=\");\n#[cfg(test)]\n\"triad\"";
    let hits: Vec<String> = literals(src)
        .into_iter()
        .filter(|(_, l)| matches_a_name(l, &names))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(hits, ["triad", "model="]);
}
