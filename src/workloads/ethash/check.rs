//! What the search left behind, recomputed on the CPU: each invocation's
//! fold over the mix digest and final hash of every nonce it hashed, and
//! its count of nonces; dataset rows against the light method.

use super::kernel::Range;
use super::reference::{fnv, words, Hashed, Item};

/// The shader's fold of one hash into an invocation's running value.
pub fn fold(acc: u32, h: &Hashed) -> u32 {
    let mut a = acc;
    for w in words(&h.mix) {
        a = fnv(a, w);
    }
    for w in words(&h.final_hash) {
        a = fnv(a, w);
    }
    a
}

/// The nonce indices invocation `inv` of `invocations` hashes in `r`, in
/// the shader's order.
pub fn owned(r: &Range, invocations: u32, inv: u32) -> impl Iterator<Item = u32> + '_ {
    (0..r.iterations as u64)
        .map(move |it| it * invocations as u64 + inv as u64)
        .take_while(move |&j| j < r.count as u64)
        .map(|j| j as u32)
}

/// The (fold, count) invocation `inv` must hold after `ranges`, each
/// nonce hashed by `hash`.
pub fn expected(
    ranges: &[Range],
    invocations: u32,
    inv: u32,
    mut hash: impl FnMut(u64) -> Hashed,
) -> [u32; 2] {
    let mut out = [0u32; 2];
    for r in ranges {
        for j in owned(r, invocations, inv) {
            out[0] = fold(out[0], &hash(r.nonce(j)));
            out[1] += 1;
        }
    }
    out
}

/// Nonces each invocation must have counted, for all of them at once.
pub fn expected_counts(ranges: &[Range], invocations: u32) -> Vec<u32> {
    let mut counts = vec![0u32; invocations as usize];
    for r in ranges {
        let full = r.count / invocations;
        let rest = r.count % invocations;
        for (i, c) in counts.iter_mut().enumerate() {
            *c += full + u32::from((i as u32) < rest);
        }
    }
    counts
}

/// Where two items differ, for a message.
pub fn first_difference(got: &Item, want: &Item) -> Option<usize> {
    got.iter().zip(want).position(|(a, b)| a != b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_owned_nonces() {
        let ranges = [
            Range {
                hi: 0,
                first: 0,
                count: 1000,
                iterations: 4,
            },
            Range {
                hi: 1,
                first: 7,
                count: 130,
                iterations: 3,
            },
        ];
        let counts = expected_counts(&ranges, 256);
        for inv in 0..256 {
            let n: usize = ranges.iter().map(|r| owned(r, 256, inv).count()).sum();
            assert_eq!(counts[inv as usize] as usize, n, "invocation {inv}");
        }
    }
}
