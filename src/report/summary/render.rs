//! The summary for the terminal: measured, derived, flags, neighbours.

use super::cards::render_neighbours;
use super::flags::FMA_CRIPPLE_RATIO;
use super::llm::render_ceilings;
use super::metrics::Val;
use super::AdapterSummary;
use crate::units::si;

impl AdapterSummary {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let m = &self.metrics;
        let v = |x: Option<Val>, unit: &str| match x {
            Some(x) if x.verified => si(x.value, unit),
            Some(x) => format!("{} (UNVERIFIED)", si(x.value, unit)),
            None => "not measured".to_string(),
        };
        out += &format!(
            "\n== Summary: adapter {} {} ({}, {}) ==\nmeasured\n",
            self.adapter_index, self.adapter, self.backend, self.device_type
        );
        let line = |out: &mut String, k: &str, val: String| {
            *out += &format!("  {k:<22} {val}\n");
        };
        line(&mut out, "SHA-256d (mining)", v(m.hash_rate, "H/s"));
        let eff = self
            .matmul_efficiency
            .map(|e| format!(", {:.0}% of this card's f32 FMA peak", 100.0 * e))
            .unwrap_or_default();
        line(
            &mut out,
            "f32 matmul",
            format!("{}{eff}", v(m.sgemm, "FLOP/s")),
        );
        line(&mut out, "f16 matmul", v(m.hgemm, "FLOP/s"));
        line(
            &mut out,
            "f32 peak",
            format!(
                "FMA {}, mul+add {}",
                v(m.fp32_fma, "FLOP/s"),
                v(m.fp32_mul_add, "FLOP/s")
            ),
        );
        if let Some(r) = self.fma_unfused_ratio {
            let verdict = if r < FMA_CRIPPLE_RATIO {
                "CRIPPLED"
            } else {
                "normal"
            };
            line(&mut out, "FMA : unfused", format!("{r:.2} ({verdict})"));
        }
        line(
            &mut out,
            "memory bandwidth",
            format!(
                "triad {}, copy {}",
                v(m.stream_triad, "B/s"),
                v(m.stream_copy, "B/s")
            ),
        );
        line(
            &mut out,
            "host link",
            format!(
                "upload {}, download {}, round trip {}",
                v(m.upload, "B/s"),
                v(m.download, "B/s"),
                v(m.round_trip_s, "s")
            ),
        );
        line(
            &mut out,
            "VRAM",
            match self.vram_bytes {
                Some(b) => format!("{} ({})", si(b as f64, "B"), self.vram_source),
                None => self.vram_source.clone(),
            },
        );
        out += "derived\n";
        if let Some(f) = self.flop_per_hash {
            line(
                &mut out,
                "FLOP per hash",
                format!("{f:.0} (f32 matmul FLOP/s / SHA-256d H/s)"),
            );
        }
        for l in &self.llm_measured {
            out += &format!("  {l}\n");
        }
        if let (false, Some(bw)) = (self.llm.is_empty(), m.bandwidth()) {
            out += &render_ceilings(&self.llm, bw);
        }
        if !self.flags.is_empty() {
            out += "flags\n";
            for f in &self.flags {
                out += &format!("  - {f}\n");
            }
        }
        out += &render_neighbours(&self.neighbours);
        out
    }
}
