//! `compare` on result files the tool wrote, on malformed input, and its SVG.

mod common;

use common::{hashflops, quick_hash_run, stderr};
use std::fs;

#[test]
fn compare_two_adapters_and_draw_the_chart() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    let o = quick_hash_run(&["--csv", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A second machine of a rig: the tool's own rows, as another host wrote them.
    let mut rows = hashflops::report::files::read_csv(&a).unwrap();
    for r in &mut rows {
        r.host = "rig-2".into();
        r.value *= 2.0;
        r.min *= 2.0;
        r.max *= 2.0;
    }
    hashflops::report::files::append_csv(&b, &rows).unwrap();

    let svg = dir.path().join("out.svg");
    let o = hashflops(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--baseline",
        "0",
        "--reference",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("rig-2"), "{out}");
    assert!(
        out.contains("(2.00x)"),
        "ratio to the baseline missing: {out}"
    );
    assert!(
        out.contains("CMP 170HX") && out.contains("published spec"),
        "{out}"
    );

    // The SVG is well-formed XML and holds both adapters' series.
    let text = fs::read_to_string(&svg).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut texts = Vec::new();
    let mut rects = 0;
    loop {
        match reader.read_event().expect("SVG parses as XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Text(t) => texts.push(t.unescape().unwrap().into_owned()),
            quick_xml::events::Event::Empty(e) | quick_xml::events::Event::Start(e)
                if e.name().as_ref() == b"rect" =>
            {
                rects += 1
            }
            _ => {}
        }
    }
    let all = texts.join("\n");
    assert!(all.contains("rig-2"), "legend lacks the second adapter");
    assert!(all.contains("SHA-256d hash rate"));
    assert!(
        all.matches("SHA-256d").count() >= 3,
        "both hash points and the bar group: {all}"
    );
    assert!(rects >= 3, "bars missing");
}

#[test]
fn malformed_csv_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.csv");
    let header = hashflops::report::files::csv_header_line();
    fs::write(&p, format!("{header}\nr,t,0.1,h,0,card,0x1,0x2,cpu,vulkan,d,i,hash,sha256d,,hash_rate,H/s,not-a-number,1,1,0,5,wall,true\n")).unwrap();
    let o = hashflops(&["compare", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.csv:2"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");

    let foreign = dir.path().join("foreign.csv");
    fs::write(&foreign, "a,b\n1,2\n").unwrap();
    let o = hashflops(&["compare", foreign.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("foreign.csv:1"), "{}", stderr(&o));

    let o = hashflops(&["compare", dir.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("panicked"));
}
