//! Compute and the host link: throttled FMA, slow fp64, and what a narrow
//! link costs training across cards.

use super::figure::{source_of, Draft, Figure, Unit};
use super::{Finding, Stance};
use crate::catalogue::{Kernel, Peak};
use crate::domain::models::LLAMA2_7B;
use crate::report::facts::{verified, Facts, HostLink};
use crate::report::network::BYTES_PER_VALUE;
use crate::workloads::transfer::pcie::{link_class, LinkClass, LINK_THRESHOLDS_GB};

/// fp64 slower than this share of fp32 is the consumer cards' rate, too
/// slow for simulation and science.
const FP64_SLOW: f64 = 8.0;

/// `fma.crippled`: FMA throttled, as on NVIDIA's CMP cards.
pub fn fma(facts: &Facts) -> Option<Finding> {
    let j = facts.fma.filter(|j| j.throttled)?;
    let mut d = Draft::new();
    let peak = |k| Kernel::Peak(k);
    let fma = d.put(Figure::measured(
        "fma",
        j.fma,
        Unit::FlopPerS,
        peak(Peak::Fp32Fma),
    ));
    let unfused = d.put(Figure::measured(
        "unfused",
        j.unfused,
        Unit::FlopPerS,
        peak(Peak::Fp32MulAdd),
    ));
    let ratio = d.put(Figure::derived(
        "ratio",
        j.ratio,
        Unit::Ratio,
        format!(
            "{} / {}",
            source_of(peak(Peak::Fp32Fma)),
            source_of(peak(Peak::Fp32MulAdd))
        ),
    ));
    let text = format!(
        "FP32 compute: fused multiply-add runs at {fma} but separate multiply and add at {unfused} (ratio {ratio}): FMA is throttled, so matmul-heavy work (training, prompt processing) is slow"
    );
    Some(d.finish("fma.crippled", Stance::NotFor, text))
}

/// `fp64.slow`: fp64 under 1/8 of the fp32 rate.
pub fn fp64(facts: &Facts) -> Option<Finding> {
    let m = &facts.metrics;
    let (f64r, f32r) = (verified(m.fp64_fma)?, verified(m.fp32_fma)?);
    let ratio = f32r / f64r;
    if ratio <= FP64_SLOW {
        return None;
    }
    let mut d = Draft::new();
    let (k64, k32) = (Kernel::Peak(Peak::Fp64Fma), Kernel::Peak(Peak::Fp32Fma));
    let fp64 = d.put(Figure::measured("fp64", f64r, Unit::FlopPerS, k64));
    let ratio = d.put(Figure::derived(
        "fp32_per_fp64",
        ratio,
        Unit::Ratio,
        format!("{} / {}", source_of(k32), source_of(k64)),
    ));
    let fp32 = d.put(Figure::measured("fp32", f32r, Unit::FlopPerS, k32));
    let text = format!("fp64 work: {fp64} fp64, 1/{ratio} of its fp32 rate ({fp32})");
    Some(d.finish("fp64.slow", Stance::NotFor, text))
}

/// `link.narrow` for a host link below the full class: what training across
/// cards over it costs. A ring all-reduce over many cards moves about twice
/// the fp16 gradients through each card's link. A CPU adapter has no link
/// to the host: its transfers are memory copies.
pub fn link(facts: &Facts) -> Option<Finding> {
    let HostLink {
        kernel,
        bytes_per_s,
    } = facts.host_link.filter(|_| !facts.memory.host)?;
    let class = link_class(bytes_per_s);
    let what = match class {
        LinkClass::Riser => "a PCIe x1 riser or an old generation's link",
        LinkClass::Narrow => "an x4 link or an old generation's x8",
        LinkClass::Full => return None,
    };
    let under = LINK_THRESHOLDS_GB
        .iter()
        .find(|(c, _)| *c == class)
        .map_or(0.0, |(_, gb)| *gb);
    let mut d = Draft::new();
    let link = d.put(Figure::measured(
        "host_link",
        bytes_per_s,
        Unit::BytesPerS,
        Kernel::Transfer(kernel),
    ));
    let under = d.put(Figure::published(
        "class_under",
        under * 1e9,
        Unit::BytesPerS,
        None,
        "PCIe link classes of the transfer suite (README)",
    ));
    let gradients = 2.0 * LLAMA2_7B.params() as f64 * BYTES_PER_VALUE;
    let step = d.put(Figure::derived(
        "all_reduce_step",
        gradients / bytes_per_s,
        Unit::Seconds,
        format!("2 x {}'s fp16 gradients / link", LLAMA2_7B.name),
    ));
    let text = format!(
        "training across cards: the host link moves {link} at best, under {under} ({what}): all-reducing a {}'s fp16 gradients takes about {step} per step",
        LLAMA2_7B.name
    );
    Some(d.finish("link.narrow", Stance::NotFor, text))
}
