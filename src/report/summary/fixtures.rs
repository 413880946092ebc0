//! Rows and adapters for the report's tests, built in one place so a new
//! column or adapter field is added here only.

use crate::catalogue::{Kernel, Metric, Params};
use crate::gpu::AdapterDesc;
use crate::report::ResultRow;

/// A row of adapter 0 ("card", a discrete Vulkan adapter): `kernel` and
/// `metric` by their names in the catalogue, and `suite` must be the
/// kernel's.
pub fn row(suite: &str, kernel: &str, metric: &str, value: f64, verified: bool) -> ResultRow {
    let kernel: Kernel = kernel.parse().unwrap();
    let metric: Metric = metric.parse().unwrap();
    assert_eq!(
        kernel.suite().name(),
        suite,
        "{kernel} is not of suite {suite}"
    );
    ResultRow {
        run_id: "r".into(),
        timestamp_utc: "t".into(),
        tool_version: "0".into(),
        host: "h".into(),
        adapter_index: 0,
        adapter: "card".into(),
        vendor_id: "0x10de".into(),
        device_id: "0x0001".into(),
        device_type: "discrete".into(),
        backend: "vulkan".into(),
        driver: "d".into(),
        driver_info: "i".into(),
        suite: kernel.suite(),
        kernel,
        params: Params::new(),
        metric,
        unit: kernel.unit(metric).into(),
        value,
        min: value,
        max: value,
        cv_pct: 1.0,
        samples: 5,
        timing: "gpu-timestamp".into(),
        verified,
        bus_id: String::new(),
        device_uuid: String::new(),
    }
}

/// [`row`] with `params`, verified.
pub fn row_with(suite: &str, kernel: &str, metric: &str, value: f64, params: &str) -> ResultRow {
    ResultRow {
        params: params.parse().unwrap(),
        ..row(suite, kernel, metric, value, true)
    }
}

/// Adapter 0, "card": discrete, Vulkan, with `vram` bytes of VRAM.
pub fn desc(vram: Option<u64>) -> AdapterDesc {
    AdapterDesc {
        index: 0,
        name: "card".into(),
        backend: "vulkan".into(),
        device_type: "discrete".into(),
        vendor_id: 0x10de,
        device_id: 1,
        driver: String::new(),
        driver_info: String::new(),
        pci_bus_id: "0000:01:00.0".into(),
        device_uuid: String::new(),
        timestamps: true,
        f16: true,
        subgroups: true,
        int64: true,
        subgroup_min_size: 32,
        subgroup_max_size: 32,
        max_buffer_size: 1 << 31,
        max_storage_binding_size: 1 << 31,
        max_compute_workgroups_per_dimension: 65535,
        max_compute_invocations_per_workgroup: 1024,
        max_compute_workgroup_storage_size: 49152,
        vram_bytes: vram,
        vram_source: "test".into(),
    }
}
