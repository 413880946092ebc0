//! The transfer suite: data survives every path at several sizes, the suite
//! reports every row verified, and the link wording follows the PCIe table.

mod common;

use hashflops::workloads::transfer::{self, LinkClass};
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
        let rows: Vec<_> = out.measured.iter().filter(|m| m.kernel == k).collect();
        let sizes: Vec<&str> = rows
            .iter()
            .filter(|m| m.metric == "bandwidth")
            .map(|m| m.params.split(';').next().unwrap())
            .collect();
        assert_eq!(sizes[0], "bytes=1048576", "{k}: {sizes:?}");
        assert!(sizes.len() >= 2, "{k}: {sizes:?}");
        assert!(rows.iter().all(|m| m.unit == "B/s"));
        let plateau: Vec<_> = rows.iter().filter(|m| m.metric == "plateau").collect();
        assert_eq!(plateau.len(), 1, "{k}");
        assert!(
            plateau[0].params.contains("derived="),
            "{}",
            plateau[0].params
        );
    }
    let rt = out
        .measured
        .iter()
        .find(|m| m.kernel == "round_trip")
        .expect("round_trip row");
    assert_eq!((rt.metric, rt.unit), ("latency", "s"));
    // A GPU gets a note only when its link is narrow; a CPU adapter always
    // gets one saying there is no PCIe link.
    assert!(out.notes.len() <= 1, "{:?}", out.notes);
    if gpu.desc.is_cpu() {
        assert!(out.notes[0].contains("host memory"), "{:?}", out.notes);
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
    assert_eq!(transfer::pcie_bytes_per_s("6.0", 16), None);
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
        riser.contains("a 14 GB model takes about 18 s to load"),
        "{riser}"
    );
    assert!(
        riser.contains("multi-GPU training over this link is impractical"),
        "{riser}"
    );

    let narrow = transfer::link_note(3.2e9, false, "card").expect("a narrow link gets a note");
    assert!(narrow.contains("narrow link"), "{narrow}");
    assert!(narrow.contains("about 4 s to load"), "{narrow}");

    assert_eq!(transfer::link_note(25e9, false, "card"), None);

    let cpu = transfer::link_note(0.8e9, true, "llvmpipe").expect("a CPU adapter gets a note");
    assert!(cpu.contains("host memory"), "{cpu}");
    assert!(!cpu.contains("riser"), "{cpu}");
}
