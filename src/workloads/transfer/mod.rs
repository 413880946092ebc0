//! Suite `transfer`: host-to-device and device-to-host bandwidth over the
//! host link, and the latency of one tiny round trip.
//!
//! Mining rigs hang GPUs on PCIe x1 risers: harmless for hashing (a few
//! bytes per job), fatal for AI (gigabytes of weights to load, gradients to
//! exchange). Three paths are measured with the wall clock on random,
//! incompressible data at sizes from 1 MiB up:
//!
//! - `h2d_write_buffer`: `Queue::write_buffer` (wgpu stages the copy itself);
//! - `h2d_staging`: a MAP_WRITE buffer written while mapped, then
//!   `copy_buffer_to_buffer` to the device buffer (two such buffers in turn,
//!   so filling one overlaps the other's copy, as a loader would);
//! - `d2h`: `copy_buffer_to_buffer` into a MAP_READ buffer, map it; the host
//!   reads the data in place.
//!
//! Every timed sample is checked ([`timed`]): its last transfer whole,
//! and for downloads the ends of every transfer. The plateau (the largest
//! size) is mapped onto the PCIe table ([`pcie`]) to say in plain words
//! what the link looks like.

pub mod link;
pub mod pcie;
pub mod rig;
pub mod timed;

use anyhow::Result;

use super::{Ctx, Scale, SuiteOutput};
use crate::catalogue::Metric;
use crate::gpu::Gpu;
use crate::harness;

pub use link::{random_bytes, round_trip, Link, RoundTrip, SLACK};
pub use pcie::{
    likely_links, link_class, link_note, pcie_bytes_per_s, LinkClass, EXAMPLE_MODEL,
    LINK_THRESHOLDS_GB, PCIE_LANES, PCIE_MIN_EFFICIENCY,
};
pub use timed::{Fault, Path, RoundTripLatency, Transfer, ROUND_TRIP_BYTES};

const MIB: u64 = 1 << 20;

/// Sizes measured: 1 MiB and powers of 4 up to the scale's maximum, capped
/// by the adapter's largest buffer (less the rotation room).
pub fn sizes(gpu: &Gpu, scale: Scale) -> Vec<u64> {
    let max = match (gpu.desc.is_cpu(), scale) {
        (true, Scale::Quick) => 16 * MIB,
        (true, Scale::Default) => 64 * MIB,
        (true, Scale::Full) => 256 * MIB,
        (false, Scale::Quick) => 64 * MIB,
        (false, Scale::Default) => 256 * MIB,
        (false, Scale::Full) => 1024 * MIB,
    };
    let max = max.min(gpu.limits.max_buffer_size.saturating_sub(SLACK) / 4 * 4);
    let mut out = Vec::new();
    let mut s = MIB;
    while s <= max {
        out.push(s);
        s *= 4;
    }
    if out.last() != Some(&max) && max >= MIB {
        out.push(max);
    }
    if out.is_empty() {
        out.push(max);
    }
    out
}

/// `run --suite transfer`.
pub fn run(ctx: &Ctx) -> Result<SuiteOutput> {
    let gpu = ctx.gpu;
    let sizes = sizes(gpu, ctx.scale);
    let max = *sizes.last().expect("at least one size");
    ctx.status(&format!(
        "transfer: generating {} of random data",
        crate::units::bytes(2.0 * (max + SLACK) as f64)
    ));
    // Uploads by write_buffer get their own data, so what the other paths
    // leave on the device can never pass for it.
    let up = random_bytes((max + SLACK) as usize, 0x7a11);
    let staged = random_bytes((max + SLACK) as usize, 0x7a12);
    let mut link = Link::new(gpu, max)?;

    let mut out = SuiteOutput::default();
    let mut plateaus = Vec::new();
    for path in [Path::WriteBuffer, Path::Staging, Path::Download] {
        let src: &[u8] = if path == Path::WriteBuffer {
            &up
        } else {
            &staged
        };
        for &n in &sizes {
            ctx.status(&format!(
                "transfer: {} {}",
                path.kernel(),
                crate::units::bytes(n as f64)
            ));
            let mut w = Transfer::new(&mut link, path, n, src)?;
            w.plateau = n == max;
            let rows = harness::measure_host(ctx, w)?;
            if let Some(p) = rows.iter().find(|m| m.metric == Metric::Plateau) {
                plateaus.push(p.summary.median);
            }
            out.measured.extend(rows);
        }
    }

    ctx.status("transfer: round-trip latency");
    let rows = harness::measure_host(ctx, RoundTripLatency::new(gpu)?)?;
    out.measured.extend(rows);

    // The link carries at least what its fastest direction achieved; a slow
    // direction alone can be a driver's choice of memory, not the link.
    let link_rate = plateaus.iter().copied().fold(0.0, f64::max);
    anyhow::ensure!(link_rate > 0.0, "no transfer plateau was measured");
    if let Some(note) = link_note(link_rate, gpu.desc.is_cpu(), &gpu.desc.name) {
        out.notes.push(note);
    }
    Ok(out)
}
