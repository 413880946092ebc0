//! `compare --svg/--png`: the chart from generated result files, a CPU
//! adapter of a few GFLOP/s beside a GPU of tens of TFLOP/s, with and
//! without reference cards and with metrics missing; and its targets.

mod bounded;
mod common;

use std::fs;
use std::path::Path;

use bounded::{bounded, refused};
use hashflops::report::chart::Chart;
use hashflops::report::{compare, files, ResultRow};

fn row(
    adapter: &str,
    device_type: &str,
    suite: &str,
    kernel: &str,
    params: &str,
    metric: &str,
    value: f64,
) -> ResultRow {
    serde_json::from_value(serde_json::json!({
        "run_id": format!("run-{adapter}"), "timestamp_utc": "t", "tool_version": "0", "host": "h",
        "adapter_index": if device_type == "cpu" { 1 } else { 0 }, "adapter": adapter,
        "vendor_id": "0x10de", "device_id": "0x0001", "device_type": device_type,
        "backend": "vulkan", "driver": "", "driver_info": "",
        "suite": suite, "kernel": kernel, "params": params, "metric": metric, "unit": "x",
        "value": value, "min": value, "max": value, "cv_pct": 1.0, "samples": 5,
        "timing": "gpu-timestamp", "verified": true
    }))
    .unwrap()
}

const CPU: &str = "llvmpipe (LLVM 15.0.6, 256 bits)";
const GPU: &str = "NVIDIA H100 PCIe";
const BARE: &str = "Bare Card 9000";

/// A software adapter, an H100 and a card that ran only the hash loop.
fn rows() -> Vec<ResultRow> {
    let mut v = Vec::new();
    for (a, t, scale) in [(CPU, "cpu", 1.0), (GPU, "discrete-gpu", 1500.0)] {
        v.push(row(a, t, "hash", "sha256d", "", "hash_rate", 3.9e6 * scale));
        v.push(row(a, t, "peak", "fp32_fma", "", "peak_rate", 37e9 * scale));
        v.push(row(
            a,
            t,
            "peak",
            "sha256_round",
            "",
            "peak_rate",
            35e9 * scale,
        ));
        v.push(row(a, t, "peak", "i32_mad", "", "peak_rate", 30e9 * scale));
        v.push(row(a, t, "stream", "triad", "", "bandwidth", 2.7e9 * scale));
        let ethash = if t == "cpu" {
            "epoch=0;comparable=no(dataset cut)"
        } else {
            "epoch=517"
        };
        // 0.27 MH/s x 8192 B: 0.82 of the triad on either adapter.
        v.push(row(
            a,
            t,
            "ethash",
            "ethash",
            ethash,
            "hash_rate",
            0.27e6 * scale,
        ));
        v.push(row(
            a,
            t,
            "matmul",
            "sgemm",
            "m=256;n=256;k=256",
            "flops",
            6.7e9 * scale,
        ));
        let models: &[(&str, f64)] = if t == "cpu" {
            &[("llama2-7b", 6.74e9)]
        } else {
            &[
                ("llama2-7b", 6.74e9),
                ("llama2-13b", 13e9),
                ("llama2-70b", 69e9),
            ]
        };
        for (model, p) in models {
            for (format, bits) in [("q4_0", 4.5), ("q8_0", 8.5), ("f16", 16.0)] {
                let w = p * bits / 8.0;
                let params = format!("model={model};format={format};weight_bytes_per_token={w}");
                v.push(row(
                    a,
                    t,
                    "llm",
                    &format!("decode_{format}"),
                    &params,
                    "token_rate",
                    0.0094 * scale * 6.74e9 / p,
                ));
            }
            let params = format!("model={model};format=q4_0;batch=64");
            v.push(row(
                a,
                t,
                "llm",
                "prefill_q4_0",
                &params,
                "token_rate",
                0.022 * scale * 20.0,
            ));
        }
    }
    v.push(row(
        BARE,
        "discrete-gpu",
        "hash",
        "sha256d",
        "",
        "hash_rate",
        1e9,
    ));
    v
}

fn write(dir: &Path, rows: &[ResultRow]) -> String {
    let p = dir.join("r.csv");
    files::append_csv(&p, rows).unwrap();
    p.to_str().unwrap().to_string()
}

/// Every text of an SVG, which must parse as XML.
fn svg_texts(svg: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut texts = Vec::new();
    loop {
        match reader.read_event().expect("the SVG parses as XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Text(t) => texts.push(t.unescape().unwrap().into_owned()),
            _ => {}
        }
    }
    texts.join("\n")
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("the PNG has a valid header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("the PNG decodes");
    // Not blank: a chart has ink on it.
    let ink = buf[..info.buffer_size()]
        .iter()
        .filter(|&&b| b < 128)
        .count();
    assert!(ink > 10_000, "the PNG is nearly blank ({ink} dark bytes)");
    (info.width, info.height)
}

#[test]
fn a_small_and_a_large_card_are_drawn_with_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows();
    let csv = write(dir.path(), &rows);
    let groups = compare::group(&rows, None).unwrap();
    assert_eq!(groups.len(), 3);
    for reference in [false, true] {
        let svg = dir.path().join("c.svg");
        let png = dir.path().join("c.png");
        let mut args = vec![
            "compare",
            &csv,
            "--svg",
            svg.to_str().unwrap(),
            "--png",
            png.to_str().unwrap(),
        ];
        if reference {
            args.push("--reference");
        }
        let o = bounded(&args);
        assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));

        let text = svg_texts(&fs::read_to_string(&svg).unwrap());
        let mut expected: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| format!("{i}: {}", g.label))
            .collect();
        expected.extend(
            [
                "f32 matmul",
                "integer (sha256_round)",
                "SHA-256d",
                "f32 FMA",
                "triad",
                "llama2-7b q4_0",
                "llama2-13b q8_0",
                "llama2-70b f16",
                "CPU adapter: host memory",
                // The H100's VRAM, from the reference card its name contains.
                "does not fit",
                "fits:",
                "not measured",
                "llm suite not run",
                "Ethash 405 MH/s (epoch 517) = 3.32 TB/s random reads, 0.82x triad",
                "Ethash 270 kH/s (epoch 0), cut dataset = 2.21 GB/s random reads, 0.82x triad",
            ]
            .map(String::from),
        );
        if reference {
            expected.extend(
                [
                    "RTX 3090",
                    "CMP 170HX",
                    "reference: vendor spec",
                    "H100 PCIe llama2-7b q4_0",
                ]
                .map(String::from),
            );
        }
        for want in &expected {
            assert!(
                text.contains(want.as_str()),
                "{want:?} missing from the SVG text:\n{text}"
            );
        }
        if !reference {
            assert!(
                !text.contains("RTX 3090"),
                "reference cards drawn without --reference"
            );
        }
        assert!(!text.contains("NaN") && !text.contains("inf "), "{text}");

        let expected_size = Chart::new(&groups, &rows, reference).size();
        assert_eq!(png_size(&fs::read(&png).unwrap()), expected_size);
    }
}

#[test]
fn a_png_goes_to_stdout_with_the_tables_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), &rows()[..3]);
    let o = bounded(&["compare", &csv, "--png", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert!(
        o.stdout.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG on stdout"
    );
    png_size(&o.stdout);
    assert!(common::stderr(&o).contains("SHA-256d hash rate"));
}

#[test]
fn a_bad_chart_target_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), &rows()[..3]);
    let folder = dir.path().to_str().unwrap().to_string();
    let missing = dir.path().join("no/such/c.png");
    for flag in ["--png", "--svg"] {
        refused(&["compare", &csv, flag, &folder], "is a folder");
        refused(
            &["compare", &csv, flag, missing.to_str().unwrap()],
            "does not exist",
        );
    }
    refused(&["compare", &csv, "--png", "-", "--svg", "-"], "stdout");
    // Refused before anything is read: a bad input file is not reached.
    refused(
        &["compare", "/nonexistent.csv", "--png", &folder],
        "is a folder",
    );
}

/// A cache-sized stream triad is measured, so its bar is never "not
/// measured"; it is no memory figure either, so none is drawn.
#[test]
fn a_cache_sized_triad_is_named_so_in_the_key_figures() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![
        row(CPU, "cpu", "hash", "sha256d", "", "hash_rate", 3.9e6),
        row(CPU, "cpu", "peak", "fp32_fma", "", "peak_rate", 37e9),
        row(
            CPU,
            "cpu",
            "stream",
            "triad",
            "array_bytes=1048576;comparable=no(working set 3145728 under 4x a 272629760 cache)",
            "bandwidth",
            2.7e9,
        ),
    ];
    let csv = write(dir.path(), &rows);
    let svg = dir.path().join("c.svg");
    let o = bounded(&["compare", &csv, "--svg", svg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let text = svg_texts(&fs::read_to_string(&svg).unwrap());
    assert!(text.contains("cache-sized: no memory figure"), "{text}");
    assert!(!text.contains("not measured"), "{text}");
}
