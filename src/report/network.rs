//! The rig's network question in numbers: what splitting a model across its
//! cards costs per token or per training step over the links as measured,
//! beside the same figures for NVLink and InfiniBand (published).
//!
//! Only the bandwidth and latency terms are counted: compute overlaps and
//! framework overheads come on top, so these are lower bounds on time.

use serde::Serialize;

use crate::domain::models::{Model, LLAMA2};
use crate::units::si;

/// Activations and gradients cross the link as fp16.
pub const BYTES_PER_VALUE: f64 = 2.0;

/// A link between cards: bandwidth each way and one-way latency.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Link {
    pub name: &'static str,
    pub bytes_per_s: f64,
    pub latency_s: f64,
    /// Where the figure comes from.
    pub source: &'static str,
}

/// Published interconnects for scale.
pub const NVLINK_H100: Link = Link {
    name: "NVLink (H100 SXM)",
    bytes_per_s: 900e9,
    latency_s: 2e-6,
    source: "NVIDIA H100 datasheet: 900 GB/s per GPU",
};
pub const INFINIBAND_NDR: Link = Link {
    name: "InfiniBand NDR",
    bytes_per_s: 50e9,
    latency_s: 2e-6,
    source: "400 Gb/s per port (50 GB/s)",
};

/// Card to card through host memory, as a rig without P2P moves data: down
/// one card's link, up the next one's. `down`/`up` are the measured rates
/// (concurrent ones where all cards copy at once), `round_trip_s` the
/// measured round trip of a small transfer.
pub fn through_host(down_bps: f64, up_bps: f64, round_trip_s: f64) -> Link {
    // Bytes cross two links one after the other: the rates add as times.
    let rate = 1.0 / (1.0 / down_bps + 1.0 / up_bps);
    Link {
        name: "this rig (card to card through the host)",
        bytes_per_s: rate,
        latency_s: round_trip_s,
        source: "measured",
    }
}

/// Seconds for `bytes` over `link`, one hop.
pub fn hop(bytes: f64, link: &Link) -> f64 {
    link.latency_s + bytes / link.bytes_per_s
}

/// Ring all-reduce of `bytes` over `n` cards: 2(n-1) steps, each moving
/// bytes/n over the slowest link (nccl-tests' bus bandwidth rule).
pub fn ring_allreduce_s(bytes: f64, n: u32, link: &Link) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let steps = 2.0 * (n as f64 - 1.0);
    steps * hop(bytes / n as f64, link)
}

/// Pipeline parallel (layers split across cards): per generated token one
/// activation vector crosses each of the n-1 boundaries.
pub fn pipeline_per_token_s(m: &Model, n: u32, link: &Link) -> f64 {
    let bytes = m.hidden as f64 * BYTES_PER_VALUE;
    (n.saturating_sub(1)) as f64 * hop(bytes, link)
}

/// Tensor parallel: two all-reduces of the activations per layer per token.
pub fn tensor_per_token_s(m: &Model, n: u32, link: &Link) -> f64 {
    let bytes = m.hidden as f64 * BYTES_PER_VALUE;
    2.0 * m.layers as f64 * ring_allreduce_s(bytes, n, link)
}

/// Data-parallel training: one ring all-reduce of every fp16 gradient per step.
pub fn data_parallel_step_s(m: &Model, n: u32, link: &Link) -> f64 {
    ring_allreduce_s(m.params() as f64 * BYTES_PER_VALUE, n, link)
}

/// One line of the network table.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkRow {
    pub model: &'static str,
    pub link: &'static str,
    pub pipeline_s_per_token: f64,
    pub tensor_s_per_token: f64,
    pub data_parallel_s_per_step: f64,
}

/// The three schemes for every model over the rig's link and the two
/// published ones, for `n` cards.
pub fn table(n: u32, rig: &Link) -> Vec<NetworkRow> {
    let mut out = Vec::new();
    for m in LLAMA2.iter() {
        for link in [rig, &NVLINK_H100, &INFINIBAND_NDR] {
            out.push(NetworkRow {
                model: m.name,
                link: link.name,
                pipeline_s_per_token: pipeline_per_token_s(m, n, link),
                tensor_s_per_token: tensor_per_token_s(m, n, link),
                data_parallel_s_per_step: data_parallel_step_s(m, n, link),
            });
        }
    }
    out
}

/// Plain words for a rig: is the link fine for pipeline inference, and for
/// training? Thresholds: link time under 10 % of a 20 tok/s token budget
/// (5 ms) is fine; a training step's all-reduce over 10 s is impractical.
pub fn verdict(n: u32, rig: &Link) -> Vec<String> {
    let m = &LLAMA2[0];
    let pipe = pipeline_per_token_s(m, n, rig);
    let tensor = tensor_per_token_s(m, n, rig);
    let train = data_parallel_step_s(m, n, rig);
    // The table's own format, so that a sentence and its row read alike.
    let secs = |s: f64| si(s, "s");
    let mut out = Vec::new();
    out.push(if pipe < 5e-3 {
        format!(
            "pipeline-parallel inference: fine once loaded ({} of link time per {} token across {n} cards)",
            secs(pipe),
            m.name
        )
    } else {
        format!(
            "pipeline-parallel inference: the link costs {} per {} token across {n} cards",
            secs(pipe),
            m.name
        )
    });
    out.push(format!(
        "tensor-parallel inference: {} of all-reduces per {} token ({})",
        secs(tensor),
        m.name,
        if tensor < 5e-3 { "workable" } else { "slow" }
    ));
    out.push(if train > 10.0 {
        format!(
            "data-parallel training: impractical ({} per step to all-reduce {} fp16 gradients; {} over NVLink)",
            secs(train),
            m.name,
            secs(data_parallel_step_s(m, n, &NVLINK_H100))
        )
    } else {
        format!(
            "data-parallel training: {} per step to all-reduce {} fp16 gradients ({} over NVLink)",
            secs(train),
            m.name,
            secs(data_parallel_step_s(m, n, &NVLINK_H100))
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mining rig: six cards on PCIe 1.0 x1 risers (about 0.2 GB/s each
    /// way as measured on such links) with a 50 µs round trip.
    fn riser() -> Link {
        through_host(0.2e9, 0.2e9, 50e-6)
    }

    #[test]
    fn ring_allreduce_moves_2_n_minus_1_over_n_of_the_bytes() {
        let link = Link {
            name: "t",
            bytes_per_s: 1e9,
            latency_s: 0.0,
            source: "",
        };
        // 4 cards, 1 GB: 2*3/4 GB at 1 GB/s.
        assert!((ring_allreduce_s(1e9, 4, &link) - 1.5).abs() < 1e-12);
        assert_eq!(ring_allreduce_s(1e9, 1, &link), 0.0);
    }

    #[test]
    fn through_host_adds_both_links_as_times() {
        let l = through_host(1e9, 3e9, 1e-5);
        assert!((l.bytes_per_s - 0.75e9).abs() < 1.0);
    }

    #[test]
    fn risers_are_fine_for_pipeline_inference_and_impractical_for_training() {
        let v = verdict(6, &riser());
        assert!(v[0].contains("fine once loaded"), "{v:?}");
        assert!(v[2].contains("impractical"), "{v:?}");
        // 13.5 GB of 7B fp16 gradients, 2*5/6 of it at 0.1 GB/s: over 200 s.
        let step = data_parallel_step_s(&LLAMA2[0], 6, &riser());
        assert!(step > 200.0 && step < 250.0, "{step}");
        // Each sentence quotes its table row's figure as the table prints it.
        let row = &table(6, &riser())[0];
        assert!(v[0].contains(&si(row.pipeline_s_per_token, "s")), "{v:?}");
        assert!(v[1].contains(&si(row.tensor_s_per_token, "s")), "{v:?}");
        assert!(
            v[2].contains(&si(row.data_parallel_s_per_step, "s")),
            "{v:?}"
        );
    }

    #[test]
    fn nvlink_is_far_faster_than_risers_in_the_table() {
        let t = table(6, &riser());
        assert_eq!(t.len(), LLAMA2.len() * 3);
        let rig = &t[0];
        let nv = &t[1];
        assert!(rig.data_parallel_s_per_step > 1000.0 * nv.data_parallel_s_per_step);
        assert!(rig.tensor_s_per_token > rig.pipeline_s_per_token);
    }
}
