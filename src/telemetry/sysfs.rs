//! Linux sysfs: the PCI device of an adapter, its PCIe link as trained, and
//! the hwmon files AMD and Intel drivers expose (power, energy,
//! temperature, clocks, fan) plus AMD's busy percentage. Every file is
//! optional; unreadable or garbage contents count as absent, never as 0.

use std::path::{Path, PathBuf};

use super::{LinkState, Reading};
use crate::catalogue::Quantity;

/// The sysfs root: `/`, or `HASHFLOPS_SYSFS_ROOT` (tests point it at
/// fixture trees laid out as real machines present them).
pub fn root() -> PathBuf {
    std::env::var_os("HASHFLOPS_SYSFS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Reads a small text file, trimmed; `None` when absent or unreadable.
/// At most 4 KiB is read: sysfs attributes are short, a fixture need not be.
fn read(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.by_ref().take(4096).read_to_end(&mut buf).ok()?;
    let s = String::from_utf8(buf).ok()?;
    Some(s.trim().to_string())
}

fn read_f64(path: &Path) -> Option<f64> {
    read(path)?.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn read_hex(path: &Path) -> Option<u32> {
    let s = read(path)?;
    u32::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// The device folder of an adapter: by PCI bus id, or else by
/// vendor:device when exactly one PCI device matches. `Err` says why not.
pub fn device_dir(root: &Path, bus_id: &str, vendor: u32, device: u32) -> Result<PathBuf, String> {
    let devices = root.join("sys/bus/pci/devices");
    if let Some(bus) = crate::gpu::normalize_bus_id(bus_id) {
        let dir = devices.join(&bus);
        if dir.is_dir() {
            return Ok(dir);
        }
        return Err(format!("no {} in sysfs", dir.display()));
    }
    let entries = std::fs::read_dir(&devices)
        .map_err(|_| format!("no PCI devices under {}", devices.display()))?;
    let matches: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| {
            read_hex(&d.join("vendor")) == Some(vendor)
                && read_hex(&d.join("device")) == Some(device)
        })
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().unwrap_or_default()),
        0 => Err(format!(
            "the adapter reports no PCI bus id and no PCI device is {vendor:04x}:{device:04x} (a software adapter has none)"
        )),
        n => Err(format!(
            "the adapter reports no PCI bus id and {n} PCI devices are {vendor:04x}:{device:04x}"
        )),
    }
}

/// `8.0 GT/s PCIe`, `2.5 GT/s`, `16 GT/s` -> GT/s; `Unknown`, or a rate no
/// PCIe generation has, -> None.
pub fn parse_speed(s: &str) -> Option<f64> {
    let first = s.split_whitespace().next()?;
    let gts = first.parse::<f64>().ok()?;
    crate::domain::pcie::by_gts(gts).map(|g| g.gts)
}

/// The link as the bus reports it now, and what card and slot can do.
pub fn link(dir: &Path) -> Option<LinkState> {
    let speed = |f: &str| read(&dir.join(f)).as_deref().and_then(parse_speed);
    let width = |f: &str| {
        read(&dir.join(f))
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|w| (1..=32).contains(w))
    };
    let l = LinkState {
        current_gts: speed("current_link_speed"),
        current_width: width("current_link_width"),
        max_gts: speed("max_link_speed"),
        max_width: width("max_link_width"),
        source: "sysfs",
    };
    (l.current_gts.is_some() || l.current_width.is_some()).then_some(l)
}

/// Every hwmon folder of the device.
fn hwmons(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join("hwmon"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// One reading of every hwmon quantity present, at time `t_s`.
pub fn hwmon_readings(dir: &Path, t_s: f64) -> Vec<Reading> {
    let mut out = Vec::new();
    let mut push = |quantity: Quantity, unit: &'static str, value: Option<f64>| {
        if let Some(value) = value {
            out.push(Reading {
                t_s,
                quantity,
                unit,
                value,
                source: "hwmon",
            });
        }
    };
    for h in hwmons(dir) {
        let power =
            read_f64(&h.join("power1_average")).or_else(|| read_f64(&h.join("power1_input")));
        push(
            Quantity::Power,
            "W",
            power.filter(|w| *w >= 0.0).map(|uw| uw / 1e6),
        );
        push(
            Quantity::Energy,
            "J",
            read_f64(&h.join("energy1_input"))
                .filter(|j| *j >= 0.0)
                .map(|uj| uj / 1e6),
        );
        // temp1 is the edge (AMD) or package sensor: the one every driver has.
        push(
            Quantity::Temperature,
            "C",
            read_f64(&h.join("temp1_input")).map(|m| m / 1e3),
        );
        push(
            Quantity::CoreClock,
            "Hz",
            read_f64(&h.join("freq1_input")).filter(|f| *f > 0.0),
        );
        push(
            Quantity::MemoryClock,
            "Hz",
            read_f64(&h.join("freq2_input")).filter(|f| *f > 0.0),
        );
        push(
            Quantity::Fan,
            "RPM",
            read_f64(&h.join("fan1_input")).filter(|f| *f >= 0.0),
        );
    }
    push(
        Quantity::Utilization,
        "%",
        read_f64(&dir.join("gpu_busy_percent")).filter(|p| (0.0..=100.0).contains(p)),
    );
    out
}
