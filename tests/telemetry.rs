//! Telemetry readers against fixture trees laid out as NVIDIA, AMD and
//! Intel machines present them in sysfs, including missing files and
//! garbage; and through the real binary on the adapter present.

mod common;
use std::path::PathBuf;
use std::time::Duration;

use hashflops::gpu::AdapterDesc;
use hashflops::telemetry::{self, sysfs, Sampler};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sysfs")
        .join(name)
}

fn adapter(bus: &str, vendor: u32, device: u32) -> AdapterDesc {
    serde_json::from_value(serde_json::json!({
        "index": 0, "name": "fixture", "backend": "vulkan", "device_type": "discrete",
        "vendor_id": vendor, "device_id": device, "driver": "", "driver_info": "",
        "pci_bus_id": bus, "timestamps": true, "f16": true, "subgroups": true,
        "int64": true, "subgroup_min_size": 32, "subgroup_max_size": 32,
        "max_buffer_size": 1u64 << 30, "max_storage_binding_size": 1u64 << 30,
        "max_compute_workgroups_per_dimension": 65535,
        "max_compute_invocations_per_workgroup": 1024,
        "max_compute_workgroup_storage_size": 49152,
        "vram_bytes": null, "vram_source": "fixture"
    }))
    .unwrap()
}

#[test]
fn nvidia_link_from_sysfs_a_riser_as_trained() {
    let root = fixture("nvidia");
    let dir = sysfs::device_dir(&root, "0000:01:00.0", 0x10de, 0x1b81).unwrap();
    let l = sysfs::link(&dir).expect("link files are there");
    assert_eq!(l.current_gts, Some(2.5));
    assert_eq!(l.current_width, Some(1));
    assert_eq!(l.max_gts, Some(8.0));
    assert_eq!(l.max_width, Some(16));
    // NVIDIA's driver has no hwmon: nothing read, nothing made up.
    assert!(sysfs::hwmon_readings(&dir, 0.0).is_empty());
    // Found by vendor:device too, when the adapter gives no bus id.
    assert_eq!(sysfs::device_dir(&root, "", 0x10de, 0x1b81).unwrap(), dir);
}

#[test]
fn amd_hwmon_in_base_units() {
    let dir = sysfs::device_dir(&fixture("amd"), "03:00.0", 0, 0).unwrap();
    let r = sysfs::hwmon_readings(&dir, 1.5);
    let get = |q: &str| {
        r.iter()
            .find(|x| x.quantity.name() == q)
            .map(|x| (x.value, x.unit))
    };
    assert_eq!(get("power"), Some((123.45, "W")));
    assert_eq!(get("temperature"), Some((64.0, "C")));
    assert_eq!(get("core_clock"), Some((1.34e9, "Hz")));
    assert_eq!(get("memory_clock"), Some((2.0e9, "Hz")));
    assert_eq!(get("fan"), Some((1850.0, "RPM")));
    assert_eq!(get("utilization"), Some((97.0, "%")));
    assert_eq!(get("energy"), None, "amdgpu has no energy counter");
    assert!(r.iter().all(|x| x.t_s == 1.5 && x.source == "hwmon"));
}

#[test]
fn intel_energy_counter_and_garbage_power() {
    let dir = sysfs::device_dir(&fixture("intel"), "0000:00:02.0", 0, 0).unwrap();
    let r = sysfs::hwmon_readings(&dir, 0.0);
    let energy = r.iter().find(|x| x.quantity.name() == "energy").unwrap();
    assert_eq!((energy.value, energy.unit), (5000.0, "J"));
    assert!(
        r.iter().all(|x| x.quantity.name() != "power"),
        "garbage is not a reading: {r:?}"
    );
    assert_eq!(sysfs::link(&dir).unwrap().current_gts, Some(16.0));
}

#[test]
fn garbage_and_missing_files_are_absent_never_zero() {
    let root = fixture("garbage");
    let dir = sysfs::device_dir(&root, "0000:05:00.0", 0, 0).unwrap();
    assert!(sysfs::hwmon_readings(&dir, 0.0).is_empty());
    assert!(sysfs::link(&dir).is_none());
    // Two cards with the same vendor:device and no bus id: refused, said why.
    let err = sysfs::device_dir(&root, "", 0x1002, 0x67df).unwrap_err();
    assert!(err.contains("2 PCI devices"), "{err}");
    let err = sysfs::device_dir(&root, "0000:09:00.0", 0x1002, 0x67df).unwrap_err();
    assert!(err.contains("0000:09:00.0"), "{err}");
    assert!(sysfs::device_dir(&fixture("nonexistent"), "", 1, 2).is_err());
}

#[test]
fn sampler_reads_the_amd_fixture_and_says_what_is_unavailable() {
    // The only test in this binary that sets the variable.
    std::env::set_var("HASHFLOPS_SYSFS_ROOT", fixture("amd"));
    let s = Sampler::start(
        &adapter("0000:03:00.0", 0x1002, 0x67df),
        Duration::from_millis(50),
    );
    std::thread::sleep(Duration::from_millis(200));
    let t = s.stop();
    assert!(
        t.readings
            .iter()
            .filter(|r| r.quantity.name() == "power")
            .count()
            >= 2
    );
    assert_eq!(t.link.as_ref().and_then(|l| l.current_width), Some(16));
    let missing: Vec<&str> = t.unavailable.iter().map(|(q, _)| q.name()).collect();
    assert!(
        missing.contains(&"energy") && missing.contains(&"throttle"),
        "{missing:?}"
    );
    assert!(
        !missing.contains(&"power") && !missing.contains(&"link"),
        "{missing:?}"
    );
    // NVML is not asked for an AMD card, and says so.
    assert!(
        t.unavailable.iter().all(|(_, why)| why.contains("NVML")),
        "{:?}",
        t.unavailable
    );
    let summary = telemetry::summarize(&t);
    let power = summary
        .iter()
        .find(|q| q.quantity.name() == "power")
        .unwrap();
    assert_eq!(power.summary.median, 123.45);
    assert_eq!(power.source, "hwmon");
    assert!(summary
        .iter()
        .any(|q| q.quantity.name() == "pcie_link_width" && q.summary.median == 16.0));
}

#[test]
fn on_the_adapter_present_telemetry_is_stated_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("t.json");
    let out = common::hashflops(&[
        "run",
        "--suite",
        "hash",
        "--quick",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    for r in rows.iter().filter(|r| r["suite"] == "telemetry") {
        assert!(r["value"].as_f64().is_some_and(|v| v.is_finite()), "{r}");
    }
    let skipped = doc["skipped"].as_array().unwrap();
    let tele: Vec<_> = skipped
        .iter()
        .filter(|s| s["suite"] == "telemetry")
        .collect();
    let read = rows.iter().filter(|r| r["suite"] == "telemetry").count();
    assert!(
        read + tele.len() >= 8,
        "every quantity is read or stated unavailable"
    );
    for s in tele {
        assert!(
            s["reason"].as_str().unwrap().starts_with("unavailable: "),
            "{s}"
        );
    }
}
