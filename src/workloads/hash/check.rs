//! Checks of what the hash loop reported: every candidate re-hashed on the
//! CPU, a sample of non-hits, and known answers before measuring.

use std::collections::HashSet;

use anyhow::Result;
use rand::{Rng, SeedableRng};

use super::{HashKernel, Hits, NonceRange};
use crate::reference::KNOWN_BLOCKS;
use crate::sha::{self, Header, Target};

/// Outcome of checking GPU candidates against the CPU reference.
#[derive(Debug, Default)]
pub struct Check {
    pub problems: Vec<String>,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
    fn fail(&mut self, msg: String) {
        if self.problems.len() < 8 {
            self.problems.push(msg);
        }
    }
}

/// Re-hashes every candidate on the CPU: each must be inside a searched
/// range, reported once, and pass the top-word filter for real.
pub fn check_candidates(
    headers: &[Header],
    ranges: &[NonceRange],
    hits: &Hits,
    target_top: u32,
    check: &mut Check,
) {
    if hits.overflowed() {
        check.fail(format!(
            "the GPU found {} candidates but the hit buffer holds {}",
            hits.counted,
            hits.items.len()
        ));
    }
    let mut seen = HashSet::new();
    for &(variant, nonce) in &hits.items {
        let inside = ranges.iter().any(|r| {
            r.variant == variant
                && nonce >= r.first
                && (nonce as u64) < r.first as u64 + r.count as u64
        });
        if !inside {
            check.fail(format!(
                "GPU reported nonce {nonce} (variant {variant}) outside every searched range"
            ));
            continue;
        }
        if !seen.insert((variant, nonce)) {
            check.fail(format!(
                "GPU reported nonce {nonce} (variant {variant}) twice"
            ));
            continue;
        }
        let hash = sha::block_hash(&headers[variant as usize], nonce);
        let top = sha::hash_top_word(&hash);
        if top > target_top {
            check.fail(format!(
                "GPU reported nonce {nonce} but its hash {} does not pass the filter (top word {top:08x} > {target_top:08x})",
                sha::display_hex(&hash)
            ));
        }
    }
}

/// Proves a random sample of unreported nonces are really non-hits.
pub fn check_non_hits(
    headers: &[Header],
    ranges: &[NonceRange],
    hits: &Hits,
    target_top: u32,
    samples: usize,
    check: &mut Check,
) {
    let reported: HashSet<(u32, u32)> = hits.items.iter().copied().collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for _ in 0..samples {
        let r = ranges[rng.random_range(0..ranges.len())];
        let nonce = r.first + rng.random_range(0..r.count);
        if reported.contains(&(r.variant, nonce)) {
            continue;
        }
        let hash = sha::block_hash(&headers[r.variant as usize], nonce);
        if sha::hash_top_word(&hash) <= target_top {
            check.fail(format!(
                "GPU missed nonce {nonce} (variant {}): its hash {} passes the filter",
                r.variant,
                sha::display_hex(&hash)
            ));
        }
    }
}

/// Known answers before any measurement: the three reference blocks are
/// found with their published hashes, and a dense range with a lenient
/// target gives exactly the CPU's set of hits.
pub fn self_test(kernel: &HashKernel) -> Check {
    let mut check = Check::default();
    if let Err(e) = self_test_inner(kernel, &mut check) {
        check.fail(format!("self-test did not run: {e:#}"));
    }
    check
}

fn self_test_inner(kernel: &HashKernel, check: &mut Check) -> Result<()> {
    for b in &KNOWN_BLOCKS {
        let header = b.header();
        let target = Target::from_bits(sha::header_bits(&header)).map_err(anyhow::Error::msg)?;
        let nonce = b.nonce();
        let first = nonce.saturating_sub(1 << 17);
        let range = NonceRange {
            variant: 0,
            first,
            count: (1u32 << 18).min(u32::MAX - first),
        };
        let hits = kernel.search(&[sha::prepare(&header)], &[range], target.top_word())?;
        check_candidates(&[header], &[range], &hits, target.top_word(), check);
        let found = hits.items.iter().any(|&(_, n)| {
            n == nonce && sha::display_hex(&sha::block_hash(&header, n)) == b.hash_hex
        });
        if !found {
            check.fail(format!(
                "known answer: block {} nonce {nonce} was not found by the GPU",
                b.height
            ));
        }
    }
    // Dense range: 1 in 256 hashes passes, so hundreds of hits to compare.
    let header = KNOWN_BLOCKS[1].header();
    let share = Target::from_share_bits(8).map_err(anyhow::Error::msg)?;
    let range = NonceRange {
        variant: 0,
        first: 1_000_000,
        count: 1 << 16,
    };
    let hits = kernel.search(&[sha::prepare(&header)], &[range], share.top_word())?;
    let gpu: HashSet<u32> = hits.items.iter().map(|&(_, n)| n).collect();
    let cpu: HashSet<u32> = (range.first..range.first + range.count)
        .filter(|&n| sha::hash_top_word(&sha::block_hash(&header, n)) <= share.top_word())
        .collect();
    if gpu != cpu || hits.overflowed() {
        let missing = cpu.difference(&gpu).count();
        let extra = gpu.difference(&cpu).count();
        check.fail(format!(
            "dense range: GPU and CPU disagree ({} CPU hits, {missing} missed by the GPU, {extra} extra)",
            cpu.len()
        ));
    }
    Ok(())
}
