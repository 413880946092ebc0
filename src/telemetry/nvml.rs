//! NVIDIA's management library, loaded at run time (nothing is needed to
//! build): power, energy, clocks, throttle reasons, temperature, fan and
//! the PCIe link. Newer drivers ship only `libnvidia-ml.so.1`, so both
//! names are tried.

use nvml_wrapper::enum_wrappers::device::{Clock, TemperatureSensor};
use nvml_wrapper::Nvml;

use super::{LinkState, Reading};
use crate::catalogue::Quantity;

/// Loads NVML, or says why it could not.
pub fn open() -> Result<Nvml, String> {
    let mut last = String::new();
    for name in ["libnvidia-ml.so", "libnvidia-ml.so.1"] {
        match Nvml::builder().lib_path(std::ffi::OsStr::new(name)).init() {
            Ok(n) => return Ok(n),
            Err(e) => last = format!("{name}: {e}"),
        }
    }
    Err(format!("NVML not loadable ({last})"))
}

/// NVML names buses with an 8-digit domain; sysfs and Vulkan with 4.
fn nvml_bus_ids(bus: &str) -> Vec<String> {
    let mut ids = vec![bus.to_string()];
    if let Some(b) = crate::gpu::normalize_bus_id(bus) {
        ids.push(format!("0000{b}"));
        ids.push(b);
    }
    ids
}

fn with_device<T>(nvml: &Nvml, bus: &str, f: impl FnOnce(&nvml_wrapper::Device) -> T) -> Option<T> {
    let dev = nvml_bus_ids(bus)
        .iter()
        .find_map(|id| nvml.device_by_pci_bus_id(id.as_str()).ok())?;
    Some(f(&dev))
}

/// Whether NVML knows the adapter at `bus`.
pub fn has_device(nvml: &Nvml, bus: &str) -> bool {
    with_device(nvml, bus, |_| ()).is_some()
}

/// One reading of every quantity NVML gives for the adapter at `bus`.
pub fn readings(nvml: &Nvml, bus: &str, t_s: f64) -> Vec<Reading> {
    with_device(nvml, bus, |d| {
        let mut out = Vec::new();
        let mut push = |quantity: Quantity, unit: &'static str, value: Option<f64>| {
            if let Some(value) = value {
                out.push(Reading {
                    t_s,
                    quantity,
                    unit,
                    value,
                    source: "nvml",
                });
            }
        };
        push(
            Quantity::Power,
            "W",
            d.power_usage().ok().map(|mw| mw as f64 / 1e3),
        );
        push(
            Quantity::Energy,
            "J",
            d.total_energy_consumption().ok().map(|mj| mj as f64 / 1e3),
        );
        push(
            Quantity::Temperature,
            "C",
            d.temperature(TemperatureSensor::Gpu).ok().map(f64::from),
        );
        push(
            Quantity::CoreClock,
            "Hz",
            d.clock_info(Clock::Graphics)
                .ok()
                .map(|mhz| mhz as f64 * 1e6),
        );
        push(
            Quantity::MemoryClock,
            "Hz",
            d.clock_info(Clock::Memory).ok().map(|mhz| mhz as f64 * 1e6),
        );
        push(Quantity::Fan, "%", d.fan_speed(0).ok().map(f64::from));
        push(
            Quantity::Throttle,
            "mask",
            d.current_throttle_reasons().ok().map(|r| r.bits() as f64),
        );
        push(
            Quantity::Utilization,
            "%",
            d.utilization_rates().ok().map(|u| u.gpu as f64),
        );
        out
    })
    .unwrap_or_default()
}

/// NVML reports a generation, the rows a rate: GT/s per lane.
fn gen_gts(generation: u32) -> Option<f64> {
    crate::domain::pcie::by_number(generation).map(|g| g.gts)
}

/// The link as NVML reports it.
pub fn link(nvml: &Nvml, bus: &str) -> Option<LinkState> {
    with_device(nvml, bus, |d| LinkState {
        current_gts: d.current_pcie_link_gen().ok().and_then(gen_gts),
        current_width: d.current_pcie_link_width().ok(),
        max_gts: d.max_pcie_link_gen().ok().and_then(gen_gts),
        max_width: d.max_pcie_link_width().ok(),
        source: "nvml",
    })
    .filter(|l| l.current_gts.is_some() || l.current_width.is_some())
}
