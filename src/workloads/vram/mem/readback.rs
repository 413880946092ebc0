//! What the check shader reported, read back and judged against the
//! canaries each repetition had to find, and the host's own read-back
//! sample of the memory.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rand::Rng;

use super::{pattern, Expect, TestMemory, BLOCK_BYTES, BLOCK_WORDS};
use pattern::{Findings, Mismatch, Slot};

impl TestMemory<'_> {
    /// Reads the report back and compares every slot checked since the last
    /// reset with the canaries planted before it.
    pub fn findings(&self) -> Result<Findings> {
        let expect = self.expect.borrow();
        let used = expect.keys().max().map_or(0, |&s| s as usize + 1);
        let sw = pattern::slot_words(self.recs);
        let words = pattern::HEADER_WORDS + used * sw;
        let raw = self.gpu.read(&self.report, 0, words as u64 * 4)?;
        let raw: &[u32] = bytemuck::cast_slice(&raw);
        let mut f = Findings::default();
        let mut slots: Vec<_> = expect.iter().collect();
        slots.sort_by_key(|(s, _)| **s);
        for (&s, e) in slots {
            let at = pattern::HEADER_WORDS + s as usize * sw;
            let slot = Slot::decode(&raw[at..at + sw]);
            self.judge_slot(&slot, e, &mut f);
            f.runs += 1;
        }
        if f.errors > 0 {
            // Exact when every mismatch was recorded; else among the recorded.
            f.lowest = f.records.iter().map(|m| m.address).min();
            f.highest = f.records.iter().map(|m| m.address).max();
        }
        Ok(f)
    }

    fn judge_slot(&self, slot: &Slot, e: &Expect, f: &mut Findings) {
        let planted: HashMap<(u32, u32), u32> = e
            .canaries
            .iter()
            .map(|c| ((c.chunk, c.word), c.value))
            .collect();
        let mut seen = HashSet::new();
        let mut unexplained = 0u64;
        let mut digest = 0u32;
        for &(chunk, word, got) in &slot.records {
            let is_canary = planted.get(&(chunk, word)) == Some(&got) && seen.insert((chunk, word));
            if is_canary {
                digest = digest.wrapping_add(pattern::digest_term(chunk, word, got));
                continue;
            }
            unexplained += 1;
            let want = e.states.get(chunk as usize).map_or(0, |s| s.word(word));
            for (b, n) in f.bits.iter_mut().enumerate() {
                *n += ((want ^ got) >> b & 1) as u64;
            }
            if f.records.len() < 64 {
                let base = self.chunks.get(chunk as usize).map_or(0, |c| c.base);
                f.records.push(Mismatch {
                    address: base + word as u64 * 4,
                    expected: want,
                    got,
                    run: e.run as u32,
                });
            }
        }
        let found = seen.len() as u64;
        let recorded = slot.records.len() as u64;
        // Mismatches past the records are counted only.
        let beyond = (slot.count as u64).saturating_sub(recorded);
        let missing = planted.len() as u64 - found;
        // Unrecorded mismatches may be the missing canaries.
        f.errors += unexplained + beyond - beyond.min(missing);
        f.canaries += found;
        if missing > 0 {
            let at: Vec<String> = e
                .canaries
                .iter()
                .filter(|c| !seen.contains(&(c.chunk, c.word)))
                .take(2)
                .map(|c| {
                    let base = self.chunks[c.chunk as usize].base;
                    format!("byte {}", base + c.word as u64 * 4)
                })
                .collect();
            if beyond == 0 {
                f.problems.push(format!(
                    "VRAM check: repetition {} did not report {} of the {} planted canaries (e.g. at {}): it did not read what memory holds",
                    e.run,
                    missing,
                    planted.len(),
                    at.join(", ")
                ));
            }
        } else if unexplained == 0 && beyond == 0 {
            let want: u32 = e.canaries.iter().fold(0u32, |s, c| {
                s.wrapping_add(pattern::digest_term(c.chunk, c.word, c.value))
            });
            if slot.digest != want || digest != want {
                f.problems.push(format!(
                    "VRAM check: repetition {}'s digest of its mismatches disagrees with the planted canaries",
                    e.run
                ));
            }
        }
    }

    /// Reads `blocks` blocks per buffer, chosen at random now (after the
    /// report's read-back), back to the host and compares them with the
    /// host's pattern and canaries. Returns (words compared, mismatches).
    pub fn cpu_sample(&self, blocks: u32) -> Result<(u64, Vec<String>)> {
        let mut compared = 0;
        let mut bad = Vec::new();
        let states = self.states.borrow().clone();
        let live: HashMap<(u32, u32), u32> = self
            .live
            .borrow()
            .iter()
            .map(|c| ((c.chunk, c.word), c.value))
            .collect();
        for (c, ch) in self.chunks.iter().enumerate() {
            let n = ch.words as u64 / BLOCK_WORDS;
            let mut picked = HashSet::new();
            while picked.len() < (blocks as u64).min(n) as usize {
                picked.insert(self.rng.borrow_mut().random_range(0..n));
            }
            for b in picked {
                let raw = self.gpu.read(&ch.buf, b * BLOCK_BYTES, BLOCK_BYTES)?;
                for (j, &got) in bytemuck::cast_slice::<u8, u32>(&raw).iter().enumerate() {
                    let w = (b * BLOCK_WORDS) as u32 + j as u32;
                    let want = live
                        .get(&(c as u32, w))
                        .copied()
                        .unwrap_or_else(|| states[c].word(w));
                    compared += 1;
                    if got != want && bad.len() < 8 {
                        bad.push(format!(
                            "CPU cross-check: word at byte {} reads {got:08x}, expected {want:08x}",
                            ch.base + w as u64 * 4
                        ));
                    }
                }
            }
        }
        Ok((compared, bad))
    }
}
