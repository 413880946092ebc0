//! The host's copy of the test pattern, and what the shader's report says.

use serde::Serialize;

// The pattern's hash, `mix32` of `shaders/vram.wgsl`.
use crate::domain::hash::mix32;

/// The hash key of buffer `chunk` in a test seeded with `seed`.
pub fn chunk_key(seed: u32, chunk: u32) -> u32 {
    mix32(seed ^ chunk.wrapping_mul(0x9e37_79b9))
}

/// What a buffer's words are after its write passes: `mul * h(word) + add`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub key: u32,
    pub mul: u32,
    pub add: u32,
}

impl State {
    /// The word expected at index `word`.
    pub fn word(self, word: u32) -> u32 {
        mix32(word ^ self.key)
            .wrapping_mul(self.mul)
            .wrapping_add(self.add)
    }

    /// The state after a write pass that adds `mul * h + add`.
    pub fn step(self, mul: u32, add: u32) -> State {
        State {
            key: self.key,
            mul: self.mul.wrapping_add(mul),
            add: self.add.wrapping_add(add),
        }
    }
}

/// The step of write pass `index`: `mul` is twice an odd number, so the
/// state's multiplier stays odd (the pattern stays a bijection) and no pass
/// leaves a word unchanged unless its hash is a multiple of 2^31.
pub fn write_step(salt: u32, index: u64) -> (u32, u32) {
    let i = index as u32 ^ mix32((index >> 32) as u32);
    let m = (mix32(salt ^ i) << 2) | 2;
    let a = mix32(mix32(salt.wrapping_add(0x6a09_e667)) ^ i);
    (m, a)
}

/// The shader's digest term of a mismatching word (wrapping-added).
pub fn digest_term(chunk: u32, word: u32, got: u32) -> u32 {
    mix32(mix32(word ^ chunk.wrapping_mul(0x9e37_79b9)).wrapping_add(got))
}

/// u32 words of the report before the per-repetition slots (reserved).
pub const HEADER_WORDS: usize = 32;

/// Words of one report slot recording `recs` mismatches.
pub fn slot_words(recs: u32) -> usize {
    2 + 3 * recs as usize
}

/// One mismatch the shader recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    /// Byte address within the tested memory.
    pub address: u64,
    pub expected: u32,
    pub got: u32,
    /// Which check repetition saw it.
    pub run: u32,
}

/// What one report slot says: the count, digest and recorded mismatches
/// (chunk, word, got).
pub struct Slot {
    pub count: u32,
    pub digest: u32,
    pub records: Vec<(u32, u32, u32)>,
}

impl Slot {
    pub fn decode(raw: &[u32]) -> Slot {
        let count = raw[0];
        let n = (count as usize).min((raw.len() - 2) / 3);
        Slot {
            count,
            digest: raw[1],
            records: raw[2..2 + 3 * n]
                .chunks_exact(3)
                .map(|r| (r[0], r[1], r[2]))
                .collect(),
        }
    }
}

/// What the checks found, canaries set aside.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Mismatching words that were not canaries.
    pub errors: u64,
    pub lowest: Option<u64>,
    pub highest: Option<u64>,
    /// Flipped bits per bit position, over the recorded mismatches that
    /// were not canaries.
    pub bits: [u64; 32],
    /// The first mismatches that were not canaries.
    pub records: Vec<Mismatch>,
    /// Failures of the check itself (canaries not reported, repetitions
    /// without a report).
    pub problems: Vec<String>,
    /// Canaries planted and reported, over all repetitions compared.
    pub canaries: u64,
    /// Repetitions whose report was compared.
    pub runs: u64,
}

impl Findings {
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
        let s = State {
            key: chunk_key(7, 1),
            mul: 1,
            add: 0,
        };
        let a = s.word(100);
        assert_ne!(a, s.word(101));
        let other = State {
            key: chunk_key(7, 2),
            ..s
        };
        assert_ne!(a, other.word(100));
        let (m, ad) = write_step(3, 0);
        assert_eq!(m % 4, 2);
        let s2 = s.step(m, ad);
        assert_eq!(s2.mul % 2, 1);
        assert_ne!(a, s2.word(100));
        assert_eq!(
            s2.word(100),
            s.word(100)
                .wrapping_add(mix32(100 ^ s.key).wrapping_mul(m))
                .wrapping_add(ad)
        );
        assert_ne!(write_step(3, 1), write_step(3, 0));
        assert_ne!(write_step(3, 1 << 32), write_step(3, 0));
        let words: std::collections::HashSet<u32> = (0..4096).map(|w| s2.word(w)).collect();
        assert_eq!(words.len(), 4096);
    }

    #[test]
    fn a_slot_decodes_its_records() {
        let raw = [2, 5, 1, 4660, 0xff, 0, 7, 0x7f, 0, 0, 0];
        let s = Slot::decode(&raw);
        assert_eq!(s.count, 2);
        assert_eq!(s.records, vec![(1, 4660, 0xff), (0, 7, 0x7f)]);
    }
}
