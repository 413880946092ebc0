//! What the kernels and the CPU reference need of the weight formats
//! (llama.cpp's Q4_0, Q8_0 and F16 layouts, defined in the domain): their
//! shader headers, exact dequantization and the CPU side of the weight
//! generator: the same bytes `shaders/llm_init.wgsl`
//! writes, so the reference can dequantize any row without a readback.

pub const Q4_0_WGSL: &str = include_str!("../../../shaders/llm_q4_0.wgsl");
pub const Q8_0_WGSL: &str = include_str!("../../../shaders/llm_q8_0.wgsl");
pub const F16_WGSL: &str = include_str!("../../../shaders/llm_f16.wgsl");

pub use crate::domain::formats::{Format, BLOCK, FORMATS};
use crate::domain::hash::mix32;

impl Format {
    /// The header shader's name (for `--shader-dir`) and built-in source.
    pub fn header(self) -> (&'static str, &'static str) {
        match self {
            Format::Q4_0 => ("llm_q4_0", Q4_0_WGSL),
            Format::Q8_0 => ("llm_q8_0", Q8_0_WGSL),
            Format::F16 => ("llm_f16", F16_WGSL),
        }
    }

    /// Bytes per generated unit, whose first two bytes are a controlled f16.
    fn gen_unit(self) -> u64 {
        match self {
            Format::Q4_0 => 18,
            Format::Q8_0 => 34,
            Format::F16 => 2,
        }
    }

    /// Dequantizes `k` weights from `bytes` (one row), exactly.
    pub fn dequantize(self, bytes: &[u8], k: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(k);
        match self {
            Format::Q4_0 => {
                for blk in bytes.chunks_exact(18).take(k / 32) {
                    let d = f16_at(blk, 0);
                    let qs = &blk[2..18];
                    let lows = qs.iter().map(|q| (q & 15) as f64);
                    let highs = qs.iter().map(|q| (q >> 4) as f64);
                    out.extend(lows.chain(highs).map(|q| (q - 8.0) * d));
                }
            }
            Format::Q8_0 => {
                for blk in bytes.chunks_exact(34).take(k / 32) {
                    let d = f16_at(blk, 0);
                    out.extend(blk[2..34].iter().map(|&q| q as i8 as f64 * d));
                }
            }
            Format::F16 => out.extend((0..k).map(|i| f16_at(bytes, 2 * i))),
        }
        out
    }
}

fn f16_at(b: &[u8], at: usize) -> f64 {
    half::f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f64()
}

/// A controlled f16: random sign and mantissa, exponent 2^-4..2^-1.
fn controlled_f16(key: u32, unit: u32) -> u16 {
    let h = mix32(
        unit.wrapping_mul(0x9e37_79b9)
            .wrapping_add(key ^ 0x5bd1_e995),
    );
    ((h & 0x8000) | ((11 + ((h >> 10) & 3)) << 10) | (h & 0x3ff)) as u16
}

/// Byte `b` of the matrix with hash `key` (as `weight_byte` in llm_init).
pub fn weight_byte(format: Format, key: u32, b: u32) -> u8 {
    let unit = format.gen_unit() as u32;
    let within = b % unit;
    if within < 2 {
        return (controlled_f16(key, b / unit) >> (8 * within)) as u8;
    }
    mix32(b.wrapping_mul(0x9e37_79b9).wrapping_add(key)) as u8
}

/// Row `row` of the matrix with hash `key` and `k` columns, dequantized.
pub fn weight_row(format: Format, key: u32, row: u64, k: u64) -> Vec<f64> {
    let rb = format.row_bytes(k);
    let start = row * rb;
    let bytes: Vec<u8> = (start..start + rb)
        .map(|b| weight_byte(format, key, b as u32))
        .collect();
    format.dequantize(&bytes, k as usize)
}

/// Activation `i` of the vector with hash `key`: uniform in [-1, 1), exact
/// in f32, never all equal.
pub fn activation(key: u32, i: u32) -> f32 {
    let h = mix32(i.wrapping_mul(0x85eb_ca6b).wrapping_add(key));
    (h >> 8) as f32 / (1u32 << 23) as f32 - 1.0
}

/// A matrix's hash key from what identifies it.
pub fn key(parts: &[u32]) -> u32 {
    parts.iter().fold(0x2545_f491, |acc, &p| {
        mix32(acc ^ p.wrapping_mul(0x27d4_eb2f))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_scales_are_finite_and_non_zero() {
        for f in FORMATS {
            for row in 0..4 {
                let w = weight_row(f, key(&[7, row as u32]), row, 256);
                assert_eq!(w.len(), 256);
                assert!(w.iter().all(|v| v.is_finite()));
                assert!(w.iter().any(|v| *v != 0.0));
            }
            for unit in 0..10_000 {
                let h = half::f16::from_bits(controlled_f16(3, unit));
                assert!(h.is_normal(), "{h}");
            }
        }
    }

    #[test]
    fn q4_0_nibbles_follow_llama_cpp_order() {
        // d = 1.0, byte i = (q_{i+16} << 4) | q_i
        let mut blk = vec![0x00, 0x3c];
        blk.extend((0..16u8).map(|i| ((15 - i) << 4) | i));
        let w = Format::Q4_0.dequantize(&blk, 32);
        assert_eq!(w[0], -8.0);
        assert_eq!(w[15], 7.0);
        assert_eq!(w[16], 7.0);
        assert_eq!(w[31], -8.0);
    }
}
