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
        ]);
    }
    t.to_string()
}
