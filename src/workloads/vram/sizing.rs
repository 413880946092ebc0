//! How much memory the VRAM test takes, and in which buffers.

use super::mem::BLOCK_BYTES;
use crate::gpu::Gpu;
use crate::workloads::Scale;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// The buffers to allocate, and why that much.
#[derive(Clone, Debug)]
pub struct Plan {
    pub target: u64,
    pub chunks: Vec<u64>,
    pub note: String,
}

/// Coverage for this adapter: the device-local heap (or what Vulkan's
/// memory budget says is free of it) minus a margin for the driver, the
/// display and this program's other buffers. A CPU adapter's "VRAM" is the
/// host's RAM, shared with everything else, so it is capped.
pub fn plan(gpu: &Gpu, scale: Scale) -> Plan {
    let desc = &gpu.desc;
    let (target, note) = if desc.is_cpu() {
        let cap = match scale {
            Scale::Quick => 16 * MIB,
            Scale::Default => 64 * MIB,
            Scale::Full => 256 * MIB,
        };
        let cap = desc.vram_bytes.map_or(cap, |h| cap.min(h / 4));
        (
            cap,
            format!(
                "CPU adapter: its memory is host RAM shared with the system, so coverage is capped at {} MiB",
                cap / MIB
            ),
        )
    } else {
        match (desc.vram_bytes, budget(gpu)) {
            (Some(heap), b) => {
                let margin = (256 * MIB).max(heap / 16);
                let (free, whence) = match b {
                    Some((budget, used)) if budget.saturating_sub(used) < heap => (
                        budget.saturating_sub(used),
                        format!(
                            "Vulkan memory budget {:.2} GiB, {:.2} GiB of it in use",
                            budget as f64 / GIB as f64,
                            used as f64 / GIB as f64
                        ),
                    ),
                    _ => (heap, "device-local heap".to_string()),
                };
                let mut t = free.saturating_sub(margin);
                let mut note = format!("{whence} minus a margin of {} MiB", margin / MIB);
                if scale == Scale::Quick && t > GIB {
                    t = GIB;
                    note.push_str("; capped at 1 GiB by --quick");
                }
                (t, note)
            }
            (None, _) => {
                let t = if scale == Scale::Quick {
                    256 * MIB
                } else {
                    GIB
                };
                (
                    t,
                    format!(
                        "the {} backend does not report the heap size, so coverage is capped at {} MiB",
                        desc.backend,
                        t / MIB
                    ),
                )
            }
        }
    };
    Plan {
        target,
        chunks: chunks(gpu, target),
        note,
    }
}

/// Equal buffers within the adapter's limits (at least four, so the
/// retention buffer is a minority) and one for the remainder.
fn chunks(gpu: &Gpu, target: u64) -> Vec<u64> {
    let limit = gpu
        .limits
        .max_buffer_size
        .min(gpu.limits.max_storage_buffer_binding_size)
        .min(GIB)
        .min(target / 4);
    let size = (limit / BLOCK_BYTES * BLOCK_BYTES).max(BLOCK_BYTES);
    let mut out = vec![size; (target / size) as usize];
    let rest = (target - size * out.len() as u64) / BLOCK_BYTES * BLOCK_BYTES;
    if rest > 0 {
        out.push(rest);
    }
    out
}

/// (budget, usage) of the largest device-local heap, from
/// VK_EXT_memory_budget where the device has it enabled.
#[cfg(any(target_os = "linux", target_os = "windows", target_os = "android"))]
fn budget(gpu: &Gpu) -> Option<(u64, u64)> {
    use ash::vk;
    // SAFETY: the HAL device is only read, and not kept past this call.
    let hal = unsafe { gpu.device.as_hal::<wgpu::hal::api::Vulkan>() }?;
    if !hal
        .enabled_device_extensions()
        .contains(&ash::ext::memory_budget::NAME)
        || hal.shared_instance().instance_api_version() < vk::API_VERSION_1_1
    {
        return None;
    }
    let instance = hal.shared_instance().raw_instance();
    let mut b = vk::PhysicalDeviceMemoryBudgetPropertiesEXT::default();
    let mut props = vk::PhysicalDeviceMemoryProperties2::default().push_next(&mut b);
    // SAFETY: core 1.1 query on this live instance's physical device, with
    // a budget struct of an extension the device has enabled.
    unsafe {
        instance.get_physical_device_memory_properties2(hal.raw_physical_device(), &mut props)
    };
    let mp = props.memory_properties;
    let heaps = &mp.memory_heaps[..mp.memory_heap_count as usize];
    let (i, _) = heaps
        .iter()
        .enumerate()
        .filter(|(_, h)| h.flags.contains(vk::MemoryHeapFlags::DEVICE_LOCAL))
        .max_by_key(|(_, h)| h.size)?;
    let (budget, usage) = (b.heap_budget[i], b.heap_usage[i]);
    (budget > 0).then_some((budget, usage))
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "android")))]
fn budget(_gpu: &Gpu) -> Option<(u64, u64)> {
    None
}
