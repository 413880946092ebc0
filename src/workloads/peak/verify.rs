//! Checks a peak kernel's output: chains of sampled invocations replayed
//! bit for bit, every other invocation checked for having moved from its
//! seed.

use half::f16;
use rand::{Rng, SeedableRng};

use super::kernel::POISON;
use super::replay::{self, Float, FmaRounding};
use super::Kernel;
use crate::harness::Check;

/// Scalar steps replayed on the CPU per rounding, at most.
const REPLAY_BUDGET: f64 = 3e7;

/// The bytes invocation `i` should store, and whether every chain's value
/// differs from its value at each step count a lazy kernel would stop at.
pub fn expected(
    kernel: Kernel,
    chains: u32,
    iters: u32,
    r: FmaRounding,
    i: u32,
) -> (Vec<u8>, bool) {
    let (f, k) = kernel.coefficients();
    let (lanes, bytes) = kernel.lanes_and_bytes();
    let stored = kernel.stored(chains);
    let mut out = Vec::with_capacity(stored as usize * lanes * bytes);
    let mut distinct = true;
    let mut fma = |out: &mut Vec<u8>, put: &mut dyn FnMut(u32, u32, &mut Vec<u8>) -> bool| {
        for v in 0..stored {
            for q in 0..lanes as u32 {
                distinct &= put(v, q, out);
            }
        }
    };
    fn chain<T: Float>(
        x: f32,
        a: f32,
        b: f32,
        iters: u32,
        r: FmaRounding,
        out: &mut Vec<u8>,
    ) -> bool {
        let (a, b) = (T::from_f32(a), T::from_f32(b));
        let (x, d) = replay::run_chain(T::from_f32(x), iters, 2, |x| x.fma(a, b, r));
        x.put(out);
        d
    }
    match kernel {
        Kernel::Fp64Fma => fma(&mut out, &mut |v, q, o| {
            chain::<f64>(replay::unit(i, v, q), f[0], f[1], iters, r, o)
        }),
        Kernel::Fp32Fma => fma(&mut out, &mut |v, q, o| {
            chain::<f32>(replay::unit(i, v, q), f[0], f[1], iters, r, o)
        }),
        Kernel::Fp16Fma => fma(&mut out, &mut |v, q, o| {
            chain::<f16>(replay::unit(i, v, q), f[0], f[1], iters, r, o)
        }),
        Kernel::Fp32MulAdd => fma(&mut out, &mut |v, q, o| {
            let (m, d) = (f[2], f[3]);
            let x = replay::unit(i, v, q);
            let (x, ok) = if v % 2 == 0 {
                replay::run_chain(x, iters, 2, |x| x * m)
            } else {
                replay::run_chain(x, iters, 2, |x| x + d)
            };
            o.extend_from_slice(&x.to_le_bytes());
            ok
        }),
        Kernel::I32Mad => fma(&mut out, &mut |v, q, o| {
            let step = |a: u32| a.wrapping_mul(k[0]).wrapping_add(k[1]);
            let (x, ok) = replay::run_chain(replay::seed(i, v, q), iters, 2, step);
            o.extend_from_slice(&x.to_le_bytes());
            ok
        }),
        Kernel::Int8Dot4 | Kernel::Sha256Round => {
            let mut words = vec![0u32; stored as usize * 4];
            for q in 0..4u32 {
                if kernel == Kernel::Int8Dot4 {
                    for j in 0..chains {
                        let start = (replay::seed(i, 2 * j, q), replay::seed(i, 2 * j + 1, q));
                        let ((x, y), ok) =
                            replay::run_chain(start, iters, 1, |p| replay::dot4_pair(p, k[0]));
                        words[(2 * j * 4 + q) as usize] = x;
                        words[((2 * j + 1) * 4 + q) as usize] = y;
                        distinct &= ok;
                    }
                } else {
                    let start: [u32; 8] = std::array::from_fn(|j| replay::seed(i, j as u32, q));
                    let (s, ok) = replay::run_chain(start, iters, 1, |mut s| {
                        replay::sha_iteration(&mut s, k);
                        s
                    });
                    for (j, w) in s.iter().enumerate() {
                        words[j * 4 + q as usize] = *w;
                    }
                    distinct &= ok;
                }
            }
            out.extend_from_slice(bytemuck::cast_slice(&words));
        }
    }
    (out, distinct)
}

/// Whether invocation `i`'s output moved from its seeds: floats grew past
/// their start values (NaN and the poison do not), integers left both
/// their seed and the poison.
fn moved(kernel: Kernel, chains: u32, i: u32, got: &[u8]) -> bool {
    let (lanes, bytes) = kernel.lanes_and_bytes();
    (0..kernel.stored(chains)).all(|v| {
        (0..lanes as u32).all(|q| {
            let at = (v as usize * lanes + q as usize) * bytes;
            let b = &got[at..at + bytes];
            let grew = |x: f64| x.is_finite() && x > replay::unit(i, v, q) as f64;
            match kernel {
                Kernel::Fp64Fma => grew(f64::from_le(b)),
                Kernel::Fp16Fma => grew(f16::from_le(b).to_f64()),
                Kernel::Fp32Fma | Kernel::Fp32MulAdd => grew(f32::from_le(b) as f64),
                _ => {
                    let w = u32::from_le_bytes(b.try_into().expect("4 bytes"));
                    w != POISON && w != replay::seed(i, v, q)
                }
            }
        })
    })
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

/// Checks `raw`, the output of `n` invocations.
pub fn check(kernel: Kernel, chains: u32, iters: u32, n: u32, raw: &[u8]) -> Check {
    let mut check = Check::default();
    let (lanes, bytes) = kernel.lanes_and_bytes();
    let per_inv = kernel.stored(chains) as usize * lanes * bytes;
    if n == 0 || raw.len() < n as usize * per_inv {
        check.fail(format!(
            "output of {} bytes, expected {}",
            raw.len(),
            n as usize * per_inv
        ));
        return check;
    }
    let got = |i: u32| &raw[i as usize * per_inv..(i as usize + 1) * per_inv];

    // Always the first and the last invocation, then random ones.
    let cost = (kernel.stored(chains) as usize * lanes) as f64 * iters as f64;
    let want = ((REPLAY_BUDGET / cost.max(1.0)) as usize).clamp(16, n as usize);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut sample = if want >= n as usize {
        (0..n).collect()
    } else {
        let mut s = std::collections::BTreeSet::from([0, n - 1]);
        while s.len() < want {
            s.insert(rng.random_range(0..n));
        }
        s.into_iter().collect::<Vec<u32>>()
    };
    sample.dedup();

    let mut reported = Vec::new();
    let mut matched = None;
    let mut blind = 0usize;
    for (ri, &r) in roundings(kernel).iter().enumerate() {
        let mut mismatches = Vec::new();
        for &i in &sample {
            let (want, distinct) = expected(kernel, chains, iters, r, i);
            if ri == 0 && !distinct {
                blind += 1;
            }
            if got(i) != want.as_slice() {
                let at = (0..per_inv / bytes)
                    .find(|s| got(i)[s * bytes..][..bytes] != want[s * bytes..][..bytes])
                    .unwrap_or(0);
                mismatches.push(format!(
                    "invocation {i} vector {} lane {}: got {}, expected {}",
                    at / lanes,
                    at % lanes,
                    show(kernel, &got(i)[at * bytes..][..bytes]),
                    show(kernel, &want[at * bytes..][..bytes])
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
            if kernel.is_float() && kernel != Kernel::Fp32MulAdd {
                check.fact("fma", r.name());
            }
        }
        None => {
            for m in reported {
                check.fail(m);
            }
        }
    }
    if blind > 0 {
        check.fail(format!(
            "{blind} replayed invocations have a chain that returns to an earlier value: \
             this check could not see a shorter loop"
        ));
    }
    let unmoved: Vec<u32> = (0..n)
        .filter(|&i| !moved(kernel, chains, i, got(i)))
        .collect();
    if let Some(first) = unmoved.first() {
        check.fail(format!(
            "{} of {n} invocations stored a value that did not move from its seed (first: {first})",
            unmoved.len()
        ));
    }
    check.fact("replayed", format!("{}/{n}", sample.len()));
    check.fact("coverage", format!("{n}/{n}"));
    check
}
