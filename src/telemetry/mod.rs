//! Power, energy, temperature, clocks and the PCIe link, read while suites
//! run. Every source is optional at run time and none is needed to build:
//! what cannot be read is reported as unavailable, with the reason, never
//! as a zero.

pub mod nvml;
pub mod sysfs;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::catalogue::Quantity;
use crate::gpu::AdapterDesc;

/// One reading of one quantity at one moment.
#[derive(Clone, Debug, Serialize)]
pub struct Reading {
    /// Seconds since the sampler started.
    pub t_s: f64,
    /// `power` (W), `energy` (J, a running counter), `temperature` (°C),
    /// `core_clock` / `memory_clock` (Hz), `fan` (%), `throttle` (a bit
    /// mask of reasons), `utilization` (%).
    pub quantity: Quantity,
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
    pub unavailable: Vec<(Quantity, String)>,
    /// The link, read while the sampler ran (links train down when idle).
    pub link: Option<LinkState>,
}

/// Every quantity hashflops reads, for the unavailable list.
pub const QUANTITIES: [Quantity; 9] = [
    Quantity::Power,
    Quantity::Energy,
    Quantity::Temperature,
    Quantity::CoreClock,
    Quantity::MemoryClock,
    Quantity::Fan,
    Quantity::Throttle,
    Quantity::Utilization,
    Quantity::Link,
];

/// Reads telemetry in the background until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Telemetry>>,
    started: Instant,
}

impl Sampler {
    /// Starts sampling the adapter every `period` (and once at the start and
    /// once at the stop).
    pub fn start(adapter: &AdapterDesc, period: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let target = adapter.clone();
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("telemetry".into())
            .spawn(move || sample_until(&target, period, &flag, started))
            .ok();
        Sampler {
            stop,
            handle,
            started,
        }
    }

    /// Seconds since the sampler started, to mark when a suite ran.
    pub fn elapsed_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Stops sampling and returns what was read.
    pub fn stop(mut self) -> Telemetry {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(t)) => t,
            _ => Telemetry {
                unavailable: QUANTITIES
                    .iter()
                    .map(|q| (*q, "the telemetry thread failed".to_string()))
                    .collect(),
                ..Default::default()
            },
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The sources found for one adapter, and why the others are missing.
struct Sources {
    nvml: Option<nvml_wrapper::Nvml>,
    bus: String,
    sysfs: Option<PathBuf>,
    why_not: Vec<String>,
}

impl Sources {
    fn open(a: &AdapterDesc) -> Sources {
        let mut why_not = Vec::new();
        let sysfs = match sysfs::device_dir(&sysfs::root(), &a.pci_bus_id, a.vendor_id, a.device_id)
        {
            Ok(d) => Some(d),
            Err(e) => {
                why_not.push(e);
                None
            }
        };
        // NVML only for NVIDIA cards with a bus id to find them by.
        let nvml = if a.vendor_id == 0x10de && !a.pci_bus_id.is_empty() {
            match nvml::open() {
                Ok(n) if nvml::has_device(&n, &a.pci_bus_id) => Some(n),
                Ok(_) => {
                    why_not.push(format!("NVML does not know bus {}", a.pci_bus_id));
                    None
                }
                Err(e) => {
                    why_not.push(e);
                    None
                }
            }
        } else {
            why_not.push("no NVML (not an NVIDIA adapter with a bus id)".into());
            None
        };
        Sources {
            nvml,
            bus: a.pci_bus_id.clone(),
            sysfs,
            why_not,
        }
    }

    fn sample(&self, t_s: f64, out: &mut Telemetry) {
        if let Some(n) = &self.nvml {
            out.readings.extend(nvml::readings(n, &self.bus, t_s));
        }
        if let Some(d) = &self.sysfs {
            // NVIDIA's driver has no hwmon; where NVML read a quantity,
            // hwmon's is not added a second time.
            for r in sysfs::hwmon_readings(d, t_s) {
                if !out
                    .readings
                    .iter()
                    .any(|x| x.quantity == r.quantity && x.source == "nvml")
                {
                    out.readings.push(r);
                }
            }
        }
        let link = self
            .sysfs
            .as_deref()
            .and_then(sysfs::link)
            .or_else(|| self.nvml.as_ref().and_then(|n| nvml::link(n, &self.bus)));
        if let Some(l) = link {
            out.link = Some(match out.link.take() {
                // Idle links train down: keep the fastest state seen.
                Some(old) if link_rate(&old) >= link_rate(&l) => old,
                _ => l,
            });
        }
    }
}

fn link_rate(l: &LinkState) -> f64 {
    l.current_gts.unwrap_or(0.0) * l.current_width.unwrap_or(0) as f64
}

fn sample_until(
    a: &AdapterDesc,
    period: Duration,
    stop: &AtomicBool,
    started: Instant,
) -> Telemetry {
    let sources = Sources::open(a);
    let mut t = Telemetry::default();
    loop {
        sources.sample(started.elapsed().as_secs_f64(), &mut t);
        let next = Instant::now() + period;
        while Instant::now() < next {
            if stop.load(Ordering::Relaxed) {
                sources.sample(started.elapsed().as_secs_f64(), &mut t);
                t.unavailable = unavailable(&t, &sources.why_not);
                return t;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Every quantity no reading came for, with the reasons the sources gave.
fn unavailable(t: &Telemetry, why_not: &[String]) -> Vec<(Quantity, String)> {
    let why = if why_not.is_empty() {
        "no source on this system reports it".to_string()
    } else {
        why_not.join("; ")
    };
    QUANTITIES
        .iter()
        .filter(|q| match **q {
            Quantity::Link => t.link.is_none(),
            q => !t.readings.iter().any(|r| r.quantity == q),
        })
        .map(|q| (*q, why.clone()))
        .collect()
}

/// Power drawn over readings taken between `t0_s` and `t1_s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerDraw {
    /// Mean of the readings, W.
    pub mean: f64,
    /// The highest reading, W.
    pub peak: f64,
    pub readings: usize,
}

/// The power readings taken between `t0_s` and `t1_s`; none without one.
pub fn power_draw(t: &Telemetry, t0_s: f64, t1_s: f64) -> Option<PowerDraw> {
    let w: Vec<f64> = t
        .readings
        .iter()
        .filter(|r| r.quantity == Quantity::Power && r.t_s >= t0_s && r.t_s <= t1_s)
        .map(|r| r.value)
        .collect();
    (!w.is_empty()).then(|| PowerDraw {
        mean: w.iter().sum::<f64>() / w.len() as f64,
        peak: w.iter().cloned().fold(f64::MIN, f64::max),
        readings: w.len(),
    })
}

/// Mean power in W over readings taken between `t0_s` and `t1_s`.
pub fn mean_power(t: &Telemetry, t0_s: f64, t1_s: f64) -> Option<f64> {
    power_draw(t, t0_s, t1_s).map(|p| p.mean)
}

/// Joules per unit of work at `rate` units/s while drawing `watts`.
pub fn joules_per_unit(watts: f64, rate: f64) -> Option<f64> {
    (watts > 0.0 && rate > 0.0).then(|| watts / rate)
}

/// One quantity over a run, for a result row.
#[derive(Clone, Debug, Serialize)]
pub struct QuantitySummary {
    pub quantity: Quantity,
    pub unit: &'static str,
    pub source: &'static str,
    /// Median, min and max of the readings; for a running energy counter,
    /// the energy used between the first and the last reading.
    pub summary: crate::stats::Summary,
}

/// Every quantity that was read, summarised; the link as two quantities
/// (`pcie_link_gts`, `pcie_link_width`, as trained at its fastest).
pub fn summarize(t: &Telemetry) -> Vec<QuantitySummary> {
    let mut out = Vec::new();
    for q in QUANTITIES {
        let rs: Vec<&Reading> = t.readings.iter().filter(|r| r.quantity == q).collect();
        let Some(first) = rs.first() else { continue };
        let values: Vec<f64> = if q == Quantity::Energy {
            let used = rs.last().map_or(0.0, |l| l.value - first.value);
            if used < 0.0 {
                continue; // the counter wrapped or reset: no honest figure
            }
            vec![used]
        } else {
            rs.iter().map(|r| r.value).collect()
        };
        if let Some(summary) = crate::stats::Summary::of(&values) {
            out.push(QuantitySummary {
                quantity: first.quantity,
                unit: first.unit,
                source: first.source,
                summary,
            });
        }
    }
    if let Some(l) = &t.link {
        for (quantity, unit, v) in [
            (Quantity::PcieLinkGts, "GT/s", l.current_gts),
            (
                Quantity::PcieLinkWidth,
                "lanes",
                l.current_width.map(f64::from),
            ),
        ] {
            if let Some(summary) = v.and_then(|v| crate::stats::Summary::of(&[v])) {
                out.push(QuantitySummary {
                    quantity,
                    unit,
                    source: l.source,
                    summary,
                });
            }
        }
    }
    out
}
