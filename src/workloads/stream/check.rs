//! Per-element data and its CPU replay: what every element of a, b and c
//! must hold after the kernels that ran, and the comparison of the arrays
//! (and the dot product's sums) the timed samples left on the device.
//!
//! BabelStream starts every element of an array at the same value, so a
//! kernel reading element 0 instead of element i would pass. Here element
//! i of each array starts at a value derived from a hash of (array, i):
//! a in ±[1, 2), b in ±[2, 4), c in ±[4, 8).
//!
//! Repetitions alternate between even and odd ones (`REP_PARAMS`): an odd
//! one swaps the kernel's source and destination, so each reads what the
//! one before it wrote. The replay follows the arrays as they physically
//! are (index 0, 1, 2 for the buffers first bound as a, b, c):
//!   copy   even: c = rot(a)              odd: a = rot(c)
//!   mul    even: b = 0.4 c               odd: c = 2.5 b
//!   add    even: c = a + b               odd: a = c + b
//!   triad  even: a = b + 2.5 c           odd: c = b + 0.4 a
//!   dot    partial[g] += the group's share of a . b, every repetition
//! A repetition skipped, or one that returns because its output is already
//! there, leaves the wrong array newest, a rotation short, or a sum one
//! term short.

use anyhow::{Context, Result};
use rand::Rng;

use super::kernels::{dot_tolerance, StreamKernels};
use super::{Kernel, REP_PARAMS};
use crate::harness::Check;

/// Largest relative error allowed in one array element against the closer
/// of the unfused and the fused replay (a triad compiled to fused
/// multiply-adds rounds differently); a scalar off by 1e-3 or a wrong
/// element is far outside (BabelStream allows the same 100 epsilon).
pub const ARRAY_TOLERANCE: f64 = f32::EPSILON as f64 * 100.0;

/// Elements read back per array at a time, so host memory stays bounded
/// whatever the array size.
const CHUNK: u64 = 4 << 20;

/// Replayed repetition-steps the element check may spend; past it, a random
/// sample of elements (chosen after read-back) is replayed instead of all.
const REPLAY_BUDGET: u64 = 100_000_000;
/// Elements checked at least, when the array has that many.
const MIN_SAMPLE: u64 = 1 << 16;
/// Elements at each end of the arrays checked in every sample.
const EDGE: u64 = 1024;
/// Dot partial sums whose accumulation is replayed term by term, at most.
const DOT_GROUPS_REPLAYED: usize = 256;

/// Array names in binding order.
const NAMES: [&str; 3] = ["a", "b", "c"];

/// Murmur3's 32-bit finaliser over the index and the array: neighbouring
/// indices get unrelated bits. Not the domain's `mix32`: the stream arrays
/// are written from the host, no shader regenerates them, and the index
/// is 64 bits; switching hashes would change every array's contents and
/// gain nothing.
fn mix(i: u64, array: u32) -> u32 {
    let mut h = (i as u32)
        ^ ((i >> 32) as u32).wrapping_mul(0x9e37_79b9)
        ^ array.wrapping_mul(0x85eb_ca6b).rotate_left(7);
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Initial value of element `i` of array `which` (0 a, 1 b, 2 c): a random
/// sign and mantissa, magnitude in [2^which, 2^(which + 1)).
pub fn initial(which: usize, i: u64) -> f32 {
    let h = mix(i, which as u32);
    let exponent = 127 + which as u32;
    f32::from_bits((h & 0x8000_0000) | (exponent << 23) | (h & 0x007f_ffff))
}

/// One element's three buffers after repetition `rep` of an element-wise
/// `kernel`, in the GPU's f32 arithmetic (`fused`: triad as one rounding).
/// Copy moves elements between positions and is replayed by [`Replay`].
pub fn apply(e: [f32; 3], kernel: Kernel, rep: u64, fused: bool) -> [f32; 3] {
    let p = REP_PARAMS[(rep % 2) as usize];
    let odd = rep % 2 == 1;
    let [x, y, z] = e;
    let triad = |b: f32, s: f32, c: f32| if fused { s.mul_add(c, b) } else { b + s * c };
    match (kernel, odd) {
        (Kernel::Mul, false) => [x, p.mul_scalar * z, z],
        (Kernel::Mul, true) => [x, y, p.mul_scalar * y],
        (Kernel::Add, false) => [x, y, x + y],
        (Kernel::Add, true) => [z + y, y, z],
        (Kernel::Triad, false) => [triad(y, p.triad_scalar, z), y, z],
        (Kernel::Triad, true) => [x, y, triad(y, p.triad_scalar, x)],
        (Kernel::Copy | Kernel::Dot, _) => e,
    }
}

/// The kernel applications recorded so far, in order, over arrays of
/// `elements` f32 values (padded with zeros to whole vec4s).
#[derive(Clone, Debug)]
pub struct Replay {
    elements: u64,
    steps: Vec<(Kernel, u64)>,
}

impl Replay {
    pub fn new(elements: u64) -> Replay {
        Replay {
            elements,
            steps: Vec::new(),
        }
    }

    pub fn record(&mut self, kernel: Kernel, times: u64) {
        self.steps.push((kernel, times));
    }

    /// Repetition-steps one element's replay takes.
    pub fn cost(&self) -> u64 {
        1 + self.steps.iter().map(|s| s.1).sum::<u64>()
    }

    /// Applications of `kernel` recorded in all.
    pub fn applications(&self, kernel: Kernel) -> u64 {
        self.steps
            .iter()
            .filter(|s| s.0 == kernel)
            .map(|s| s.1)
            .sum()
    }

    /// Element `i` of the three buffers after every recorded application.
    pub fn element(&self, i: u64) -> [f32; 3] {
        self.state(i, self.steps.len(), false)
    }

    /// As [`Replay::element`], with triad's multiply-add fused.
    pub fn element_fused(&self, i: u64) -> [f32; 3] {
        self.state(i, self.steps.len(), true)
    }

    fn vec4s(&self) -> u64 {
        self.elements.div_ceil(4)
    }

    /// Vec4 rotation after `n` copies: the even and odd offsets in turn.
    fn rotation(&self, n: u64) -> u64 {
        let v = self.vec4s();
        let [even, odd] = REP_PARAMS.map(|p| p.rot as u64 % v);
        (n.div_ceil(2) % v * even + n / 2 % v * odd) % v
    }

    /// The element whose value lands on `i` after a rotation by `by` vec4s.
    fn source(&self, i: u64, by: u64) -> u64 {
        ((i / 4 + by) % self.vec4s()) * 4 + i % 4
    }

    fn state(&self, i: u64, upto: usize, fused: bool) -> [f32; 3] {
        let Some(&(kernel, n)) = upto.checked_sub(1).map(|s| &self.steps[s]) else {
            return if i < self.elements {
                [initial(0, i), initial(1, i), initial(2, i)]
            } else {
                [0.0; 3]
            };
        };
        let before = self.state(i, upto - 1, fused);
        if n == 0 {
            return before;
        }
        if kernel == Kernel::Copy {
            // The newest copy has rotated the original a by every offset;
            // the other buffer holds the copy before it (or a untouched).
            let newest = self.state(self.source(i, self.rotation(n)), upto - 1, fused)[0];
            let other = self.state(self.source(i, self.rotation(n - 1)), upto - 1, fused)[0];
            return if n % 2 == 1 {
                [other, before[1], newest]
            } else {
                [newest, before[1], other]
            };
        }
        (0..n).fold(before, |e, rep| apply(e, kernel, rep, fused))
    }
}

/// Disagreements in one array.
#[derive(Default)]
struct ArrayErrors {
    wrong: u64,
    first: Option<(u64, f32, f32)>,
    max_rel: f64,
}

fn rel_error(got: f32, want: f32) -> f64 {
    if !got.is_finite() {
        return f64::INFINITY;
    }
    (got as f64 - want as f64).abs() / (want as f64).abs().max(f32::MIN_POSITIVE as f64)
}

/// The elements to replay: all of them when the budget allows, else the
/// first and last [`EDGE`] and a random sample drawn now, after the timed
/// work, sorted.
fn elements_to_check(elements: u64, cost: u64) -> Vec<u64> {
    let affordable = (REPLAY_BUDGET / cost.max(1)).max(MIN_SAMPLE);
    if affordable >= elements {
        return (0..elements).collect();
    }
    // The ends always: a loop one trip short, or one that stops before the
    // tail, leaves them stale.
    let ends = (0..EDGE).chain(elements - EDGE..elements);
    let mut rng = rand::rng();
    let mut picked: Vec<u64> = (0..affordable)
        .map(|_| rng.random_range(0..elements))
        .chain(ends)
        .collect();
    picked.sort_unstable();
    picked.dedup();
    picked
}

/// Compares elements of a, b and c with the replay (every one, or a random
/// sample when replaying all would take too long) and, after `dot`, each
/// workgroup's partial sum and the result with f64 sums of the very values
/// read back.
pub fn check_arrays(k: &StreamKernels, replay: &Replay, dot: bool) -> Result<Check> {
    let mut errors: [ArrayErrors; 3] = Default::default();
    let groups = k.groups as usize;
    let mut partial_want = vec![0.0f64; groups];
    let mut partial_abs = vec![0.0f64; groups];
    let picked = elements_to_check(k.elements, replay.cost());
    let mut next = picked.iter().peekable();
    let mut first = 0;
    while first < k.elements {
        let count = CHUNK.min(k.elements - first);
        let mut got = Vec::with_capacity(3);
        for (which, name) in NAMES.iter().enumerate() {
            got.push(
                k.read_array(which, first, count)
                    .with_context(|| format!("reading array {name} back"))?,
            );
        }
        while let Some(&&i) = next.peek() {
            if i >= first + count {
                break;
            }
            next.next();
            let j = (i - first) as usize;
            let g = [got[0][j], got[1][j], got[2][j]];
            compare_element(replay, i, g, &mut errors);
        }
        if dot {
            let rows = got[0].iter().zip(&got[1]);
            for (i, (&a, &b)) in (first..).zip(rows) {
                let p = a as f64 * b as f64;
                let g = k.dot_group_of(i);
                partial_want[g] += p;
                partial_abs[g] += p.abs();
            }
        }
        first += count;
    }

    let mut check = Check::default();
    let mut worst: f64 = 0.0;
    for (name, err) in NAMES.iter().zip(&errors) {
        worst = worst.max(err.max_rel);
        if let Some((i, got, want)) = err.first {
            check.fail(format!(
                "array {name}: {} of {} checked elements differ from the CPU replay; the first, {name}[{i}], is {got} but {want} was expected",
                err.wrong,
                picked.len()
            ));
        }
    }
    check.fact(
        "elements_checked",
        format!(
            "3x{} ({:.1}%, chosen after read-back)",
            picked.len(),
            100.0 * picked.len() as f64 / k.elements as f64
        ),
    );
    check.fact("max_rel_err", format!("{worst:.3e}"));
    if dot {
        let sums = DotSums {
            want: &partial_want,
            abs: &partial_abs,
            reps: replay.applications(Kernel::Dot),
        };
        check_dot(k, &sums, &mut check)?;
    }
    Ok(check)
}

/// One element against the unfused replay, else the fused one.
fn compare_element(replay: &Replay, i: u64, got: [f32; 3], errors: &mut [ArrayErrors; 3]) {
    let plain = replay.element(i);
    let errs = |want: [f32; 3]| -> [f64; 3] { [0, 1, 2].map(|w| rel_error(got[w], want[w])) };
    let mut e = errs(plain);
    let mut want = plain;
    if e.iter().any(|&x| x > ARRAY_TOLERANCE) {
        let fused = replay.element_fused(i);
        let f = errs(fused);
        if f.iter().cloned().fold(0.0, f64::max) < e.iter().cloned().fold(0.0, f64::max) {
            e = f;
            want = fused;
        }
    }
    for (w, err) in errors.iter_mut().enumerate() {
        err.max_rel = err.max_rel.max(e[w]);
        if e[w] > ARRAY_TOLERANCE {
            err.wrong += 1;
            err.first.get_or_insert((i, got[w], want[w]));
        }
    }
}

/// The dot product of the values read back, per workgroup, and the
/// repetitions that each added it to the workgroup's partial sum.
struct DotSums<'a> {
    want: &'a [f64],
    abs: &'a [f64],
    reps: u64,
}

/// `reps` f32 additions of `term` to a sum starting at 0, as the shader
/// accumulates.
fn accumulate(term: f32, reps: u64) -> f32 {
    (0..reps).fold(0.0f32, |acc, _| acc + term)
}

/// The dot's partial sums one by one, then the result. Each partial sum is
/// `reps` additions of the group's per-repetition sum, itself within its
/// rounding bound of the f64 sum; the accumulation is replayed term by term
/// at both ends of that bound (for a random sample of groups when there
/// are many), so a partial sum missing one repetition falls outside.
fn check_dot(k: &StreamKernels, sums: &DotSums, check: &mut Check) -> Result<()> {
    let partials = k
        .read_partials()
        .context("reading the dot's partial sums")?;
    let depth = k.partial_depth();
    let mut rng = rand::rng();
    let replayed: Vec<usize> = if partials.len() <= DOT_GROUPS_REPLAYED {
        (0..partials.len()).collect()
    } else {
        (0..DOT_GROUPS_REPLAYED)
            .map(|_| rng.random_range(0..partials.len()))
            .collect()
    };
    let reps = sums.reps;
    let mut wrong = 0;
    let mut first = None;
    for (g, &got) in partials.iter().enumerate() {
        let tol = dot_tolerance(depth, sums.abs[g]);
        let (lo, hi) = if replayed.contains(&g) {
            let ends = [sums.want[g] - tol, sums.want[g] + tol].map(|t| accumulate(t as f32, reps));
            (ends[0].min(ends[1]) as f64, ends[0].max(ends[1]) as f64)
        } else {
            // Outside the sample: the bound of `reps` chained additions.
            let n = reps as f64;
            let spread = n * tol + n * n * f32::EPSILON as f64 * sums.abs[g];
            (n * sums.want[g] - spread, n * sums.want[g] + spread)
        };
        if !got.is_finite() || (got as f64) < lo || (got as f64) > hi {
            wrong += 1;
            first.get_or_insert((g, got, lo, hi));
        }
    }
    if let Some((g, got, lo, hi)) = first {
        check.fail(format!(
            "{wrong} of {} workgroup partial sums are wrong after {reps} repetitions; the first, partial[{g}], is {got} but [{lo}, {hi}] was expected",
            partials.len()
        ));
    }
    let got = k.read_dot().context("reading the dot product")?;
    let want: f64 = partials.iter().map(|&p| p as f64).sum();
    let abs: f64 = partials.iter().map(|&p| (p as f64).abs()).sum();
    let tol = dot_tolerance(k.final_depth(), abs);
    if !got.is_finite() || (got as f64 - want).abs() > tol {
        check.fail(format!(
            "the result is {got} but {want}, the sum of the partial sums, was expected (tolerance {tol:.3e})"
        ));
    }
    check.fact("dot_partials_checked", partials.len());
    check.fact("dot_partials_replayed", replayed.len().min(partials.len()));
    Ok(())
}
