//! Result rows and where they go: terminal table, CSV, JSON.

pub mod chart;
pub mod compare;
pub mod energy;
pub mod facts;
pub mod files;
pub mod models;
pub mod network;
pub mod pipeline;
pub mod prom;
pub mod read;
pub mod rig;
pub mod summary;
pub mod table;
pub mod verdict;

use serde::{Deserialize, Serialize};

use crate::catalogue::{Kernel, Metric, Params, Suite};
use crate::gpu::identity::hex_id;
use crate::gpu::AdapterDesc;
use crate::workloads::Measured;

/// The results schema, carried in the JSON: the 26 columns below. New
/// columns go at the end and bump it. Schema 1 had the first 24; 2 added
/// the adapter's identity (`bus_id`, `device_uuid`) and wrote every PCI id
/// in the JSON as a hex string.
pub const SCHEMA_VERSION: u32 = 2;

/// Columns of the results CSV, in order. JSON rows carry the same fields.
pub const CSV_COLUMNS: [&str; 26] = [
    "run_id",
    "timestamp_utc",
    "tool_version",
    "host",
    "adapter_index",
    "adapter",
    "vendor_id",
    "device_id",
    "device_type",
    "backend",
    "driver",
    "driver_info",
    "suite",
    "kernel",
    "params",
    "metric",
    "unit",
    "value",
    "min",
    "max",
    "cv_pct",
    "samples",
    "timing",
    "verified",
    "bus_id",
    "device_uuid",
];

/// How many of [`CSV_COLUMNS`] each schema version wrote, oldest first.
const SCHEMA_COLUMNS: [(u32, usize); 2] = [(1, 24), (2, 26)];

/// The schema version whose header is exactly `header`, if any.
pub fn schema_of_header<S: AsRef<str>>(header: &[S]) -> Option<u32> {
    SCHEMA_COLUMNS
        .iter()
        .find(|(_, n)| {
            header.len() == *n && header.iter().zip(CSV_COLUMNS).all(|(h, c)| h.as_ref() == c)
        })
        .map(|(v, _)| *v)
}

/// One measured metric (long format). `value` is the median in base SI
/// units (H/s, FLOP/s, B/s, s).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResultRow {
    pub run_id: String,
    pub timestamp_utc: String,
    pub tool_version: String,
    pub host: String,
    pub adapter_index: usize,
    pub adapter: String,
    pub vendor_id: String,
    pub device_id: String,
    pub device_type: String,
    pub backend: String,
    pub driver: String,
    pub driver_info: String,
    #[serde(with = "crate::catalogue::as_text")]
    pub suite: Suite,
    #[serde(with = "crate::catalogue::as_text")]
    pub kernel: Kernel,
    #[serde(with = "crate::catalogue::as_text")]
    pub params: Params,
    #[serde(with = "crate::catalogue::as_text")]
    pub metric: Metric,
    pub unit: String,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub cv_pct: f64,
    pub samples: usize,
    pub timing: String,
    pub verified: bool,
    /// Normalized PCI bus id (`0000:01:00.0`); empty when the adapter has
    /// none, and in schema-1 files.
    #[serde(default)]
    pub bus_id: String,
    /// Vulkan device UUID (`8-4-4-4-12`, lowercase); empty elsewhere.
    #[serde(default)]
    pub device_uuid: String,
}

/// What is the same for every row of one invocation.
#[derive(Clone, Debug, Serialize)]
pub struct RunMeta {
    pub run_id: String,
    pub timestamp_utc: String,
    pub tool_version: String,
    pub host: String,
}

impl RunMeta {
    pub fn now() -> RunMeta {
        let now = chrono::Utc::now();
        let host = hostname::get()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".into());
        RunMeta {
            run_id: format!(
                "{}-{:04x}",
                now.format("%Y%m%dT%H%M%SZ"),
                rand::random::<u16>()
            ),
            timestamp_utc: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            host,
        }
    }
}

impl ResultRow {
    pub fn new(meta: &RunMeta, adapter: &AdapterDesc, m: &Measured) -> ResultRow {
        let mut row = ResultRow::new_raw(meta, adapter, m.kernel, m.metric);
        row.params = m.params.clone();
        row.unit = m.unit.to_string();
        row.value = m.summary.median;
        row.min = m.summary.min;
        row.max = m.summary.max;
        row.cv_pct = m.summary.cv_pct;
        row.samples = m.summary.n;
        row.timing = m.timing.as_str().to_string();
        row.verified = m.verified;
        row
    }

    /// The run and adapter columns; the measurement columns empty.
    fn new_raw(meta: &RunMeta, adapter: &AdapterDesc, kernel: Kernel, metric: Metric) -> ResultRow {
        ResultRow {
            run_id: meta.run_id.clone(),
            timestamp_utc: meta.timestamp_utc.clone(),
            tool_version: meta.tool_version.clone(),
            host: meta.host.clone(),
            adapter_index: adapter.index,
            adapter: adapter.name.clone(),
            vendor_id: hex_id(adapter.vendor_id),
            device_id: hex_id(adapter.device_id),
            device_type: adapter.device_type.clone(),
            backend: adapter.backend.clone(),
            driver: adapter.driver.clone(),
            driver_info: adapter.driver_info.clone(),
            suite: kernel.suite(),
            kernel,
            params: Params::new(),
            metric,
            unit: kernel.unit(metric).to_string(),
            value: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            cv_pct: f64::NAN,
            samples: 0,
            timing: String::new(),
            verified: false,
            bus_id: adapter.pci_bus_id.clone(),
            device_uuid: adapter.device_uuid.clone(),
        }
    }
}

impl ResultRow {
    /// A telemetry quantity over a run: suite `telemetry`, `timing` names
    /// the source (nvml, hwmon, sysfs) and `verified` means read directly
    /// from it (no CPU reference exists for a power reading).
    pub fn from_telemetry(
        meta: &RunMeta,
        adapter: &AdapterDesc,
        q: &crate::telemetry::QuantitySummary,
    ) -> ResultRow {
        let mut row = ResultRow::new_raw(
            meta,
            adapter,
            Kernel::Reading(q.quantity),
            Metric::Reading(q.quantity),
        );
        row.unit = q.unit.to_string();
        row.value = q.summary.median;
        row.min = q.summary.min;
        row.max = q.summary.max;
        row.cv_pct = q.summary.cv_pct;
        row.samples = q.summary.n;
        row.timing = q.source.to_string();
        row.verified = true;
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_schema_is_known_by_its_header() {
        assert_eq!(schema_of_header(&CSV_COLUMNS), Some(SCHEMA_VERSION));
        assert_eq!(schema_of_header(&CSV_COLUMNS[..24]), Some(1));
        assert_eq!(schema_of_header(&CSV_COLUMNS[..25]), None);
        assert_eq!(schema_of_header(&["name", "score"]), None);
        let mut renamed = CSV_COLUMNS.to_vec();
        renamed[3] = "hostname";
        assert_eq!(schema_of_header(&renamed), None);
    }
}
