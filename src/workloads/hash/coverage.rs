//! The hash loop's proof of coverage. Each invocation adds the top word of
//! every hash it computes into its coverage word; the CPU recomputes those
//! sums for a sample of invocations over every dispatch that ran. A nonce
//! skipped, tested twice, or hashed wrongly changes the sum of the
//! invocation that owned it, whether or not it holds a hit.

use rand::seq::index::sample;
use rand::SeedableRng;

use super::NonceRange;
use crate::sha::Prepared;

/// What one dispatch did, as the shader indexes it.
#[derive(Clone, Copy, Debug)]
pub struct Dispatched {
    pub range: NonceRange,
    /// Invocations launched (the whole grid, padding groups included).
    pub invocations: u32,
    /// Loop iterations each invocation runs at most.
    pub iterations: u32,
    /// Nonces per invocation per iteration.
    pub lanes: u32,
}

impl Dispatched {
    /// The nonces invocation `inv` tests, in the shader's order:
    /// j = (iteration * invocations + inv) * lanes + lane, while j < count.
    fn nonces(&self, inv: u32) -> impl Iterator<Item = u32> + '_ {
        let r = self.range;
        (0..self.iterations as u64)
            .flat_map(move |it| {
                (0..self.lanes as u64).map(move |lane| {
                    (it * self.invocations as u64 + inv as u64) * self.lanes as u64 + lane
                })
            })
            .take_while(move |&j| j < r.count as u64)
            .map(move |j| r.first.wrapping_add(j as u32))
    }
}

/// The most significant 32 bits of SHA-256d(header with `nonce`), as the
/// GPU computes them: two compressions from the header's midstate.
pub fn top_word(p: &Prepared, nonce: u32) -> u32 {
    let mut block = [0u8; 64];
    for (i, w) in p.w.iter().enumerate() {
        block[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    block[12..16].copy_from_slice(&nonce.to_le_bytes());
    block[16] = 0x80;
    block[56..64].copy_from_slice(&640u64.to_be_bytes());
    let mut s = p.midstate;
    sha2::compress256(&mut s, &[block.into()]);
    let mut second = [0u8; 64];
    for (i, w) in s.iter().enumerate() {
        second[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    second[32] = 0x80;
    second[56..64].copy_from_slice(&256u64.to_be_bytes());
    let mut h = IV;
    sha2::compress256(&mut h, &[second.into()]);
    h[7].swap_bytes()
}

const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// What the coverage check found.
#[derive(Debug, Default)]
pub struct Coverage {
    pub problems: Vec<String>,
    pub invocations_checked: usize,
    pub invocations: usize,
    pub nonces_rehashed: u64,
}

/// Recomputes the coverage word of a random sample of invocations, at most
/// `budget` hashes in all (and at least 8 invocations where there are
/// that many), and compares it with what the GPU wrote.
pub fn check_coverage(
    preps: &[Prepared],
    dispatched: &[Dispatched],
    cover: &[u32],
    budget: u64,
    seed: u64,
) -> Coverage {
    let mut out = Coverage::default();
    let launched = dispatched.iter().map(|d| d.invocations).max().unwrap_or(0) as usize;
    let n = launched.min(cover.len());
    out.invocations = n;
    if n == 0 {
        return out;
    }
    let per_inv: u64 = dispatched
        .iter()
        .map(|d| d.iterations as u64 * d.lanes as u64)
        .sum::<u64>()
        .max(1);
    let want = ((budget / per_inv) as usize).clamp(8.min(n), n);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut picked: Vec<usize> = sample(&mut rng, n, want).into_vec();
    // The first and last invocations too: they see the range's edges.
    picked.extend([0, n - 1]);
    picked.sort_unstable();
    picked.dedup();
    for inv in picked {
        let mut sum = 0u32;
        for d in dispatched {
            if (inv as u32) >= d.invocations {
                continue;
            }
            let p = &preps[d.range.variant as usize];
            for nonce in d.nonces(inv as u32) {
                sum = sum.wrapping_add(top_word(p, nonce));
                out.nonces_rehashed += 1;
            }
        }
        out.invocations_checked += 1;
        if sum != cover[inv] && out.problems.len() < 4 {
            out.problems.push(format!(
                "coverage: invocation {inv} folded {:08x} but its nonces hash to {sum:08x}: it skipped, repeated or mis-hashed nonces",
                cover[inv]
            ));
        }
    }
    // Words past the launched grid must be untouched.
    if cover[n..].iter().any(|&w| w != 0) {
        out.problems
            .push("coverage: words beyond the launched invocations were written".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sha;

    #[test]
    fn top_word_matches_the_full_double_hash() {
        let header = crate::reference::KNOWN_BLOCKS[0].header();
        let p = sha::prepare(&header);
        for nonce in [0u32, 1, 2083236893, u32::MAX] {
            let full = sha::block_hash(&header, nonce);
            assert_eq!(
                top_word(&p, nonce),
                sha::hash_top_word(&full),
                "nonce {nonce}"
            );
        }
    }

    #[test]
    fn shader_order_visits_every_nonce_once() {
        let d = Dispatched {
            range: NonceRange {
                variant: 0,
                first: 100,
                count: 1000,
            },
            invocations: 64,
            iterations: 16,
            lanes: 1,
        };
        let mut all: Vec<u32> = (0..64)
            .flat_map(|i| d.nonces(i).collect::<Vec<_>>())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (100..1100).collect::<Vec<u32>>());
    }
}
