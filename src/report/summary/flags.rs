//! Plain warnings about a card: throttled FMA, a narrow host link, small
//! VRAM, and its hash rate beside a Bitcoin ASIC's.

use super::llm::load_seconds;
use super::metrics::{best_of, KeyMetrics};
use crate::gpu::AdapterDesc;
use crate::units::si;

/// FMA throughput under this share of unfused multiply+add marks a card
/// whose FP32 FMA is throttled (a CMP 170HX shows 0.06).
pub const FMA_CRIPPLE_RATIO: f64 = 0.5;
/// Host links slower than this make model loading and multi-GPU work slow
/// (PCIe 3.0 x4 is about 3.9 GB/s).
pub const NARROW_LINK_BS: f64 = 3.0e9;
/// Less than this cannot hold a 7B model at fp16 (14 GB) or much context.
pub const SMALL_VRAM_BYTES: u64 = 12_000_000_000;
/// Antminer S19 (2020), for scale: about 95 TH/s at about 3,250 W.
pub const ASIC_S19_HS: f64 = 95e12;

/// The flags for one adapter's key metrics.
pub fn flags(desc: &AdapterDesc, m: &KeyMetrics, fma_unfused_ratio: Option<f64>) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(r) = fma_unfused_ratio {
        if r < FMA_CRIPPLE_RATIO {
            flags.push(format!(
                "FP32 FMA CRIPPLED: fused multiply-add runs at {:.2}x the unfused rate ({} vs {}); NVIDIA's CMP mining cards are throttled this way, and most AI kernels use FMA",
                r,
                si(m.fp32_fma.unwrap().value, "FLOP/s"),
                si(m.fp32_mul_add.unwrap().value, "FLOP/s")
            ));
        }
    }
    // The link is judged by its faster direction: uploads also include the
    // host writing the data, which can be slower than a healthy link.
    if let (Some(link), Some(u)) = (best_of(m.upload, m.download), m.upload) {
        if link.value < NARROW_LINK_BS && desc.device_type != "cpu" {
            flags.push(format!(
                "NARROW HOST LINK: {} at best (PCIe 3.0 x4 is about 3.9 GB/s); a 14 GB model takes {:.0} s to load, and multi-GPU training over this link is impractical",
                si(link.value, "B/s"),
                load_seconds(14e9, u.value)
            ));
        }
    }
    if let Some(v) = desc.vram_bytes {
        if v < SMALL_VRAM_BYTES && desc.device_type != "cpu" {
            flags.push(format!(
                "SMALL VRAM: {} holds a 7B model only quantised (7B fp16 needs 14 GB)",
                si(v as f64, "B")
            ));
        }
    }
    if let Some(h) = m.hash_rate {
        flags.push(format!(
            "for scale: an Antminer S19 (2020) does about 95 TH/s, {:.0}x this card's SHA-256d rate, which is why nobody mines Bitcoin on GPUs",
            ASIC_S19_HS / h.value
        ));
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{desc, row};
    use super::super::AdapterSummary;

    #[test]
    fn crippled_fma_narrow_link_and_small_vram_are_flagged() {
        let rows = vec![
            row("peak", "fp32_fma", "peak_rate", 0.39e12, true),
            row("peak", "fp32_mul_add", "peak_rate", 6.25e12, true),
            row("transfer", "h2d_staging", "plateau", 0.8e9, true),
            row("transfer", "d2h", "plateau", 0.9e9, true),
        ];
        let s = AdapterSummary::new(&desc(Some(8_000_000_000)), &rows);
        assert!((s.fma_unfused_ratio.unwrap() - 0.0624).abs() < 1e-9);
        assert!(s.flags.iter().any(|f| f.contains("FMA CRIPPLED")));
        assert!(s.flags.iter().any(|f| f.contains("SMALL VRAM")));
        // Judged by the faster direction; the load time uses the upload.
        let narrow = s
            .flags
            .iter()
            .find(|f| f.contains("NARROW HOST LINK"))
            .unwrap();
        assert!(
            narrow.contains("900 MB/s") && narrow.contains("takes 18 s"),
            "{narrow}"
        );
        let text = s.render();
        assert!(text.contains("CRIPPLED"));
    }
}
