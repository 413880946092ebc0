//! Per-element data and its CPU replay: what every element of a, b and c
//! must hold after the kernels that ran, and the comparison of the arrays
//! (and the dot product's sums) the timed samples left on the device.
//!
//! BabelStream starts every element of an array at the same value, so a
//! kernel reading element 0 instead of element i would pass. Here element
//! i of each array starts at a value derived from a hash of (array, i), and
//! the magnitudes are kept apart so that every kernel changes every element
//! of its destination: a skipped element keeps a stale value and is caught.
//!
//!   a in ±[1, 2), b in ±[2, 4), c in ±[4, 8), scalar 0.4
//!   copy   c = a            |a| < 2 <= |c| before
//!   mul    b = 0.4 c        |b| < 0.8 < 2 <= |b| before
//!   add    c = a + b        same signs: |c| >= |a| + 0.4 > |a| = |c| before
//!   triad  a = b + 0.4 c    about 0.96 a: differs from a by 0.04 |a| >= 0.04
//!
//! Every value stays in [0.38, 8) in magnitude, far from zero, overflow
//! and subnormals, so relative errors are meaningful.

use anyhow::{Context, Result};

use super::kernels::{dot_tolerance, StreamKernels};
use super::{Kernel, SCALAR};
use crate::harness::Check;

/// Largest relative error allowed in one array element: one rounding
/// difference (a triad compiled to a fused multiply-add) is far inside it,
/// a scalar off by 1e-3 or a wrong element far outside (BabelStream allows
/// the same 100 epsilon).
pub const ARRAY_TOLERANCE: f64 = f32::EPSILON as f64 * 100.0;

/// Elements read back per array at a time, so host memory stays bounded
/// whatever the array size.
const CHUNK: u64 = 4 << 20;

/// Array names in binding order.
const NAMES: [&str; 3] = ["a", "b", "c"];

/// Murmur3's 32-bit finaliser over the index and the array: neighbouring
/// indices get unrelated bits.
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

/// One element's (a, b, c) after `kernel`, in the GPU's f32 arithmetic.
pub fn apply(e: [f32; 3], kernel: Kernel) -> [f32; 3] {
    let [a, b, c] = e;
    match kernel {
        Kernel::Copy => [a, b, a],
        Kernel::Mul => [a, SCALAR * c, c],
        Kernel::Add => [a, b, a + b],
        Kernel::Triad => [b + SCALAR * c, b, c],
        Kernel::Dot => e,
    }
}

/// The kernel applications recorded so far, in order.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    steps: Vec<(Kernel, u64)>,
}

impl Replay {
    pub fn record(&mut self, kernel: Kernel, times: u64) {
        self.steps.push((kernel, times));
    }

    /// Element `i` of (a, b, c) after every recorded application. No kernel
    /// writes an array it reads, so each application after the first of a
    /// run rewrites the values the first wrote: a run of `times`
    /// applications is replayed as one, or as none when `times` is 0.
    pub fn element(&self, i: u64) -> [f32; 3] {
        let mut e = [initial(0, i), initial(1, i), initial(2, i)];
        for &(kernel, times) in &self.steps {
            if times > 0 {
                e = apply(e, kernel);
            }
        }
        e
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

/// Compares every element of a, b and c with the replay and, after `dot`,
/// each workgroup's partial sum and the result with f64 sums of the very
/// values read back.
pub fn check_arrays(k: &StreamKernels, replay: &Replay, dot: bool) -> Result<Check> {
    let mut errors: [ArrayErrors; 3] = Default::default();
    let groups = k.groups as usize;
    let mut partial_want = vec![0.0f64; groups];
    let mut partial_abs = vec![0.0f64; groups];
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
        let rows = got[0].iter().zip(&got[1]).zip(&got[2]);
        for (i, ((&a, &b), &c)) in (first..).zip(rows) {
            let want = replay.element(i);
            for ((err, g), w) in errors.iter_mut().zip([a, b, c]).zip(want) {
                let e = rel_error(g, w);
                err.max_rel = err.max_rel.max(e);
                if e > ARRAY_TOLERANCE {
                    err.wrong += 1;
                    err.first.get_or_insert((i, g, w));
                }
            }
            if dot {
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
                "array {name}: {} of {} elements differ from the CPU replay; the first, {name}[{i}], is {got} but {want} was expected",
                err.wrong, k.elements
            ));
        }
    }
    check.fact("elements_checked", format!("3x{} (100%)", k.elements));
    check.fact("max_rel_err", format!("{worst:.3e}"));
    if dot {
        check_dot(k, &partial_want, &partial_abs, &mut check)?;
    }
    Ok(check)
}

/// The dot's partial sums one by one (each covers few enough elements that
/// a missing one shows above its rounding bound), then the result.
fn check_dot(
    k: &StreamKernels,
    partial_want: &[f64],
    partial_abs: &[f64],
    check: &mut Check,
) -> Result<()> {
    let partials = k
        .read_partials()
        .context("reading the dot's partial sums")?;
    let depth = k.partial_depth();
    let mut wrong = 0;
    let mut first = None;
    for (g, (&got, (&want, &abs))) in partials
        .iter()
        .zip(partial_want.iter().zip(partial_abs))
        .enumerate()
    {
        let tol = dot_tolerance(depth, abs);
        if !got.is_finite() || (got as f64 - want).abs() > tol {
            wrong += 1;
            first.get_or_insert((g, got, want, tol));
        }
    }
    if let Some((g, got, want, tol)) = first {
        check.fail(format!(
            "{wrong} of {} workgroup partial sums are wrong; the first, partial[{g}], is {got} but {want} was expected (tolerance {tol:.3e})",
            partials.len()
        ));
    }
    let got = k.read_dot().context("reading the dot product")?;
    let want: f64 = partial_want.iter().sum();
    let tol = dot_tolerance(k.dot_depth(), partial_abs.iter().sum());
    if !got.is_finite() || (got as f64 - want).abs() > tol {
        check.fail(format!(
            "the result is {got} but {want} was expected (tolerance {tol:.3e})"
        ));
    }
    check.fact("dot_partials_checked", partials.len());
    check.fact(
        "dot_rel_err",
        format!("{:.3e}", (got as f64 - want).abs() / want.abs()),
    );
    Ok(())
}
