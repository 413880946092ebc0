//! What the kernels and the CPU reference need of the weight formats
//! (llama.cpp's layouts, defined in the domain): their shader headers,
//! exact dequantization and the CPU side of the weight generator: the same
//! bytes `shaders/llm_init.wgsl` writes, so the reference can dequantize
//! any row without a readback.

pub const Q4_0_WGSL: &str = include_str!("../../../shaders/llm_q4_0.wgsl");
pub const Q8_0_WGSL: &str = include_str!("../../../shaders/llm_q8_0.wgsl");
pub const F16_WGSL: &str = include_str!("../../../shaders/llm_f16.wgsl");
pub const Q4_K_WGSL: &str = include_str!("../../../shaders/llm_q4_k.wgsl");
pub const Q5_K_WGSL: &str = include_str!("../../../shaders/llm_q5_k.wgsl");
pub const Q6_K_WGSL: &str = include_str!("../../../shaders/llm_q6_k.wgsl");
pub const MXFP4_WGSL: &str = include_str!("../../../shaders/llm_mxfp4.wgsl");

pub use crate::domain::formats::{Format, RowError, BLOCK, FORMATS, QK_K};
use crate::domain::hash::mix32;

/// What the generator writes at a byte of a block (`gen_field` in each
/// shader header says the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// A hash of the byte index: quants, 6- and 8-bit sub-block scales.
    Hashed,
    /// Byte `0` or `1` of a controlled f16 (a scale, or an F16 weight).
    F16(u32),
    /// An MXFP4 block's E8M0 scale.
    E8m0,
}

/// llama.cpp's E2M1 values, doubled (ggml-common.h's `kvalues_mxfp4`); an
/// MXFP4 scale byte `e` weighs them 2^(e - 128)
/// (`ggml_e8m0_to_fp32_half` in ggml-impl.h).
pub const KVALUES_MXFP4: [i8; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

impl Format {
    /// The header shader's name (for `--shader-dir`) and built-in source.
    pub fn header(self) -> (&'static str, &'static str) {
        match self {
            Format::Q4_0 => ("llm_q4_0", Q4_0_WGSL),
            Format::Q8_0 => ("llm_q8_0", Q8_0_WGSL),
            Format::F16 => ("llm_f16", F16_WGSL),
            Format::Q4_K => ("llm_q4_k", Q4_K_WGSL),
            Format::Q5_K => ("llm_q5_k", Q5_K_WGSL),
            Format::Q6_K => ("llm_q6_k", Q6_K_WGSL),
            Format::MXFP4 => ("llm_mxfp4", MXFP4_WGSL),
        }
    }

    /// Bytes per generated unit: a block (F16: a weight).
    fn gen_unit(self) -> u32 {
        match self {
            Format::F16 => 2,
            f => f.block_bytes() as u32,
        }
    }

    /// What byte `within` of a generated unit holds: the f16 scales (d,
    /// and dmin of Q4_K/Q5_K; Q6_K's d is the block's last two bytes) and
    /// MXFP4's E8M0 scale are controlled, the rest hashed.
    fn gen_field(self, within: u32) -> Field {
        let f16_at = match self {
            Format::Q4_K | Format::Q5_K if within < 4 => 2 * (within / 2),
            Format::Q6_K if within >= 208 => 208,
            Format::MXFP4 if within == 0 => return Field::E8m0,
            Format::Q4_0 | Format::Q8_0 | Format::F16 if within < 2 => 0,
            _ => return Field::Hashed,
        };
        Field::F16(within - f16_at)
    }

    /// Dequantizes `k` weights from `bytes` (one row), exactly.
    pub fn dequantize(self, bytes: &[u8], k: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(k);
        let blocks = bytes
            .chunks_exact(self.block_bytes() as usize)
            .take(k / self.block_weights() as usize);
        match self {
            Format::Q4_0 => {
                for blk in blocks {
                    let d = f16_at(blk, 0);
                    let qs = &blk[2..18];
                    let lows = qs.iter().map(|q| (q & 15) as f64);
                    let highs = qs.iter().map(|q| (q >> 4) as f64);
                    out.extend(lows.chain(highs).map(|q| (q - 8.0) * d));
                }
            }
            Format::Q8_0 => {
                for blk in blocks {
                    let d = f16_at(blk, 0);
                    out.extend(blk[2..34].iter().map(|&q| q as i8 as f64 * d));
                }
            }
            Format::F16 => out.extend((0..k).map(|i| f16_at(bytes, 2 * i))),
            Format::Q4_K | Format::Q5_K => blocks.for_each(|b| q45_k(self, b, &mut out)),
            Format::Q6_K => blocks.for_each(|b| q6_k(b, &mut out)),
            Format::MXFP4 => {
                for blk in blocks {
                    let d = 2f64.powi(blk[0] as i32 - 128);
                    let qs = &blk[1..17];
                    let lows = qs.iter().map(|q| KVALUES_MXFP4[(q & 15) as usize]);
                    let highs = qs.iter().map(|q| KVALUES_MXFP4[(q >> 4) as usize]);
                    out.extend(lows.chain(highs).map(|q| q as f64 * d));
                }
            }
        }
        out
    }
}

/// Sub-block `j`'s 6-bit scale and min (ggml-quants.c's get_scale_min_k4).
pub fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// One Q4_K or Q5_K super-block (ggml-quants.c's dequantize_row_q4_K and
/// dequantize_row_q5_K): sub-block j is the low (j even) or high nibbles
/// of qs bytes 32(j/2) .. +32, Q5_K adding 16 where bit j of qh[l] is set;
/// weight = d·sc·q − dmin·m.
fn q45_k(f: Format, blk: &[u8], out: &mut Vec<f64>) {
    let (d, dmin) = (f16_at(blk, 0), f16_at(blk, 2));
    let scales = &blk[4..16];
    let (qh, qs) = match f {
        Format::Q5_K => (Some(&blk[16..48]), &blk[48..176]),
        _ => (None, &blk[16..144]),
    };
    for j in 0..8 {
        let (sc, m) = scale_min_k4(j, scales);
        for l in 0..32 {
            let nibble = (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15;
            let high = qh.map_or(0, |h| ((h[l] >> j) & 1) << 4);
            let q = (nibble | high) as f64;
            out.push(d * sc as f64 * q - dmin * m as f64);
        }
    }
}

/// One Q6_K super-block (ggml-quants.c's dequantize_row_q6_K): in half h
/// (128 weights), group g of 32 takes the low (g < 2) or high nibbles of
/// ql bytes 64h + 32(g % 2) + l and bits 2g, 2g+1 of qh[32h + l] as its
/// top two bits; weight = d·scales[8h + 2g + l/16]·(q − 32), d the last
/// two bytes.
fn q6_k(blk: &[u8], out: &mut Vec<f64>) {
    let d = f16_at(blk, 208);
    let (ql, qh, scales) = (&blk[0..128], &blk[128..192], &blk[192..208]);
    for h in 0..2 {
        for g in 0..4 {
            for l in 0..32 {
                let low = (ql[64 * h + 32 * (g % 2) + l] >> (4 * (g / 2))) & 15;
                let top = (qh[32 * h + l] >> (2 * g)) & 3;
                let q = (low | (top << 4)) as f64 - 32.0;
                let sc = scales[8 * h + 2 * g + l / 16] as i8 as f64;
                out.push(d * sc * q);
            }
        }
    }
}

fn f16_at(b: &[u8], at: usize) -> f64 {
    half::f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f64()
}

/// A controlled f16: random sign and mantissa, exponent 2^-4..2^-1.
fn controlled_f16(key: u32, seed: u32) -> u16 {
    let h = mix32(
        seed.wrapping_mul(0x9e37_79b9)
            .wrapping_add(key ^ 0x5bd1_e995),
    );
    ((h & 0x8000) | ((11 + ((h >> 10) & 3)) << 10) | (h & 0x3ff)) as u16
}

/// An E8M0 scale byte: 2^-9 .. 2^-2 (with E2M1 values up to 6, weights
/// the size of the other formats').
fn controlled_e8m0(key: u32, seed: u32) -> u8 {
    119 + (mix32(
        seed.wrapping_mul(0x9e37_79b9)
            .wrapping_add(key ^ 0x68e3_1da4),
    ) & 7) as u8
}

/// Byte `b` of the matrix with hash `key` (as `weight_byte` in llm_init).
pub fn weight_byte(format: Format, key: u32, b: u32) -> u8 {
    match format.gen_field(b % format.gen_unit()) {
        Field::F16(i) => (controlled_f16(key, b - i) >> (8 * i)) as u8,
        Field::E8m0 => controlled_e8m0(key, b),
        Field::Hashed => mix32(b.wrapping_mul(0x9e37_79b9).wrapping_add(key)) as u8,
    }
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
mod tests;
