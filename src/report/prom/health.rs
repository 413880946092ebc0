//! `health --prom`: per card its verdict, the VRAM test, the soak, the
//! link and the power drawn, as `hashflops_health_*` gauges.

use super::{unit_name, Exposition, Identity, Labels};
use crate::gpu::AdapterDesc;
use crate::report::RunMeta;
use crate::telemetry::Telemetry;
use crate::workloads::{soak, vram};

/// What `health` found on one card, for [`render_health`].
pub struct CardHealth {
    pub adapter: AdapterDesc,
    /// The card's verdict is `healthy`.
    pub healthy: bool,
    /// `None`: the VRAM test failed or was interrupted.
    pub memory: Option<vram::Memory>,
    /// `None`: the soak failed or was interrupted.
    pub stability: Option<soak::Stability>,
    pub telemetry: Telemetry,
}

/// The states `hashflops_health_memory_status` always lists (a state set:
/// one series per state, 1 for the card's), so that the series stay the
/// same whatever the outcome.
pub(super) const MEMORY_STATES: [&str; 3] = ["OK", "faulty", "not run"];
/// The same for `hashflops_health_stability_status`.
const STABILITY_STATES: [&str; 5] = [
    "stable",
    "unstable",
    "results differ",
    "not judged",
    "not run",
];

/// The exposition of `health --prom`: per card its verdict, the VRAM test,
/// the soak, the link and the power drawn where they were read, as
/// `hashflops_health_*` gauges with the identity labels of [`render`]. Only
/// those: node_exporter's textfile collector merges every file in its
/// folder and fails on a series two files both hold, so the rows and
/// `hashflops_adapter_info` stay in `run`'s file and a `health` file can
/// sit beside it.
pub fn render_health(meta: &RunMeta, cards: &[CardHealth]) -> String {
    let adapters: Vec<AdapterDesc> = cards.iter().map(|c| c.adapter.clone()).collect();
    let mut x = Exposition::new(meta, &adapters, &[]);
    for c in cards {
        x.card(meta, c);
    }
    x.encode()
}

/// The card's identity labels and `extra`.
fn with(id: &Labels, extra: &[(&str, &str)]) -> Labels {
    let mut l = id.clone();
    l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    l
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl Exposition {
    fn card(&mut self, meta: &RunMeta, c: &CardHealth) {
        let id = self.identity_labels(Identity::of_desc(meta, &c.adapter), c.adapter.index);
        self.set(
            "hashflops_health_healthy",
            "1 when health's verdict on the card is healthy, else 0",
            id.clone(),
            flag(c.healthy),
            false,
        );
        self.card_memory(&id, c.memory.as_ref());
        self.card_stability(&id, c.stability.as_ref());
        self.card_link(&id, &c.telemetry);
        self.card_power(&id, &c.telemetry);
    }

    fn card_memory(&mut self, id: &Labels, memory: Option<&vram::Memory>) {
        let status = memory.map_or("not run", |m| m.status.as_str());
        for state in states(&MEMORY_STATES, status) {
            self.set(
                "hashflops_health_memory_status",
                "the VRAM test's outcome: 1 for the card's status, 0 for the others",
                with(id, &[("status", state)]),
                flag(state == status),
                false,
            );
        }
        let Some(m) = memory else {
            return;
        };
        self.set(
            "hashflops_health_memory_errors",
            "words the VRAM test found with flipped bits",
            id.clone(),
            m.errors as f64,
            false,
        );
        self.set(
            "hashflops_health_memory_tested_bytes",
            "bytes of VRAM the test covered",
            id.clone(),
            m.bytes_tested as f64,
            false,
        );
        if let Some(share) = m.coverage_share {
            self.set(
                "hashflops_health_memory_coverage_ratio",
                "the share of the reported VRAM the test covered",
                id.clone(),
                share,
                false,
            );
        }
    }

    fn card_stability(&mut self, id: &Labels, stability: Option<&soak::Stability>) {
        let status = stability.map_or("not run", |s| s.status.as_str());
        for state in states(&STABILITY_STATES, status) {
            self.set(
                "hashflops_health_stability_status",
                "the soak's outcome: 1 for the card's status, 0 for the others",
                with(id, &[("status", state)]),
                flag(state == status),
                false,
            );
        }
        let Some(s) = stability else {
            return;
        };
        self.set(
            "hashflops_health_soak_seconds",
            "how long the soak ran",
            id.clone(),
            s.seconds,
            false,
        );
        // Rates of a soak whose results differed are no verified figures.
        if !s.results_differ {
            self.card_soak_rates(id, s);
        }
    }

    fn card_soak_rates(&mut self, id: &Labels, s: &soak::Stability) {
        if let Some(r) = s.worst_over_best {
            self.set(
                "hashflops_health_soak_worst_over_best_ratio",
                "the soak's worst interval over its best, the lowest of its loads",
                id.clone(),
                r,
                false,
            );
        }
        if let Some(d) = s.worst_drop_pct {
            self.set(
                "hashflops_health_soak_drop_percent",
                "the drop from the soak's first window to its last, the largest of its loads",
                id.clone(),
                d,
                false,
            );
        }
        for series in &s.series {
            let name = format!("hashflops_health_soak_rate_{}", unit_name(&series.unit));
            let help = format!(
                "a soak load's mean rate in {} over its first and last window",
                series.unit
            );
            for (window, v) in [("first", series.first_window), ("last", series.last_window)] {
                self.set(
                    &name,
                    &help,
                    with(
                        id,
                        &[("kernel", &series.kernel.to_string()), ("window", window)],
                    ),
                    v,
                    false,
                );
            }
        }
    }

    fn card_link(&mut self, id: &Labels, t: &Telemetry) {
        let Some(link) = &t.link else {
            return;
        };
        for (state, gts, width) in [
            ("current", link.current_gts, link.current_width),
            ("max", link.max_gts, link.max_width),
        ] {
            if let Some(g) = gts {
                self.set(
                    "hashflops_health_link_speed_transfers_per_second",
                    "the PCIe link's rate per lane: as trained (current) and what card and slot are capable of (max)",
                    with(id, &[("state", state)]),
                    g * 1e9,
                    false,
                );
            }
            if let Some(w) = width {
                self.set(
                    "hashflops_health_link_width_lanes",
                    "the PCIe link's lanes: as trained (current) and what card and slot are capable of (max)",
                    with(id, &[("state", state)]),
                    w as f64,
                    false,
                );
            }
        }
    }

    fn card_power(&mut self, id: &Labels, t: &Telemetry) {
        let Some(crate::telemetry::PowerDraw { mean, peak, .. }) =
            crate::telemetry::power_draw(t, f64::MIN, f64::MAX)
        else {
            return;
        };
        self.set(
            "hashflops_health_power_mean_watts",
            "the card's mean power draw over the health run",
            id.clone(),
            mean,
            false,
        );
        self.set(
            "hashflops_health_power_peak_watts",
            "the card's highest power reading over the health run",
            id.clone(),
            peak,
            false,
        );
    }
}

/// `known`, and `actual` after them if it is none of them.
fn states<'a>(known: &[&'a str], actual: &'a str) -> Vec<&'a str> {
    let mut out = known.to_vec();
    if !out.contains(&actual) {
        out.push(actual);
    }
    out
}
