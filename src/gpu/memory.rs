//! How much memory an adapter can hold: the one figure the suites size
//! their buffers by and the verdict, the summary and the fit judge with.

use super::AdapterDesc;

impl AdapterDesc {
    /// Bytes this adapter can allocate: a GPU's device-local heap as its
    /// driver reports it. A CPU (software) adapter allocates from host
    /// memory whatever heap it reports (lavapipe says 2 GiB on any host),
    /// so for it what the host has available now ([`host_available`]), its
    /// reported heap only where that is unknown. None where neither is.
    pub fn usable_memory(&self) -> Option<u64> {
        self.usable_memory_with(self.is_cpu().then(host_available).flatten())
    }

    /// [`AdapterDesc::usable_memory`] with the host's available memory
    /// given (read elsewhere, or a test's); ignored for a GPU.
    pub fn usable_memory_with(&self, host_available: Option<u64>) -> Option<u64> {
        if !self.is_cpu() {
            return self.vram_bytes;
        }
        host_available.or(self.vram_bytes)
    }
}

/// `MemAvailable` of /proc/meminfo in bytes: the memory a CPU adapter can
/// still take from the host. None where there is no such file. Read once
/// per process, so every suite and report states the same figure.
pub fn host_available() -> Option<u64> {
    static READ: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *READ.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        parse_mem_available(&text)
    })
}

fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_in_bytes() {
        let m = "MemTotal:       32000000 kB\nMemAvailable:   23000000 kB\n";
        assert_eq!(parse_mem_available(m), Some(23_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn a_gpu_has_its_heap_and_a_cpu_adapter_what_the_host_gives() {
        use crate::report::summary::fixtures::desc;
        let gpu = desc(Some(8 << 30));
        assert_eq!(gpu.usable_memory_with(Some(1 << 30)), Some(8 << 30));
        // lavapipe's nominal 2 GiB heap on a host with 20 GiB free.
        let cpu = AdapterDesc {
            device_type: "cpu".into(),
            ..desc(Some(2 << 30))
        };
        assert_eq!(cpu.usable_memory_with(Some(20 << 30)), Some(20 << 30));
        assert_eq!(cpu.usable_memory_with(None), Some(2 << 30));
        let unknown = AdapterDesc {
            vram_bytes: None,
            ..cpu
        };
        assert_eq!(unknown.usable_memory_with(None), None);
    }
}
