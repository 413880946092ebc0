//! Checks a peak kernel's output: the measurement's repetitions replayed
//! in order for chains picked at random after the read-back, and every
//! invocation's output checked for what one complete repetition can leave.

use std::collections::BTreeSet;

use half::f16;
use rand::Rng;

use super::replay::{self, Float, FmaRounding};
use super::Kernel;
use crate::harness::Check;

/// Scalar steps replayed on the CPU per rounding, about.
const REPLAY_BUDGET: f64 = 2e7;
/// Chains replayed at least, whatever they cost.
const MIN_CHAINS: usize = 24;

/// What one timed dispatch of the kernel was.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub kernel: Kernel,
    pub chains: u32,
    pub iters: u32,
    pub invocations: u32,
}

impl Shape {
    fn lanes(&self) -> usize {
        self.kernel.lanes_and_bytes().0
    }

    fn bytes(&self) -> usize {
        self.kernel.lanes_and_bytes().1
    }

    /// Scalars one invocation stores.
    fn scalars(&self) -> usize {
        self.kernel.stored(self.chains) as usize * self.lanes()
    }

    /// Independently replayable chains per invocation: a scalar, an
    /// int8_dot4 (x, y) pair, or one lane's eight SHA-256 state words.
    pub fn units(&self) -> u32 {
        match self.kernel {
            Kernel::Int8Dot4 => self.chains * 4,
            Kernel::Sha256Round => 4,
            _ => self.scalars() as u32,
        }
    }

    /// The scalars (indices within the invocation's output) unit `u` is.
    pub fn positions(&self, u: u32) -> Vec<usize> {
        let u = u as usize;
        match self.kernel {
            Kernel::Int8Dot4 => {
                let (j, q) = (u / 4, u % 4);
                vec![2 * j * 4 + q, (2 * j + 1) * 4 + q]
            }
            Kernel::Sha256Round => (0..8).map(|w| w * 4 + u).collect(),
            _ => vec![u],
        }
    }

    /// Scalar steps one unit's replay of `reps` repetitions costs.
    fn unit_cost(&self, reps: usize) -> f64 {
        let weight = match self.kernel {
            Kernel::Int8Dot4 => 2.0,
            Kernel::Sha256Round => 8.0,
            _ => 1.0,
        };
        reps as f64 * self.iters as f64 * self.kernel.steps_per_iter() as f64 * weight
    }
}

/// Float chain `(v, q)` of invocation `i` through repetitions `reps`.
fn float_chain<T: Float>(
    i: u32,
    v: u32,
    q: u32,
    iters: u32,
    reps: &[u32],
    step: impl Fn(T) -> T,
) -> (T, bool) {
    let mut x = T::from_f32(0.0);
    let mut distinct = true;
    for &rep in reps {
        let start = T::from_f32(replay::unit(i, v, q, x.link(), rep));
        let (y, d) = replay::run_chain(start, iters, 2, &step);
        x = y;
        distinct &= d;
    }
    (x, distinct)
}

/// The bytes unit `u` of invocation `i` stores (its positions in order)
/// after repetitions `reps` ran in that order from the zeroed output, and
/// whether no chain of it came back, in any repetition, to its value at a
/// step count a lazy kernel would stop at.
pub fn replay_unit(s: &Shape, r: FmaRounding, i: u32, u: u32, reps: &[u32]) -> (Vec<u8>, bool) {
    let (f, k) = s.kernel.coefficients();
    let lanes = s.lanes() as u32;
    let (v, q) = (u / lanes, u % lanes);
    let iters = s.iters;
    let mut out = Vec::new();
    let distinct = match s.kernel {
        Kernel::Fp64Fma => {
            let (a, b) = (f[0] as f64, f[1] as f64);
            let (x, d) = float_chain::<f64>(i, v, q, iters, reps, |x| x.fma(a, b, r));
            x.put(&mut out);
            d
        }
        Kernel::Fp32Fma => {
            let (x, d) = float_chain::<f32>(i, v, q, iters, reps, |x| x.fma(f[0], f[1], r));
            x.put(&mut out);
            d
        }
        Kernel::Fp16Fma => {
            let (a, b) = (f16::from_f32(f[0]), f16::from_f32(f[1]));
            let (x, d) = float_chain::<f16>(i, v, q, iters, reps, |x| x.fma(a, b, r));
            x.put(&mut out);
            d
        }
        Kernel::Fp32MulAdd => {
            let (m, add) = (f[2], f[3]);
            let (x, d) = if v.is_multiple_of(2) {
                float_chain::<f32>(i, v, q, iters, reps, |x| x * m)
            } else {
                float_chain::<f32>(i, v, q, iters, reps, |x| x + add)
            };
            x.put(&mut out);
            d
        }
        Kernel::I32Mad => {
            let step = |a: u32| a.wrapping_mul(k[0]).wrapping_add(k[1]);
            let (mut x, mut distinct) = (0u32, true);
            for &rep in reps {
                let (y, d) = replay::run_chain(replay::seed(i, v, q, x, rep), iters, 2, step);
                x = y;
                distinct &= d;
            }
            out.extend_from_slice(&x.to_le_bytes());
            distinct
        }
        Kernel::Int8Dot4 => {
            let (j, q) = (u / 4, u % 4);
            let (mut p, mut distinct) = ((0u32, 0u32), true);
            for &rep in reps {
                let start = (
                    replay::seed(i, 2 * j, q, p.0, rep),
                    replay::seed(i, 2 * j + 1, q, p.1, rep),
                );
                let (y, d) =
                    replay::run_chain(start, iters, 1, |p| replay::dot4_pair(p, k[0], k[1]));
                p = y;
                distinct &= d;
            }
            out.extend_from_slice(&p.0.to_le_bytes());
            out.extend_from_slice(&p.1.to_le_bytes());
            distinct
        }
        Kernel::Sha256Round => {
            let (mut st, mut distinct) = ([0u32; 8], true);
            for &rep in reps {
                let start: [u32; 8] =
                    std::array::from_fn(|w| replay::seed(i, w as u32, u, st[w], rep));
                let (y, d) = replay::run_chain(start, iters, 1, |mut x| {
                    replay::sha_iteration(&mut x, k);
                    x
                });
                st = y;
                distinct &= d;
            }
            for w in st {
                out.extend_from_slice(&w.to_le_bytes());
            }
            distinct
        }
    };
    (out, distinct)
}

/// The least and greatest value one complete repetition can leave in a
/// float chain (of stored vector `v`): every step is monotonic in x, so
/// the smallest and largest start bound it, under every rounding.
fn float_bounds(s: &Shape, v: u32) -> (f64, f64) {
    fn run<T: Float>(x: f32, iters: u32, step: impl Fn(T) -> T) -> f64 {
        replay::run_chain(T::from_f32(x), iters, 2, step).0.to_f64()
    }
    let (f, _) = s.kernel.coefficients();
    let (lo_start, hi_start) = (replay::unit_of(0), replay::unit_of(1023));
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &r in roundings(s.kernel) {
        for x in [lo_start, hi_start] {
            let y = match s.kernel {
                Kernel::Fp64Fma => {
                    let (a, b) = (f[0] as f64, f[1] as f64);
                    run::<f64>(x, s.iters, |x| x.fma(a, b, r))
                }
                Kernel::Fp16Fma => {
                    let (a, b) = (f16::from_f32(f[0]), f16::from_f32(f[1]));
                    run::<f16>(x, s.iters, |x| x.fma(a, b, r))
                }
                Kernel::Fp32MulAdd if v.is_multiple_of(2) => run::<f32>(x, s.iters, |x| x * f[2]),
                Kernel::Fp32MulAdd => run::<f32>(x, s.iters, |x| x + f[3]),
                _ => run::<f32>(x, s.iters, |x| x.fma(f[0], f[1], r)),
            };
            lo = lo.min(y);
            hi = hi.max(y);
        }
    }
    (lo, hi)
}

fn show(kernel: Kernel, b: &[u8]) -> String {
    match kernel {
        Kernel::Fp64Fma => format!("{:e}", f64::from_le(b)),
        Kernel::Fp16Fma => format!("{:e}", f16::from_le(b).to_f64()),
        Kernel::Fp32Fma | Kernel::Fp32MulAdd => format!("{:e}", f32::from_le(b)),
        _ => format!(
            "{:#010x}",
            u32::from_le_bytes(b.try_into().expect("4 bytes"))
        ),
    }
}

fn roundings(kernel: Kernel) -> &'static [FmaRounding] {
    match kernel {
        Kernel::Fp16Fma => f16::ROUNDINGS,
        Kernel::Fp32Fma | Kernel::Fp64Fma => f32::ROUNDINGS,
        _ => &[FmaRounding::Fused],
    }
}

/// Names what a mismatching unit's output is, when it is what a subset of
/// the repetitions alone produces: the first one, or one parity.
fn diagnose(s: &Shape, i: u32, u: u32, reps: &[u32], got: &[u8]) -> Option<String> {
    let n = reps.len();
    let first = vec![reps[0]];
    let even: Vec<u32> = reps
        .iter()
        .copied()
        .filter(|r| r.is_multiple_of(2))
        .collect();
    let odd: Vec<u32> = reps.iter().copied().filter(|r| r % 2 == 1).collect();
    for &r in roundings(s.kernel) {
        if replay_unit(s, r, i, u, &first).0 == got {
            return Some(format!(
                "only the first of the {n} repetitions left a trace: invocation {i} holds \
                 what repetition {} alone produces (later ones returned early or were skipped)",
                reps[0]
            ));
        }
        for (name, sub) in [("even", &even), ("odd", &odd)] {
            if !sub.is_empty() && replay_unit(s, r, i, u, sub).0 == got {
                return Some(format!(
                    "only every second repetition left a trace: invocation {i} holds what \
                     the {} {name}-numbered of the {n} repetitions alone produce",
                    sub.len()
                ));
            }
        }
    }
    None
}

/// Checks `raw`, the output of `s.invocations` invocations after
/// repetitions `reps` (their indices, in the order they ran).
pub fn check(s: &Shape, reps: &[u32], raw: &[u8]) -> Check {
    let mut check = Check::default();
    let per_inv = s.scalars() * s.bytes();
    let n = s.invocations;
    if n == 0 || raw.len() < n as usize * per_inv {
        check.fail(format!(
            "output of {} bytes, expected {}",
            raw.len(),
            n as usize * per_inv
        ));
        return check;
    }
    if reps.is_empty() {
        check.fail("no repetition was recorded");
        return check;
    }
    let out = Output { s, raw, per_inv };
    let sample = sample_chains(s, reps);
    replay_sample(&out, reps, &sample, &mut check);
    let bad = never_complete(&out);
    if let Some(first) = bad.first() {
        check.fail(format!(
            "{} of {n} invocations stored no value one complete repetition leaves (first: {first})",
            bad.len()
        ));
    }
    let total = n as usize * s.units() as usize;
    check.fact("replayed", format!("{}/{total}", sample.len()));
    check.fact("replayed_repetitions", reps.len());
    check.fact("coverage", format!("{n}/{n}"));
    check
}

/// The read-back output, its length already checked.
struct Output<'a> {
    s: &'a Shape,
    raw: &'a [u8],
    per_inv: usize,
}

impl Output<'_> {
    /// Everything invocation `i` stored.
    fn inv(&self, i: u32) -> &[u8] {
        &self.raw[i as usize * self.per_inv..(i as usize + 1) * self.per_inv]
    }

    /// What invocation `i` stored of chain unit `u`.
    fn unit(&self, i: u32, u: u32) -> Vec<u8> {
        let bytes = self.s.bytes();
        self.s
            .positions(u)
            .into_iter()
            .flat_map(|p| self.inv(i)[p * bytes..(p + 1) * bytes].iter().copied())
            .collect()
    }
}

/// The first chain of the first invocation, the last of the last, and
/// chains picked at random now, after the read-back.
fn sample_chains(s: &Shape, reps: &[u32]) -> BTreeSet<(u32, u32)> {
    let (n, units) = (s.invocations, s.units());
    let total = n as usize * units as usize;
    let want =
        ((REPLAY_BUDGET / s.unit_cost(reps.len()).max(1.0)) as usize).clamp(MIN_CHAINS, total);
    let mut rng = rand::rng();
    let mut sample = BTreeSet::from([(0, 0), (n - 1, units - 1)]);
    while sample.len() < want.max(sample.len()) {
        sample.insert((rng.random_range(0..n), rng.random_range(0..units)));
    }
    sample
}

/// Replays the sampled chains under each rounding the kernel may use until
/// one matches them all; fails with the first rounding's mismatches (and
/// what they look like) when none does, and when a replay could not tell a
/// shorter loop from the full one.
fn replay_sample(out: &Output, reps: &[u32], sample: &BTreeSet<(u32, u32)>, check: &mut Check) {
    let s = out.s;
    let (lanes, bytes) = (s.lanes(), s.bytes());
    let mut reported = Vec::new();
    let mut first_bad = None;
    let mut matched = None;
    let mut blind = 0usize;
    for (ri, &r) in roundings(s.kernel).iter().enumerate() {
        let mut mismatches = Vec::new();
        for &(i, u) in sample {
            let (want, distinct) = replay_unit(s, r, i, u, reps);
            if ri == 0 && !distinct {
                blind += 1;
            }
            let got = out.unit(i, u);
            if got != want {
                let at = (0..want.len() / bytes)
                    .find(|k| got[k * bytes..][..bytes] != want[k * bytes..][..bytes])
                    .unwrap_or(0);
                let p = s.positions(u)[at];
                if ri == 0 && first_bad.is_none() {
                    first_bad = Some((i, u, got.clone()));
                }
                mismatches.push(format!(
                    "invocation {i} vector {} lane {}: got {}, expected {} from the replay \
                     of all {} repetitions",
                    p / lanes,
                    p % lanes,
                    show(s.kernel, &got[at * bytes..][..bytes]),
                    show(s.kernel, &want[at * bytes..][..bytes]),
                    reps.len()
                ));
                if ri > 0 || mismatches.len() >= 8 {
                    break;
                }
            }
        }
        if mismatches.is_empty() {
            matched = Some(r);
            break;
        }
        if ri == 0 {
            reported = mismatches;
        }
    }
    match matched {
        Some(r) => {
            if s.kernel.is_float() && s.kernel != Kernel::Fp32MulAdd {
                check.fact("fma", r.name());
            }
        }
        None => {
            for m in reported {
                check.fail(m);
            }
            if let Some((i, u, got)) = first_bad {
                if let Some(why) = diagnose(s, i, u, reps, &got) {
                    check.fail(why);
                }
            }
        }
    }
    if blind > 0 {
        check.fail(format!(
            "{blind} replayed chains return to an earlier value: \
             this check could not see a shorter loop"
        ));
    }
}

/// Every invocation that stored no value one complete repetition leaves:
/// floats outside what one complete repetition from any start leaves,
/// integers all still zero.
fn never_complete(out: &Output) -> Vec<u32> {
    let s = out.s;
    let (lanes, bytes, n) = (s.lanes(), s.bytes(), s.invocations);
    if !s.kernel.is_float() {
        return (0..n)
            .filter(|&i| out.inv(i).iter().all(|&b| b == 0))
            .collect();
    }
    let bounds: Vec<(f64, f64)> = (0..2).map(|v| float_bounds(s, v)).collect();
    (0..n)
        .filter(|&i| {
            let g = out.inv(i);
            !(0..s.scalars()).all(|p| {
                let b = &g[p * bytes..(p + 1) * bytes];
                let x = match s.kernel {
                    Kernel::Fp64Fma => f64::from_le(b),
                    Kernel::Fp16Fma => f16::from_le(b).to_f64(),
                    _ => f32::from_le(b) as f64,
                };
                let (lo, hi) = bounds[(p / lanes) % 2];
                x.is_finite() && lo <= x && x <= hi
            })
        })
        .collect()
}
