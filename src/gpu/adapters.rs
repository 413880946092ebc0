//! Adapters: listing, identity and selection.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::usage_bail;

/// What to install when no adapter exists at all.
pub const NO_ADAPTER_HELP: &str =
    "no GPU adapter found: install your GPU's Vulkan/Metal/DX12 driver, \
or Mesa's software Vulkan driver (Debian/Ubuntu: apt-get install mesa-vulkan-drivers)";

/// Mesa's software Vulkan driver prints a misleading "error:" line when
/// XDG_RUNTIME_DIR is unset (as on servers and in CI); any existing
/// directory silences it, and nothing is written there. Call before the
/// first adapter is enumerated.
pub fn quiet_driver_environment() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
        }
    });
}

/// Backends the user may restrict the search to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Vulkan,
    Metal,
    Dx12,
    Gl,
}

impl BackendChoice {
    fn backends(self) -> wgpu::Backends {
        match self {
            BackendChoice::Vulkan => wgpu::Backends::VULKAN,
            BackendChoice::Metal => wgpu::Backends::METAL,
            BackendChoice::Dx12 => wgpu::Backends::DX12,
            BackendChoice::Gl => wgpu::Backends::GL,
        }
    }
}

/// One adapter as `list` shows it and as every result row records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdapterDesc {
    pub index: usize,
    pub name: String,
    pub backend: String,
    pub device_type: String,
    /// PCI ids, written as `0x10de` like every id in the outputs.
    #[serde(with = "super::identity::hex_id_serde")]
    pub vendor_id: u32,
    #[serde(with = "super::identity::hex_id_serde")]
    pub device_id: u32,
    pub driver: String,
    pub driver_info: String,
    /// Normalized (`0000:01:00.0`), the same as the rows' `bus_id`; empty
    /// when the adapter has none.
    pub pci_bus_id: String,
    /// The Vulkan device UUID (`VkPhysicalDeviceIDProperties`); empty on
    /// other APIs.
    #[serde(default)]
    pub device_uuid: String,
    pub timestamps: bool,
    pub f16: bool,
    pub subgroups: bool,
    pub int64: bool,
    pub subgroup_min_size: u32,
    pub subgroup_max_size: u32,
    pub max_buffer_size: u64,
    pub max_storage_binding_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    /// Largest device-local memory heap, where the API reports one.
    pub vram_bytes: Option<u64>,
    /// Where `vram_bytes` came from, or why it is unknown.
    pub vram_source: String,
}

impl AdapterDesc {
    fn new(index: usize, adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        // Everything the suites size by is read through the profile, if any.
        let offer = super::profile::Offer::of(adapter);
        let (features, limits) = (offer.features, offer.limits);
        let (vram_bytes, mut vram_source) = match vram(adapter) {
            Some(b) if info.device_type == wgpu::DeviceType::Cpu => (
                Some(b),
                "heap the software driver reports (system memory)".to_string(),
            ),
            Some(b) => (
                Some(b),
                "device-local heap reported by the Vulkan driver".to_string(),
            ),
            None => (
                None,
                format!("unknown: {} does not report it", backend_name(info.backend)),
            ),
        };
        let mut driver_info = info.driver_info;
        let mut vram_bytes = vram_bytes;
        if let Some(p) = super::profile::active().ok().flatten() {
            // Every row and results file says the figures were measured
            // under a profile, not on the adapter as it is.
            driver_info = format!("{driver_info}; profile {}", p.name);
            if let (Some(own), Some(held)) = (vram_bytes, p.vram(vram_bytes)) {
                if held < own {
                    vram_source = format!("{vram_source}, held to profile {}", p.name);
                }
            }
            vram_bytes = p.vram(vram_bytes);
        }
        AdapterDesc {
            index,
            name: info.name,
            backend: backend_name(info.backend).to_string(),
            device_type: device_type_name(info.device_type).to_string(),
            vendor_id: info.vendor,
            device_id: info.device,
            driver: info.driver,
            driver_info,
            pci_bus_id: super::identity::bus_id(&info.device_pci_bus_id),
            device_uuid: super::identity::device_uuid(adapter),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            f16: features.contains(wgpu::Features::SHADER_F16),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            int64: features.contains(wgpu::Features::SHADER_INT64),
            subgroup_min_size: offer.subgroup_sizes.0,
            subgroup_max_size: offer.subgroup_sizes.1,
            max_buffer_size: limits.max_buffer_size,
            max_storage_binding_size: limits.max_storage_buffer_binding_size,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            vram_bytes,
            vram_source,
        }
    }

    /// Software rasterisers (lavapipe, WARP, SwiftShader) are reported as CPU.
    pub fn is_cpu(&self) -> bool {
        self.device_type == "cpu"
    }

    /// Higher is faster in general: discrete > integrated > virtual > other > cpu;
    /// among equals, native APIs before GL.
    fn preference(&self) -> (u8, u8) {
        let kind = match self.device_type.as_str() {
            "discrete" => 4,
            "integrated" => 3,
            "virtual" => 2,
            "other" => 1,
            _ => 0,
        };
        let api = if self.backend == "gl" { 0 } else { 1 };
        (kind, api)
    }
}

/// The largest device-local heap of a Vulkan adapter. A discrete card also
/// has a small device-local, host-visible window (the BAR), hence the max.
#[cfg(any(target_os = "linux", target_os = "windows", target_os = "android"))]
fn vram(adapter: &wgpu::Adapter) -> Option<u64> {
    // SAFETY: the HAL adapter is only read, and not kept past this call.
    let hal = unsafe { adapter.as_hal::<wgpu::hal::api::Vulkan>() }?;
    let instance = hal.shared_instance().raw_instance();
    // SAFETY: the physical device belongs to this live instance.
    let props =
        unsafe { instance.get_physical_device_memory_properties(hal.raw_physical_device()) };
    props.memory_heaps[..props.memory_heap_count as usize]
        .iter()
        .filter(|h| h.flags.contains(ash::vk::MemoryHeapFlags::DEVICE_LOCAL))
        .map(|h| h.size)
        .max()
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "android")))]
fn vram(_adapter: &wgpu::Adapter) -> Option<u64> {
    None
}

pub fn backend_name(b: wgpu::Backend) -> &'static str {
    match b {
        wgpu::Backend::Vulkan => "vulkan",
        wgpu::Backend::Metal => "metal",
        wgpu::Backend::Dx12 => "dx12",
        wgpu::Backend::Gl => "gl",
        wgpu::Backend::BrowserWebGpu => "webgpu",
        _ => "other",
    }
}

fn device_type_name(t: wgpu::DeviceType) -> &'static str {
    match t {
        wgpu::DeviceType::DiscreteGpu => "discrete",
        wgpu::DeviceType::IntegratedGpu => "integrated",
        wgpu::DeviceType::VirtualGpu => "virtual",
        wgpu::DeviceType::Cpu => "cpu",
        wgpu::DeviceType::Other => "other",
    }
}

/// Every adapter wgpu finds, in a stable order, with its index.
pub struct Adapters {
    pub list: Vec<(wgpu::Adapter, AdapterDesc)>,
}

impl Adapters {
    pub fn enumerate(backend: Option<BackendChoice>) -> Adapters {
        quiet_driver_environment();
        // Every API is enumerated and indexed, then filtered: an adapter's
        // index is the same with or without --backend.
        let backends = wgpu::Backends::VULKAN
            | wgpu::Backends::METAL
            | wgpu::Backends::DX12
            | wgpu::Backends::GL;
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        // Validation layers would slow every kernel and are not what users run.
        desc.flags = wgpu::InstanceFlags::empty();
        let instance = wgpu::Instance::new(desc);
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        // Native APIs first, GL last; the sort is stable, so indices keep the
        // driver's order within an API and stay the same between runs.
        adapters.sort_by_key(|a| {
            let info = a.get_info();
            (info.backend == wgpu::Backend::Gl, info.backend as u8)
        });
        let wanted = backend.map(BackendChoice::backends);
        let list = adapters
            .into_iter()
            .enumerate()
            .filter(|(_, a)| wanted.is_none_or(|w| w.contains(a.get_info().backend.into())))
            .map(|(i, a)| {
                let d = AdapterDesc::new(i, &a);
                (a, d)
            })
            .collect();
        Adapters { list }
    }

    pub fn descs(&self) -> Vec<AdapterDesc> {
        self.list.iter().map(|(_, d)| d.clone()).collect()
    }

    /// Resolves `--adapter SEL` / `--all-adapters` to positions in `list`.
    /// `SEL` is an index from `hashflops list`, a PCI bus id, or a
    /// case-insensitive part of the adapter's name.
    pub fn select(&self, sel: Option<&str>, all: bool) -> Result<Vec<usize>> {
        // Before any adapter is chosen: a profile that does not exist is
        // the user's to fix.
        super::profile::active()?;
        if self.list.is_empty() {
            usage_bail!("{NO_ADAPTER_HELP}");
        }
        if all {
            // A card shows up once per API: adapters at the same PCI bus id
            // are one card, measured once on its preferred API. Adapters
            // without a bus id (software ones) cannot be told apart, so
            // each is measured.
            let mut keep: Vec<usize> = Vec::new();
            for p in 0..self.list.len() {
                let d = &self.list[p].1;
                let twin = keep.iter().position(|&k| {
                    let o = &self.list[k].1;
                    !d.pci_bus_id.is_empty() && o.pci_bus_id == d.pci_bus_id
                });
                match twin {
                    Some(t) if d.preference() > self.list[keep[t]].1.preference() => keep[t] = p,
                    Some(_) => {}
                    None => keep.push(p),
                }
            }
            keep.sort_unstable();
            return Ok(keep);
        }
        let Some(sel) = sel else {
            return Ok(vec![self.best()]);
        };
        let available = || {
            self.list
                .iter()
                .map(|(_, d)| {
                    let bus = if d.pci_bus_id.is_empty() {
                        String::new()
                    } else {
                        format!(" at {}", d.pci_bus_id)
                    };
                    format!("{}: {}{bus}", d.index, d.name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Ok(i) = sel.trim().parse::<usize>() {
            if let Some(p) = self.list.iter().position(|(_, d)| d.index == i) {
                return Ok(vec![p]);
            }
            usage_bail!(
                "--adapter {i}: no adapter with index {i}; available: {} (see `hashflops list`)",
                available()
            );
        }
        if let Some(bus) = normalize_bus_id(sel) {
            let hits: Vec<usize> = (0..self.list.len())
                .filter(|&p| normalize_bus_id(&self.list[p].1.pci_bus_id).as_deref() == Some(&bus))
                .collect();
            if let Some(p) = hits
                .iter()
                .copied()
                .max_by_key(|&p| self.list[p].1.preference())
            {
                return Ok(vec![p]);
            }
            usage_bail!(
                "--adapter {sel}: no adapter is at that PCI bus id; available: {} (see `hashflops list`)",
                available()
            );
        }
        let needle = sel.to_lowercase();
        let mut hits: Vec<usize> = (0..self.list.len())
            .filter(|&p| self.list[p].1.name.to_lowercase().contains(&needle))
            .collect();
        if hits.is_empty() {
            usage_bail!(
                "--adapter {sel:?}: no adapter matches (by index, PCI bus id or name); available: {} (see `hashflops list`)",
                available()
            );
        }
        // The same card on several APIs: take the preferred API.
        hits.sort_by_key(|&p| std::cmp::Reverse(self.list[p].1.preference()));
        Ok(vec![hits[0]])
    }

    fn best(&self) -> usize {
        (0..self.list.len())
            .max_by_key(|&p| {
                let d = &self.list[p].1;
                (d.preference(), std::cmp::Reverse(d.index))
            })
            .unwrap_or(0)
    }
}

/// `0000:01:00.0`, `01:00.0` (domain 0 implied), any case -> `0000:01:00.0`;
/// `None` for anything that is not a PCI bus id.
pub fn normalize_bus_id(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_lowercase();
    let full = if t.matches(':').count() == 1 {
        format!("0000:{t}")
    } else {
        t
    };
    let (dom_bus_dev, func) = full.rsplit_once('.')?;
    let parts: Vec<&str> = dom_bus_dev.split(':').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit());
    (parts.len() == 3
        && hex(parts[0], 4)
        && hex(parts[1], 2)
        && hex(parts[2], 2)
        && func.len() == 1
        && func.chars().all(|c| c.is_digit(8)))
    .then_some(full)
}

#[cfg(test)]
mod tests {
    use super::normalize_bus_id;

    #[test]
    fn bus_ids_are_recognised_with_or_without_domain() {
        assert_eq!(
            normalize_bus_id("0000:01:00.0").as_deref(),
            Some("0000:01:00.0")
        );
        assert_eq!(normalize_bus_id("01:00.0").as_deref(), Some("0000:01:00.0"));
        assert_eq!(
            normalize_bus_id(" 0000:0A:1f.7 ").as_deref(),
            Some("0000:0a:1f.7")
        );
        for not_bus in [
            "",
            "1",
            "nvidia",
            "01:00",
            "0000:01:00.8",
            "zz:00.0",
            "1:2:3.4",
        ] {
            assert_eq!(normalize_bus_id(not_bus), None, "{not_bus:?}");
        }
    }
}
