//! Power, energy, temperature, clocks and the PCIe link, read while suites
//! run. Every source is optional at run time and none is needed to build:
//! what cannot be read is reported as unavailable, with the reason, never
//! as a zero.

use std::time::Duration;

use serde::Serialize;

use crate::gpu::AdapterDesc;

/// One reading of one quantity at one moment.
#[derive(Clone, Debug, Serialize)]
pub struct Reading {
    /// Seconds since the sampler started.
    pub t_s: f64,
    /// `power` (W), `energy` (J, a running counter), `temperature` (°C),
    /// `core_clock` / `memory_clock` (Hz), `fan` (%), `throttle` (a bit
    /// mask of reasons), `utilization` (%).
    pub quantity: &'static str,
    pub unit: &'static str,
    pub value: f64,
    /// `nvml`, `hwmon`, `sysfs`.
    pub source: &'static str,
}

/// The PCIe link as the bus reports it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LinkState {
    /// Transfer rate per lane in GT/s as trained now, e.g. 2.5 (PCIe 1.0).
    pub current_gts: Option<f64>,
    pub current_width: Option<u32>,
    /// What the card and slot are capable of.
    pub max_gts: Option<f64>,
    pub max_width: Option<u32>,
    pub source: &'static str,
}

/// Everything a sampler saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Telemetry {
    pub readings: Vec<Reading>,
    /// `(quantity, why)` for every quantity no source could give.
    pub unavailable: Vec<(String, String)>,
    /// The link, read while the sampler ran (links train down when idle).
    pub link: Option<LinkState>,
}

/// Reads telemetry in the background until stopped.
pub struct Sampler {
    period: Duration,
}

impl Sampler {
    /// Starts sampling the adapter every `period`.
    pub fn start(_adapter: &AdapterDesc, period: Duration) -> Sampler {
        Sampler { period }
    }

    /// Stops sampling and returns what was read.
    pub fn stop(self) -> Telemetry {
        let _ = self.period;
        Telemetry {
            readings: Vec::new(),
            unavailable: vec![(
                "all".to_string(),
                "no telemetry source is implemented yet".to_string(),
            )],
            link: None,
        }
    }
}
