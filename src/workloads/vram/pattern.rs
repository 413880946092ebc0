//! The host's copy of the test pattern, and what the shader's report says.

use serde::Serialize;

/// A bijection on u32 (lowbias32), as in `shaders/vram.wgsl`.
pub fn mix32(x: u32) -> u32 {
    let mut h = x;
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// The word expected at `word` of buffer `chunk` under `seed`.
pub fn pattern(chunk: u32, word: u32, seed: u32) -> u32 {
    let key = mix32(seed ^ chunk.wrapping_mul(0x9e37_79b9));
    mix32(word ^ key)
}

/// Wrapping sum of a whole buffer's pattern: what one check run must read.
pub fn pattern_sum(chunk: u32, words: u32, seed: u32) -> u32 {
    let key = mix32(seed ^ chunk.wrapping_mul(0x9e37_79b9));
    (0..words).fold(0u32, |s, w| s.wrapping_add(mix32(w ^ key)))
}

/// Mismatches the shader records in full; the rest are only counted.
pub const RECORDS: usize = 64;
/// u32 words of the report buffer: errors, sum, low16, high16, 32 bit
/// counters, then RECORDS records of 5 words.
pub const REPORT_WORDS: usize = 4 + 32 + RECORDS * 5;

/// The report buffer as the check leaves it before any run.
pub fn fresh_report() -> Vec<u32> {
    let mut r = vec![0u32; REPORT_WORDS];
    r[2] = u32::MAX;
    r
}

/// One mismatch the shader recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    /// Byte address within the tested memory.
    pub address: u64,
    pub expected: u32,
    pub got: u32,
    /// Which check run saw it.
    pub run: u32,
}

/// What the check shader found.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    pub errors: u64,
    pub sum: u32,
    pub lowest: Option<u64>,
    pub highest: Option<u64>,
    /// Flipped bits per bit position.
    pub bits: [u64; 32],
    pub records: Vec<Mismatch>,
}

impl Findings {
    /// Decodes the report; `chunk_base` gives each buffer's byte offset.
    pub fn decode(raw: &[u32], chunk_base: &[u64]) -> Findings {
        let errors = raw[0] as u64;
        let mut bits = [0u64; 32];
        for (b, v) in bits.iter_mut().zip(&raw[4..36]) {
            *b = *v as u64;
        }
        let n = (errors as usize).min(RECORDS);
        let records: Vec<Mismatch> = raw[36..36 + n * 5]
            .chunks_exact(5)
            .map(|r| Mismatch {
                address: chunk_base.get(r[0] as usize).copied().unwrap_or(0) + r[1] as u64 * 4,
                expected: r[2],
                got: r[3],
                run: r[4],
            })
            .collect();
        // Exact addresses when every mismatch was recorded; otherwise the
        // shader's 16-byte-granular minimum and maximum.
        let (lowest, highest) = if errors == 0 {
            (None, None)
        } else if errors as usize <= RECORDS {
            (
                records.iter().map(|m| m.address).min(),
                records.iter().map(|m| m.address).max(),
            )
        } else {
            (Some(raw[2] as u64 * 16), Some(raw[3] as u64 * 16 + 15))
        };
        Findings {
            errors,
            sum: raw[1],
            lowest,
            highest,
            bits,
            records,
        }
    }

    /// `bit:count` for every bit that flipped, e.g. `7:1 12:3`.
    pub fn histogram(&self) -> String {
        let parts: Vec<String> = self
            .bits
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(b, n)| format!("{b}:{n}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_differs_per_address_and_pass() {
        let a = pattern(1, 100, 7);
        assert_ne!(a, pattern(1, 101, 7));
        assert_ne!(a, pattern(2, 100, 7));
        assert_ne!(a, pattern(1, 100, 8));
        let words: std::collections::HashSet<u32> = (0..4096).map(|w| pattern(0, w, 3)).collect();
        assert_eq!(words.len(), 4096);
        let sum = (0..1000).fold(0u32, |s, w| s.wrapping_add(pattern(3, w, 9)));
        assert_eq!(sum, pattern_sum(3, 1000, 9));
    }

    #[test]
    fn a_report_decodes_to_addresses_and_bits() {
        let mut raw = fresh_report();
        raw[0] = 1;
        raw[2] = 10;
        raw[3] = 10;
        raw[4 + 7] = 1;
        raw[36..41].copy_from_slice(&[1, 4660, 0xff, 0x7f, 1]);
        let f = Findings::decode(&raw, &[0, 1 << 20]);
        assert_eq!(f.errors, 1);
        assert_eq!(f.lowest, Some((1 << 20) + 4660 * 4));
        assert_eq!(f.histogram(), "7:1");
    }
}
