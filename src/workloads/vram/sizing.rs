//! How much memory the VRAM test takes, and in which buffers.

use super::mem::BLOCK_BYTES;
use crate::gpu::Gpu;
use crate::workloads::Scale;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// What a VRAM tester leaves to the driver, the display and other
/// programs, as memtest_vulkan does: the test allocates the device-local
/// heap (or what Vulkan's budget says is free of it) less this.
pub const SYSTEM_RESERVE: u64 = 400 * MIB;
/// Slack below the reserve that still counts as full coverage: this
/// program's own buffers and the rounding of the test's buffers to whole
/// blocks.
pub const FULL_ALLOWANCE: u64 = 64 * MIB;

/// The buffers to allocate, and why that much.
#[derive(Clone, Debug)]
pub struct Plan {
    pub target: u64,
    pub chunks: Vec<u64>,
    pub note: String,
    /// Bytes the test must reach for the memory to count as fully tested
    /// ([`full_coverage`]); `None` where the size of the memory is unknown.
    pub full: Option<u64>,
    /// How `full` was reached, in words.
    pub full_rule: String,
}

/// The coverage rule, in one place: the bytes a VRAM test must reach for
/// the adapter's memory to count as fully tested, and the rule in words.
///
/// - A GPU that reports its VRAM: reported − [`SYSTEM_RESERVE`] −
///   [`FULL_ALLOWANCE`]. Memory the Vulkan budget gives to other programs
///   is not tested, so it leaves the coverage short of full.
/// - A CPU adapter: its "VRAM" is host RAM shared with the system, and
///   testing all of it is a RAM test, not a card's; full is the test's own
///   cap for it (`cpu_cap`), in whole blocks.
/// - A backend that does not report the size: no full coverage is known.
pub fn full_coverage(cpu: bool, vram: Option<u64>, cpu_cap: u64) -> (Option<u64>, String) {
    if cpu {
        let full = cpu_cap / BLOCK_BYTES * BLOCK_BYTES;
        return (
            Some(full),
            format!(
                "a CPU adapter's memory is host RAM: full is the test's cap of {} MiB",
                full / MIB
            ),
        );
    }
    match vram {
        Some(v) => (
            Some(v.saturating_sub(SYSTEM_RESERVE + FULL_ALLOWANCE)),
            format!(
                "full is the reported {:.2} GiB less {} MiB left to the system and {} MiB allowance",
                v as f64 / GIB as f64,
                SYSTEM_RESERVE / MIB,
                FULL_ALLOWANCE / MIB
            ),
        ),
        None => (None, "the size of the VRAM is not reported".into()),
    }
}

/// Coverage for this adapter: the device-local heap (or what Vulkan's
/// memory budget says is free of it) minus a margin for the driver, the
/// display and this program's other buffers. A CPU adapter's "VRAM" is the
/// host's RAM, shared with everything else, so it is capped.
pub fn plan(gpu: &Gpu, scale: Scale) -> Plan {
    let desc = &gpu.desc;
    let usable = desc.usable_memory();
    let (target, note) = if desc.is_cpu() {
        let cap = match scale {
            Scale::Quick => 16 * MIB,
            Scale::Default => 64 * MIB,
            Scale::Full => 256 * MIB,
        };
        let cap = usable.map_or(cap, |h| cap.min(h / 4));
        (
            cap,
            format!(
                "CPU adapter: its memory is host RAM shared with the system, so coverage is capped at {} MiB",
                cap / MIB
            ),
        )
    } else {
        match (usable, budget(gpu)) {
            (Some(heap), b) => {
                let margin = SYSTEM_RESERVE;
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
    let (full, full_rule) = full_coverage(desc.is_cpu(), usable, target);
    Plan {
        target,
        chunks: chunks(gpu, target),
        note,
        full,
        full_rule,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_coverage_is_the_reported_vram_less_the_reserve_and_allowance() {
        let (full, rule) = full_coverage(false, Some(24 * GIB), 0);
        assert_eq!(full, Some(24 * GIB - 464 * MIB));
        assert!(rule.contains("400 MiB left to the system"), "{rule}");
        // A heap smaller than the reserve: anything tested is full.
        assert_eq!(full_coverage(false, Some(256 * MIB), 0).0, Some(0));
        assert_eq!(full_coverage(false, None, 0).0, None);
    }

    #[test]
    fn a_cpu_adapter_is_full_at_the_tests_cap() {
        let (full, rule) = full_coverage(true, Some(64 * GIB), 16 * MIB + 5);
        assert_eq!(full, Some(16 * MIB));
        assert!(
            rule.contains("host RAM") && rule.contains("16 MiB"),
            "{rule}"
        );
    }
}
