//! The card beside a Bitcoin ASIC, for scale, and the FMA threshold the
//! summary's ratio and the verdict share. Judgments (throttled FMA, a
//! narrow host link, small VRAM) are the verdict's, said there once.

use super::metrics::KeyMetrics;
use super::render::mark;

/// FMA throughput under this share of unfused multiply+add marks a card
/// whose FP32 FMA is throttled (a CMP 170HX shows 0.06).
pub const FMA_CRIPPLE_RATIO: f64 = 0.5;
/// Antminer S19 (2020), for scale: about 95 TH/s at about 3,250 W.
pub const ASIC_S19_HS: f64 = 95e12;

/// The lines that put one adapter's figures in scale.
pub fn for_scale(m: &KeyMetrics) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(h) = m.hash_rate {
        out.push(format!(
            "an Antminer S19 (2020) does about 95 TH/s, {:.0}x this card's SHA-256d rate{}, which is why nobody mines Bitcoin on GPUs",
            ASIC_S19_HS / h.value,
            mark(&[Some(h)])
        ));
    }
    out
}
