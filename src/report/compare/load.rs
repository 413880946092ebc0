//! Reading the files `compare` is given: results CSVs (any schema this
//! version knows) and the JSON `run --json` writes, told apart by content.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::cli::typed_path;
use crate::report::read::{read_csv, read_results_file};
use crate::report::{ResultRow, SCHEMA_VERSION};
use crate::{usage, usage_bail};

/// The most rows all files together may hold (each file is also limited in
/// bytes to [`MAX_INPUT_BYTES`](crate::report::read::MAX_INPUT_BYTES)), so memory stays bounded however many are
/// passed.
pub const MAX_ROWS: usize = 200_000;

/// Every result row of `files`, in order. Each is a results CSV or a `run`
/// JSON; errors are one line naming the file (exit 2).
pub fn load(files: &[PathBuf]) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    for f in files {
        let r = read_results(f)?;
        if r.is_empty() {
            usage_bail!("{}: holds a header but no results", typed_path(f));
        }
        rows.extend(r);
        if rows.len() > MAX_ROWS {
            usage_bail!(
                "{}: the files together hold more than {MAX_ROWS} result rows; compare fewer",
                typed_path(f)
            );
        }
    }
    Ok(rows)
}

/// One results file: JSON when its first non-blank byte is `{`, else CSV.
pub fn read_results(path: &Path) -> Result<Vec<ResultRow>> {
    if is_json(path) {
        read_json(path)
    } else {
        read_csv(path)
    }
}

/// Whether `path` is a regular file whose first non-blank byte (within
/// the first 4 KiB) is `{`. Anything else, or a file that cannot be read,
/// goes to the CSV reader, whose errors say why.
fn is_json(path: &Path) -> bool {
    // Only a regular file is opened: opening a FIFO would wait for a writer.
    if !fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::new();
    let read = File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head));
    read.is_ok()
        && head
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|&c| c == b'{')
}

/// The rows of a `run --json` document (schema 1 to this one): a regular
/// file of at most [`MAX_INPUT_BYTES`](crate::report::read::MAX_INPUT_BYTES) holding at most [`MAX_ROWS`] rows,
/// each with every column of the CSV. Errors name the file and the line or
/// the row (`rows[i]`, from 0).
pub fn read_json(path: &Path) -> Result<Vec<ResultRow>> {
    let shown = typed_path(path);
    let bytes = read_results_file(path)?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json's message ends "at line L column C": said first instead.
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        usage!("{shown}:{}: not valid JSON: {msg}", e.line())
    })?;
    let not_ours = |why: &str| {
        usage!("{shown}: not a hashflops results JSON ({why}); compare reads the files `run --csv` and `run --json` write")
    };
    let Value::Object(doc) = doc else {
        return Err(not_ours("not an object"));
    };
    if let Some(tool) = doc.get("tool") {
        if tool.as_str() != Some("hashflops") {
            return Err(not_ours(&format!("its tool is {tool}")));
        }
    }
    match doc.get("schema_version").map(|v| (v, v.as_u64())) {
        None => return Err(not_ours("it has no schema_version")),
        Some((_, Some(v))) if (1..=SCHEMA_VERSION as u64).contains(&v) => {}
        Some((_, Some(v))) if v > SCHEMA_VERSION as u64 => usage_bail!(
            "{shown}: holds schema {v} results; this hashflops reads schema 1 to {SCHEMA_VERSION}"
        ),
        Some((v, _)) => return Err(not_ours(&format!("its schema_version is {v}"))),
    }
    let Some(Value::Array(list)) = doc.get("rows") else {
        return Err(not_ours("it has no rows list"));
    };
    if list.len() > MAX_ROWS {
        usage_bail!("{shown}: holds more than {MAX_ROWS} result rows; compare fewer");
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| row(v).map_err(|e| usage!("{shown}: rows[{i}]: malformed row: {e}")))
        .collect()
}

/// One JSON row as a [`ResultRow`]; PCI ids may be numbers (schema 1).
fn row(v: &Value) -> std::result::Result<ResultRow, String> {
    let Value::Object(obj) = v else {
        return Err("not an object".into());
    };
    let mut obj = obj.clone();
    for id in ["vendor_id", "device_id"] {
        if let Some(n) = obj.get(id).and_then(Value::as_u64) {
            obj.insert(id.into(), Value::String(format!("{n:#06x}")));
        }
    }
    // NaN and infinities are written as null: not a result.
    for name in ["value", "min", "max", "cv_pct"] {
        match obj.get(name) {
            Some(Value::Null) => {
                return Err(format!("{name} is null, not a finite non-negative number"))
            }
            Some(n) if n.as_f64().is_some_and(|x| x < 0.0) => {
                return Err(format!("{name} is {n}, not a finite non-negative number"))
            }
            _ => {}
        }
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rows: Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "tool": "hashflops", "schema_version": 1, "rows": rows,
        }))
        .unwrap()
    }

    fn row_json() -> Value {
        serde_json::json!({
            "run_id": "r", "timestamp_utc": "t", "tool_version": "0", "host": "h",
            "adapter_index": 0, "adapter": "card", "vendor_id": 4318,
            "device_id": 1, "device_type": "discrete", "backend": "vulkan", "driver": "",
            "driver_info": "", "suite": "hash", "kernel": "sha256d", "params": "",
            "metric": "hash_rate", "unit": "H/s", "value": 1.0, "min": 1.0, "max": 1.0,
            "cv_pct": 0.0, "samples": 5, "timing": "wall", "verified": true,
        })
    }

    fn read(bytes: &[u8]) -> Result<Vec<ResultRow>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        fs::write(&p, bytes).unwrap();
        assert!(is_json(&p));
        read_results(&p)
    }

    #[test]
    fn schema_1_json_with_numeric_pci_ids() {
        let rows = read(&doc(Value::Array(vec![row_json()]))).unwrap();
        assert_eq!(rows[0].vendor_id, "0x10de");
        assert_eq!(rows[0].device_id, "0x0001");
        assert_eq!(rows[0].bus_id, "");
    }

    #[test]
    fn a_json_that_is_not_ours_is_refused() {
        let mut null = row_json();
        null["value"] = Value::Null;
        for (bytes, want) in [
            (b"  {\"a\": 1}".to_vec(), "no schema_version"),
            (b"{\n\"rows\": [1,}".to_vec(), ":2: not valid JSON"),
            (
                doc(Value::Array(vec![null])),
                "rows[0]: malformed row: value is null",
            ),
            (
                doc(serde_json::json!([{}])),
                "rows[0]: malformed row: missing field",
            ),
            (doc(serde_json::json!({})), "no rows list"),
        ] {
            let e = format!("{:#}", read(&bytes).unwrap_err());
            assert!(e.contains(want), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }
}
