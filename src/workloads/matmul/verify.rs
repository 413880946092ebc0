//! C against an f64 CPU reference computed from the very inputs the kernel
//! read (the f16 ones after rounding).
//!
//! Tolerance, per element: |got - ref| <= 4 · u · sqrt(K) · Σ_k |a_ik·b_kj|
//! with u the unit roundoff of the accumulation. Both kernels accumulate
//! in f32 (u = 2^-24): f16 inputs convert to f32 exactly and a product of
//! two is exact in f32, so rounding f16 inputs costs nothing beyond what
//! the reference already sees. The worst-case bound for a K-term sum is
//! K · u · Σ|a·b|; rounding errors of random-signed terms grow like
//! sqrt(K), and the factor 4 leaves room for any summation order. One
//! missing or doubled term of inputs uniform in [-1, 1], or a result off by
//! 1e-3 of itself, is far outside it. NaN never passes.
//!
//! A timed run adds the products of several input windows of A to C, each
//! window `count` times: the reference is Σ count · A_w·B = (Σ count · A_w)·B
//! in f64, and the N additions into C add N · u · Σ|a·b| to the bound.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Unit roundoff of the f32 accumulation both kernels use.
const ACC_UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;
/// Above this many multiply-adds the reference checks a sample instead of
/// every element (about a second of CPU time at most).
const FULL_CHECK_MACS: u64 = 1 << 27;
const SAMPLED_ROWS: usize = 16;
const SAMPLED_COLS: usize = 16;
/// Random single elements checked besides the whole rows and columns, so
/// that a fault confined to one tile or invocation far from the sampled
/// rows and columns still has a fair chance of being hit.
const SAMPLED_ELEMENTS: usize = 4096;

/// Inputs uniform in [-1, 1] from a fixed seed: every element different,
/// so a read of the wrong element changes the sum.
pub fn random_matrix(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..=1.0)).collect()
}

/// How much of C the reference checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every element.
    Full,
    /// 16 whole rows and 16 whole columns (first, last and random ones)
    /// plus 4096 random elements elsewhere.
    Sampled,
    /// Full when cheap, sampled otherwise.
    Auto,
}

/// Outcome of comparing C with the reference.
#[derive(Debug, Default)]
pub struct Verdict {
    pub checked: u64,
    /// Elements of C (M·N): `checked / total` is the share verified.
    pub total: u64,
    pub failed: u64,
    /// The first few failures: index, got, expected, tolerance.
    pub problems: Vec<String>,
    /// Largest |got - ref| / tolerance seen (<= 1 when everything passes).
    pub worst_ratio: f64,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.checked > 0
    }

    /// The share of C's elements compared with the reference.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.checked as f64 / self.total as f64
        }
    }

    fn check(&mut self, n: usize, (i, j): (usize, usize), got: f32, sums: (f64, f64), k: Terms) {
        let (expected, abs_sum) = sums;
        let tol = (4.0 * (k.k as f64).sqrt() + k.adds as f64) * ACC_UNIT_ROUNDOFF * abs_sum;
        let err = (got as f64 - expected).abs();
        self.checked += 1;
        let ratio = if tol > 0.0 { err / tol } else { err };
        // Written so that a NaN fails.
        if err <= tol {
            self.worst_ratio = self.worst_ratio.max(ratio);
            return;
        }
        self.worst_ratio = if ratio.is_nan() {
            f64::INFINITY
        } else {
            ratio.max(self.worst_ratio)
        };
        self.failed += 1;
        if self.problems.len() < 8 {
            self.problems.push(format!(
                "C[{i}][{j}] (index {}): got {got:e}, expected {expected:e} (tolerance {tol:.3e})",
                i * n + j
            ));
        }
    }
}

/// `count` distinct indices below `len`, the first and last among them.
fn pick(count: usize, len: usize, rng: &mut StdRng) -> Vec<usize> {
    if len <= count {
        return (0..len).collect();
    }
    let mut v = vec![0, len - 1];
    while v.len() < count {
        let x = rng.random_range(0..len);
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v.sort_unstable();
    v
}

/// The depth of one element's sums: K products per product, and the
/// additions of products into C.
#[derive(Clone, Copy, Debug)]
struct Terms {
    k: u32,
    adds: u64,
}

/// Compares `c` (M x N) with A·B computed in f64 from the same inputs.
#[allow(clippy::too_many_arguments)]
pub fn verify(
    m: u32,
    n: u32,
    k: u32,
    a: &[f32],
    b: &[f32],
    c: &[f32],
    coverage: Coverage,
    seed: u64,
) -> Verdict {
    verify_sum((m, n, k), &[(1, a)], b, c, coverage, seed)
}

/// Compares `c` (M x N) with Σ count · A_w·B over `windows` = (count, A_w),
/// computed in f64 from the same inputs.
pub fn verify_sum(
    (m, n, k): (u32, u32, u32),
    windows: &[(u64, &[f32])],
    b: &[f32],
    c: &[f32],
    coverage: Coverage,
    seed: u64,
) -> Verdict {
    let mut v = Verdict {
        total: m as u64 * n as u64,
        ..Verdict::default()
    };
    if let Some(problem) = wrong_lengths((m, n, k), windows, b, c) {
        v.failed = 1;
        v.problems.push(problem);
        return v;
    }
    let adds: u64 = windows.iter().map(|w| w.0).sum::<u64>().saturating_sub(1);
    let p = Problem {
        mu: m as usize,
        nu: n as usize,
        ku: k as usize,
        windows,
        b,
        c,
        terms: Terms { k, adds },
    };
    let full = match coverage {
        Coverage::Full => true,
        Coverage::Sampled => false,
        Coverage::Auto => m as u64 * n as u64 * k as u64 <= FULL_CHECK_MACS,
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let rows: Vec<usize> = if full {
        (0..p.mu).collect()
    } else {
        pick(SAMPLED_ROWS, p.mu, &mut rng)
    };
    p.check_rows(&rows, &mut v);
    if full {
        return v;
    }
    // The columns are drawn after the rows and the single elements after
    // both, so that one seed always samples the same elements.
    let cols = pick(SAMPLED_COLS, p.nu, &mut rng);
    p.check_cols(&rows, &cols, &mut v);
    p.check_elements(&rows, &cols, &mut rng, &mut v);
    v
}

/// Why the operands cannot be an M x N x K problem, if they cannot.
fn wrong_lengths(
    (m, n, k): (u32, u32, u32),
    windows: &[(u64, &[f32])],
    b: &[f32],
    c: &[f32],
) -> Option<String> {
    let (mu, nu, ku) = (m as usize, n as usize, k as usize);
    let bad_a = windows.iter().find(|w| w.1.len() != mu * ku);
    if windows.is_empty() || bad_a.is_some() || b.len() != ku * nu || c.len() != mu * nu {
        return Some(format!(
            "wrong lengths: A {:?} B {} C {} for {m}x{n}x{k}",
            windows.iter().map(|w| w.1.len()).collect::<Vec<_>>(),
            b.len(),
            c.len()
        ));
    }
    None
}

/// The operands of one comparison, their lengths already checked.
struct Problem<'a> {
    mu: usize,
    nu: usize,
    ku: usize,
    windows: &'a [(u64, &'a [f32])],
    b: &'a [f32],
    c: &'a [f32],
    terms: Terms,
}

impl Problem<'_> {
    /// Row i of Σ count · A_w, and of Σ count · |A_w| for the bound.
    fn row(&self, i: usize) -> (Vec<f64>, Vec<f64>) {
        let ku = self.ku;
        let mut s = vec![0f64; ku];
        let mut t = vec![0f64; ku];
        for &(count, a) in self.windows {
            for (kk, x) in a[i * ku..(i + 1) * ku].iter().enumerate() {
                s[kk] += count as f64 * *x as f64;
                t[kk] += count as f64 * (*x as f64).abs();
            }
        }
        (s, t)
    }

    /// Whole rows: stream through B once per row.
    fn check_rows(&self, rows: &[usize], v: &mut Verdict) {
        let (nu, b) = (self.nu, self.b);
        let mut sum = vec![0f64; nu];
        let mut abs = vec![0f64; nu];
        for &i in rows {
            sum.iter_mut().for_each(|x| *x = 0.0);
            abs.iter_mut().for_each(|x| *x = 0.0);
            let (srow, trow) = self.row(i);
            for kk in 0..self.ku {
                let (aik, tik) = (srow[kk], trow[kk]);
                let brow = &b[kk * nu..(kk + 1) * nu];
                for j in 0..nu {
                    let bj = brow[j] as f64;
                    sum[j] += aik * bj;
                    abs[j] += tik * bj.abs();
                }
            }
            for j in 0..nu {
                v.check(nu, (i, j), self.c[i * nu + j], (sum[j], abs[j]), self.terms);
            }
        }
    }

    /// Whole columns, less the elements the rows covered; each column of B
    /// gathered once, so the inner loop runs over contiguous memory.
    fn check_cols(&self, rows: &[usize], cols: &[usize], v: &mut Verdict) {
        let (nu, ku, b) = (self.nu, self.ku, self.b);
        let bcols: Vec<Vec<f64>> = cols
            .iter()
            .map(|&j| (0..ku).map(|kk| b[kk * nu + j] as f64).collect())
            .collect();
        for i in (0..self.mu).filter(|i| rows.binary_search(i).is_err()) {
            let (srow, trow) = self.row(i);
            for (&j, bcol) in cols.iter().zip(&bcols) {
                let (mut s, mut t) = (0f64, 0f64);
                for ((x, ax), y) in srow.iter().zip(&trow).zip(bcol) {
                    s += x * y;
                    t += ax * y.abs();
                }
                v.check(nu, (i, j), self.c[i * nu + j], (s, t), self.terms);
            }
        }
    }

    /// Random elements off those rows and columns, each once.
    fn check_elements(&self, rows: &[usize], cols: &[usize], rng: &mut StdRng, v: &mut Verdict) {
        let (mu, nu) = (self.mu, self.nu);
        let off = (mu - rows.len()) as u64 * (nu - cols.len()) as u64;
        let want = (SAMPLED_ELEMENTS as u64).min(off) as usize;
        let mut seen = HashSet::with_capacity(want);
        while seen.len() < want {
            let (i, j) = (rng.random_range(0..mu), rng.random_range(0..nu));
            if rows.binary_search(&i).is_ok()
                || cols.binary_search(&j).is_ok()
                || !seen.insert((i, j))
            {
                continue;
            }
            v.check(nu, (i, j), self.c[i * nu + j], self.dot(i, j), self.terms);
        }
    }

    /// Element (i, j) of the sum and of its bound, alone.
    fn dot(&self, i: usize, j: usize) -> (f64, f64) {
        let (srow, trow) = self.row(i);
        let (mut s, mut t) = (0f64, 0f64);
        for kk in 0..self.ku {
            let bj = self.b[kk * self.nu + j] as f64;
            s += srow[kk] * bj;
            t += trow[kk] * bj.abs();
        }
        (s, t)
    }
}
