//! The transfer suite: data survives every path at several sizes, the suite
//! reports every row verified, a transfer sabotaged inside the timed
//! samples is caught, and the link wording follows the PCIe table.

mod common;

use hashflops::harness::{self, Measured};
use hashflops::workloads::transfer::{self, Fault, LinkClass, Path};
use hashflops::workloads::{Shaders, SizeOptions};

#[test]
fn round_trips_arrive_intact_at_several_sizes() {
    let gpu = common::gpu();
    for bytes in [4u64, 256, 4096 + 12, 1 << 20, (3 << 20) + 4, 16 << 20] {
        let r = transfer::round_trip(&gpu, bytes).expect("round trip");
        assert!(r.ok(), "{bytes} bytes: {r:?}");
    }
}

#[test]
fn sizes_that_are_not_whole_words_are_refused() {
    let gpu = common::gpu();
    assert!(transfer::round_trip(&gpu, 6).is_err());
    assert!(transfer::round_trip(&gpu, 0).is_err());
}

#[test]
fn the_suite_verifies_every_row_and_derives_plateaus() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions::default();
    let ctx = common::ctx(&gpu, &shaders, &sizes);
    let out = transfer::run(&ctx).expect("transfer suite");
    for m in &out.measured {
        assert!(
            m.verified,
            "{} {} not verified: {}",
            m.kernel, m.metric, m.params
        );
        assert!(m.summary.median > 0.0 && m.summary.median.is_finite());
    }
    for k in ["h2d_write_buffer", "h2d_staging", "d2h"] {
        let rows: Vec<_> = out
            .measured
            .iter()
            .filter(|m| m.kernel.to_string() == k)
            .collect();
        let sizes: Vec<String> = rows
            .iter()
            .filter(|m| m.metric.to_string() == "bandwidth")
            .map(|m| m.params.to_string().split(';').next().unwrap().to_string())
            .collect();
        assert_eq!(sizes[0], "bytes=1048576", "{k}: {sizes:?}");
        assert!(sizes.len() >= 2, "{k}: {sizes:?}");
        assert!(rows.iter().all(|m| m.unit == "B/s"));
        let plateau: Vec<_> = rows
            .iter()
            .filter(|m| m.metric.to_string() == "plateau")
            .collect();
        assert_eq!(plateau.len(), 1, "{k}");
        assert!(
            plateau[0].params.to_string().contains("plateau=")
                && plateau[0].params.to_string().contains("checked="),
            "{}",
            plateau[0].params
        );
    }
    let rt = out
        .measured
        .iter()
        .find(|m| m.kernel.to_string() == "round_trip")
        .expect("round_trip row");
    assert_eq!((rt.metric.name(), rt.unit), ("latency", "s"));
    assert!(
        rt.params.to_string().contains("checked=every round trip"),
        "{}",
        rt.params
    );
    // A GPU gets a note only when its link is narrow; a CPU adapter always
    // gets one saying there is no PCIe link.
    assert!(out.notes.len() <= 1, "{:?}", out.notes);
    if gpu.desc.is_cpu() {
        assert!(out.notes[0].contains("host memory"), "{:?}", out.notes);
    }
}

const MIB: u64 = 1 << 20;

/// Measures `path` at 1 MiB through the harness, with `fault` injected
/// into its timed samples.
fn measure_path(path: Path, fault: Option<Fault>) -> Vec<Measured> {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions::default();
    let ctx = common::ctx(&gpu, &shaders, &sizes);
    let src = transfer::random_bytes((MIB + transfer::SLACK) as usize, 99);
    let mut link = transfer::Link::new(&gpu, MIB).expect("link");
    let mut w = transfer::Transfer::new(&mut link, path, MIB, &src).expect("transfer");
    w.fault = fault;
    harness::measure_host(&ctx, w).expect("measuring")
}

fn assert_caught(rows: &[Measured], what: &str) {
    assert!(!rows.is_empty(), "{what}: no rows");
    for m in rows {
        assert!(!m.verified, "{what}: {} passed ({})", m.kernel, m.params);
        assert!(!m.problems.is_empty(), "{what}: no problem named");
    }
}

#[test]
fn every_path_passes_without_a_fault() {
    for path in [Path::WriteBuffer, Path::Staging, Path::Download] {
        let rows = measure_path(path, None);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].verified, "{path:?}: {:?}", rows[0].problems);
        assert!(
            rows[0].params.to_string().contains("samples_checked="),
            "{}",
            rows[0].params
        );
    }
}

#[test]
fn a_download_that_copies_nothing_is_caught() {
    for fault in [Fault::SkipAll, Fault::StaleAfterFirst, Fault::SkipLast] {
        assert_caught(
            &measure_path(Path::Download, Some(fault)),
            &format!("d2h {fault:?}"),
        );
    }
}

#[test]
fn an_upload_that_never_arrives_is_caught() {
    for path in [Path::Staging, Path::WriteBuffer] {
        for fault in [Fault::SkipAll, Fault::StaleAfterFirst, Fault::SkipLast] {
            assert_caught(
                &measure_path(path, Some(fault)),
                &format!("{path:?} {fault:?}"),
            );
        }
    }
}

#[test]
fn a_round_trip_that_copies_nothing_is_caught() {
    let gpu = common::gpu();
    let shaders = Shaders::default();
    let sizes = SizeOptions::default();
    let ctx = common::ctx(&gpu, &shaders, &sizes);
    for fault in [None, Some(Fault::StaleAfterFirst)] {
        let mut w = transfer::RoundTripLatency::new(&gpu).expect("round trip");
        w.fault = fault;
        let rows = harness::measure_host(&ctx, w).expect("measuring");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].verified,
            fault.is_none(),
            "{fault:?}: {:?}",
            rows[0].problems
        );
    }
}

#[test]
fn plateaus_map_to_link_classes() {
    assert_eq!(transfer::link_class(0.2e9), LinkClass::Riser);
    assert_eq!(transfer::link_class(0.8e9), LinkClass::Riser);
    assert_eq!(transfer::link_class(1.99e9), LinkClass::Riser);
    assert_eq!(transfer::link_class(3.2e9), LinkClass::Narrow);
    assert_eq!(transfer::link_class(6.9e9), LinkClass::Narrow);
    assert_eq!(transfer::link_class(7.0e9), LinkClass::Full);
    assert_eq!(transfer::link_class(25e9), LinkClass::Full);
}

#[test]
fn the_pcie_table_gives_the_likely_links() {
    assert_eq!(
        transfer::pcie_bytes_per_s("3.0", 16),
        Some(0.985 * 16.0 * 1e9)
    );
    // PCIe 6.0 is in the table (NVML reports it); 7.0 is not.
    assert_eq!(
        transfer::pcie_bytes_per_s("6.0", 16),
        Some(7.563 * 16.0 * 1e9)
    );
    assert_eq!(transfer::pcie_bytes_per_s("7.0", 16), None);
    // A riser at 0.8 GB/s: PCIe 3.0 x1 or 1.0 x4 (1.0 GB/s), not 2.0 x1 (0.5).
    assert_eq!(
        transfer::likely_links(0.8e9),
        ["PCIe 3.0 x1", "PCIe 1.0 x4"]
    );
    // A healthy 4.0 x16 slot.
    assert!(transfer::likely_links(26e9).contains(&"PCIe 4.0 x16".to_string()));
    // Faster than any table link: nothing is consistent.
    assert!(transfer::likely_links(200e9).is_empty());
}

#[test]
fn low_plateaus_get_plain_words() {
    let riser = transfer::link_note(0.8e9, false, "card").expect("a riser gets a note");
    assert!(
        riser.starts_with("host link 0.8 GB/s: looks like a PCIe x1 riser"),
        "{riser}"
    );
    assert!(riser.contains("at or below PCIe 3.0 x1"), "{riser}");
    assert!(
        riser.contains("Llama-2-7B F16 (a 13.5 GB file) takes about 17 s to load"),
        "{riser}"
    );
    // What training over it costs is the verdict's `link.narrow`, said once.
    assert!(!riser.contains("training"), "{riser}");

    let narrow = transfer::link_note(3.2e9, false, "card").expect("a narrow link gets a note");
    assert!(narrow.contains("narrow link"), "{narrow}");
    assert!(narrow.contains("about 4 s to load"), "{narrow}");

    assert_eq!(transfer::link_note(25e9, false, "card"), None);

    let cpu = transfer::link_note(0.8e9, true, "llvmpipe").expect("a CPU adapter gets a note");
    assert!(cpu.contains("host memory"), "{cpu}");
    assert!(!cpu.contains("riser"), "{cpu}");
}
