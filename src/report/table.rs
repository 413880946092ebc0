//! The terminal view: SI prefixes here only; files keep base units.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::ResultRow;
use crate::gpu::AdapterDesc;
use crate::units::si;

pub fn adapters_table(list: &[AdapterDesc]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "#",
        "name",
        "backend",
        "type",
        "vendor:device",
        "driver",
        "ts",
        "f16",
        "subgr",
        "i64",
        "max buffer",
        "max storage",
    ]);
    let yn = |b: bool| if b { "yes" } else { "no" };
    for d in list {
        t.add_row([
            d.index.to_string(),
            d.name.clone(),
            d.backend.clone(),
            d.device_type.clone(),
            format!("{:04x}:{:04x}", d.vendor_id, d.device_id),
            format!("{} {}", d.driver, d.driver_info).trim().to_string(),
            yn(d.timestamps).into(),
            yn(d.f16).into(),
            if d.subgroups {
                format!("{}-{}", d.subgroup_min_size, d.subgroup_max_size)
            } else {
                "no".into()
            },
            yn(d.int64).into(),
            crate::units::bytes(d.max_buffer_size as f64),
            crate::units::bytes(d.max_storage_binding_size as f64),
        ]);
    }
    t.to_string()
}

/// A row whose samples vary more than this (coefficient of variation, %)
/// is marked noisy.
pub const NOISY_CV_PCT: f64 = 10.0;

/// What the reader should know about a row: its transfer size, a rate that
/// may be a cache's, samples that vary too much.
pub fn row_note(r: &ResultRow) -> String {
    let mut notes = Vec::new();
    let param = |key: &str| {
        r.params
            .split(';')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    };
    if r.suite == "transfer" {
        if let Some(b) = param("bytes").and_then(|b| b.parse::<f64>().ok()) {
            notes.push(crate::units::bytes(b));
        }
    }
    if r.params.contains("comparable=no") {
        notes.push("cache-sized: not comparable".to_string());
    }
    if r.cv_pct > NOISY_CV_PCT {
        notes.push("noisy: rerun with --full".to_string());
    }
    notes.join("; ")
}

pub fn results_table(rows: &[ResultRow]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "suite",
        "kernel",
        "metric",
        "median",
        "min .. max",
        "cv",
        "n",
        "timing",
        "verified",
        "note",
    ]);
    for r in rows {
        t.add_row([
            Cell::new(&r.suite),
            Cell::new(&r.kernel),
            Cell::new(&r.metric),
            Cell::new(si(r.value, &r.unit)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{} .. {}", si(r.min, &r.unit), si(r.max, &r.unit)))
                .set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.1}%", r.cv_pct)).set_alignment(CellAlignment::Right),
            Cell::new(r.samples),
            Cell::new(&r.timing),
            Cell::new(if r.verified { "yes" } else { "NO (unverified)" }),
            Cell::new(row_note(r)),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_say_size_cache_and_noise() {
        let mut r = crate::report::summary::fixtures::row_with(
            "transfer",
            "d2h",
            "bandwidth",
            1e9,
            "bytes=16777216;data=random",
        );
        r.cv_pct = 2.0;
        assert_eq!(row_note(&r), "16.0 MiB");
        r.cv_pct = 25.0;
        assert!(row_note(&r).ends_with("noisy: rerun with --full"));
        r.suite = "stream".into();
        r.params = format!(
            "array_bytes=8388608{}",
            crate::workloads::stream::cache_note(8 << 20, 32 << 20)
        );
        assert!(
            row_note(&r).starts_with("cache-sized: not comparable"),
            "{}",
            row_note(&r)
        );
        assert_eq!(crate::workloads::stream::cache_note(64 << 20, 32 << 20), "");
    }
}
