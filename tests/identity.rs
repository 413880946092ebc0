//! Results schema 2: every row names its adapter by PCI bus id and Vulkan
//! device UUID, PCI ids are hex strings throughout the JSON, `compare`
//! reads schema 1 and 2 together, and a CSV of another schema is never
//! appended to.

mod bounded;
mod common;

use bounded::refused;
use common::{hashflops, stderr};
use hashflops::report::{CSV_COLUMNS, SCHEMA_VERSION};
use std::fs;
use std::path::Path;

/// Lowercase 8-4-4-4-12 hex.
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        })
}

/// Every `vendor_id` and `device_id` anywhere in `v`, with its path.
fn pci_ids<'a>(
    v: &'a serde_json::Value,
    at: String,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "vendor_id" || k == "device_id" {
                    out.push((format!("{at}.{k}"), x));
                }
                pci_ids(x, format!("{at}.{k}"), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pci_ids(x, format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn assert_hex_ids(doc: &serde_json::Value, min: usize) {
    let mut ids = Vec::new();
    pci_ids(doc, String::new(), &mut ids);
    assert!(ids.len() >= min, "only {} PCI ids in the JSON", ids.len());
    for (at, v) in ids {
        let s = v
            .as_str()
            .unwrap_or_else(|| panic!("{at} is {v}, not a string"));
        let hex = s
            .strip_prefix("0x")
            .unwrap_or_else(|| panic!("{at} is {s:?}"));
        assert!(
            hex.len() >= 4
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{at} is {s:?}"
        );
    }
}

#[test]
fn every_row_names_its_adapter_and_ids_are_hex_strings() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let (csv, json, prom) = (
        dir.path().join("r.csv"),
        dir.path().join("r.json"),
        dir.path().join("r.prom"),
    );
    let o = hashflops(&[
        "run",
        "--quick",
        "--quiet",
        "--suite",
        "stream",
        "--adapter",
        "0",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--prom",
        prom.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 2);
    assert_eq!(SCHEMA_VERSION, 2);
    let adapter = &doc["adapters"][0];
    assert_eq!(adapter["backend"], "vulkan", "{adapter}");
    let uuid = adapter["device_uuid"].as_str().expect("device_uuid");
    assert!(is_uuid(uuid), "lavapipe reports a device UUID: {uuid:?}");
    let bus = adapter["pci_bus_id"].as_str().expect("pci_bus_id");
    let rows = doc["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        assert_eq!(r["device_uuid"], uuid, "{r}");
        assert_eq!(r["bus_id"], bus, "{r}");
    }
    // The adapter descriptions, the rows and anything else in the document.
    assert_hex_ids(&doc, 2 + 2 * rows.len());

    // The CSV: the schema-2 header, every row with both columns filled as
    // the JSON says.
    let mut rdr = csv::Reader::from_path(&csv).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, CSV_COLUMNS);
    let (bi, ui) = (
        header.iter().position(|h| h == "bus_id").unwrap(),
        header.iter().position(|h| h == "device_uuid").unwrap(),
    );
    let records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len());
    for rec in &records {
        assert_eq!(rec.len(), CSV_COLUMNS.len());
        assert_eq!(&rec[ui], uuid);
        assert_eq!(&rec[bi], bus);
    }

    // Prometheus: the same identity as labels.
    let text = fs::read_to_string(&prom).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    assert!(!scrape.samples.is_empty());
    for s in &scrape.samples {
        assert_eq!(s.labels.get("uuid"), Some(uuid), "{text}");
        assert_eq!(s.labels.get("bus_id").unwrap_or(""), bus, "{text}");
    }

    // The same run as schema 1 wrote it (24 columns, another run id) reads
    // beside it: two columns, one per run.
    let old = dir.path().join("old.csv");
    let mut w = csv::Writer::from_path(&old).unwrap();
    w.write_record(&CSV_COLUMNS[..24]).unwrap();
    for rec in &records {
        let mut v: Vec<&str> = rec.iter().take(24).collect();
        v[0] = "schema1-run";
        w.write_record(&v).unwrap();
    }
    w.flush().unwrap();
    let o = hashflops(&["compare", old.to_str().unwrap(), csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("run schema1-run"), "{out}");
    assert!(out.contains(&format!("run {}", &records[0][0])), "{out}");
}

/// A row as schema 1 wrote it.
const V1_ROW: &str = "r1,t,0.1,h,0,card,0x10de,0x2330,discrete,vulkan,d,i,hash,sha256d,,hash_rate,H/s,5e6,4e6,6e6,1,5,wall,true\n";

fn v1_file(dir: &Path) -> (std::path::PathBuf, String) {
    let p = dir.join("results.csv");
    let text = format!("{}\n{V1_ROW}", CSV_COLUMNS[..24].join(","));
    fs::write(&p, &text).unwrap();
    (p, text)
}

#[test]
fn a_schema_1_csv_is_never_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let (p, text) = v1_file(dir.path());
    let json = dir.path().join("new.json");
    let line = refused(
        &[
            "run",
            "--suite",
            "hash",
            "--quick",
            "--quiet",
            "--csv",
            p.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        "results.csv: holds schema 1 rows",
    );
    assert!(line.contains("writes schema 2"), "{line}");
    assert_eq!(fs::read_to_string(&p).unwrap(), text, "the file changed");
    // Refused before measuring: nothing else was written either.
    assert!(!json.exists(), "the JSON was written");

    // A later schema's header (this one's columns and more) is named as such.
    let newer = dir.path().join("newer.csv");
    let text = format!("{},gpu_clock_hz\n", CSV_COLUMNS.join(","));
    fs::write(&newer, &text).unwrap();
    refused(
        &[
            "run",
            "--suite",
            "hash",
            "--quick",
            "--quiet",
            "--csv",
            newer.to_str().unwrap(),
        ],
        "newer schema",
    );
    assert_eq!(fs::read_to_string(&newer).unwrap(), text);
}

#[test]
fn compare_reads_schema_1_and_2_files_together() {
    let dir = tempfile::tempdir().unwrap();
    let (old, _) = v1_file(dir.path());
    // Schema 2: the same card in another slot on another host, found by its
    // UUID; a second card beside it.
    let new = dir.path().join("new.csv");
    let uuid = "deadbeef-0001-0203-0405-06070809abcd";
    let v2 = |run: &str, host: &str, idx: u32, bus: &str, uuid: &str, rate: &str| {
        format!("{run},t,0.1,{host},{idx},card,0x10de,0x2330,discrete,vulkan,d,i,hash,sha256d,,hash_rate,H/s,{rate},{rate},{rate},1,5,wall,true,{bus},{uuid}\n")
    };
    let text = format!(
        "{}\n{}{}{}",
        CSV_COLUMNS.join(","),
        v2("r2", "a", 0, "0000:01:00.0", uuid, "7e6"),
        v2("r3", "b", 2, "0000:06:00.0", uuid, "8e6"),
        v2("r2", "a", 1, "0000:02:00.0", &uuid.replace('d', "e"), "9e6"),
    );
    fs::write(&new, text).unwrap();
    let o = hashflops(&[
        "compare",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--merge",
        "best",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // Schema-1 card, the moved card once (best of its two runs), the other.
    for rate in ["5.00 MH/s", "8.00 MH/s", "9.00 MH/s"] {
        assert!(out.contains(rate), "{rate} missing:\n{out}");
    }
    assert!(
        !out.contains("7.00 MH/s"),
        "the moved card split in two:\n{out}"
    );
    assert!(out.contains("2: "), "{out}");
    assert!(!out.contains("3: "), "more than three adapters:\n{out}");
}

#[test]
fn health_json_has_the_schema_version_and_hex_ids() {
    let _gpu = common::gpu();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("h.json");
    let o = hashflops(&[
        "health",
        "--duration",
        "2s",
        "--quiet",
        "--adapter",
        "0",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], SCHEMA_VERSION);
    let rows = doc["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    let uuid = doc["adapters"][0]["device_uuid"].as_str().unwrap();
    assert!(is_uuid(uuid), "{uuid:?}");
    assert!(rows.iter().all(|r| r["device_uuid"] == uuid));
    assert_hex_ids(&doc, 2 + 2 * rows.len());
}
