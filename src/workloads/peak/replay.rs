//! The CPU side of every peak kernel: the same seeds and the same
//! operations in the same order, so a chain's final value is predicted
//! bit for bit.
//!
//! A measurement's repetitions are replayed in order: each chain starts
//! each repetition from a hash of the value it stored in the previous one
//! (zero before the first), so the final value is predicted only by
//! replaying every repetition.
//!
//! Besides the final value, a replay records the chain's values at the
//! step counts a lazy kernel would stop at (none, a tenth, half, one
//! iteration and one step fewer). When one of them equals the final value
//! the check could not tell the two apart, and verification says so.

use half::f16;

/// `params.seed` of the shader.
pub const SEED: u32 = 12345;

// Same as `mix32()` in peak_body.wgsl.
use crate::domain::hash::mix32;

/// Same as `seed()` in peak_body.wgsl: chain `j`, lane `q` of invocation
/// `i` in repetition `rep`, whose previous stored value links as `prev`.
pub fn seed(i: u32, j: u32, q: u32, prev: u32, rep: u32) -> u32 {
    let r = mix32(prev ^ rep.wrapping_mul(0x27d4_eb2f));
    mix32(
        i.wrapping_mul(0x9e37_79b9)
            .wrapping_add(j.wrapping_mul(0x85eb_ca6b))
            .wrapping_add(q.wrapping_mul(0xc2b2_ae35))
            .wrapping_add(SEED)
            .wrapping_add(r),
    )
}

/// Same as `unit()`: a start value in [1, 2) with 10 fraction bits.
pub fn unit(i: u32, j: u32, q: u32, prev: u32, rep: u32) -> f32 {
    unit_of(seed(i, j, q, prev, rep))
}

/// The start value the low 10 bits of `h` make.
pub fn unit_of(h: u32) -> f32 {
    f32::from_bits(0x3f80_0000 | ((h & 1023) << 13))
}

/// How a device evaluates WGSL `fma`. Vulkan lets it be a multiply then an
/// add, and f16 may be computed in f32 and rounded; a device is consistent
/// within one shader, so a result must match one of these replays whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FmaRounding {
    Fused,
    Unfused,
    /// f16 only: a fused f32 FMA rounded to f16 (two roundings).
    ViaF32,
}

impl FmaRounding {
    pub fn name(self) -> &'static str {
        match self {
            FmaRounding::Fused => "fused",
            FmaRounding::Unfused => "unfused",
            FmaRounding::ViaF32 => "via_f32",
        }
    }
}

/// A float format with the fma of each rounding.
pub trait Float: Copy + PartialEq + PartialOrd + std::fmt::Debug {
    const ROUNDINGS: &'static [FmaRounding];
    fn from_f32(x: f32) -> Self;
    fn fma(self, a: Self, b: Self, r: FmaRounding) -> Self;
    fn to_f64(self) -> f64;
    /// The 32 bits of a stored value the next repetition's start hashes
    /// (the variant header's `start`).
    fn link(self) -> u32;
    /// Little-endian bytes as the shader stores them.
    fn from_le(b: &[u8]) -> Self;
    fn put(self, out: &mut Vec<u8>);
}

impl Float for f32 {
    const ROUNDINGS: &'static [FmaRounding] = &[FmaRounding::Fused, FmaRounding::Unfused];
    fn from_f32(x: f32) -> Self {
        x
    }
    fn fma(self, a: Self, b: Self, r: FmaRounding) -> Self {
        match r {
            FmaRounding::Unfused => self * a + b,
            _ => self.mul_add(a, b),
        }
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn link(self) -> u32 {
        self.to_bits()
    }
    fn from_le(b: &[u8]) -> Self {
        f32::from_le_bytes(b.try_into().expect("4 bytes"))
    }
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Float for f64 {
    const ROUNDINGS: &'static [FmaRounding] = &[FmaRounding::Fused, FmaRounding::Unfused];
    fn from_f32(x: f32) -> Self {
        x as f64
    }
    fn fma(self, a: Self, b: Self, r: FmaRounding) -> Self {
        match r {
            FmaRounding::Unfused => self * a + b,
            _ => self.mul_add(a, b),
        }
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn link(self) -> u32 {
        ((self - self.floor()) * 4_294_967_296.0) as u32 ^ self as u32
    }
    fn from_le(b: &[u8]) -> Self {
        f64::from_le_bytes(b.try_into().expect("8 bytes"))
    }
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Float for f16 {
    const ROUNDINGS: &'static [FmaRounding] = &[
        FmaRounding::Fused,
        FmaRounding::Unfused,
        FmaRounding::ViaF32,
    ];
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
    fn fma(self, a: Self, b: Self, r: FmaRounding) -> Self {
        let (x, a, b) = (self.to_f64(), a.to_f64(), b.to_f64());
        match r {
            // The exact x * a + b of f16 operands in the ranges used spans
            // well under 53 bits, so f64 holds it exactly: one rounding.
            FmaRounding::Fused => f16::from_f64(x * a + b),
            FmaRounding::Unfused => f16::from_f64(f16::from_f64(x * a).to_f64() + b),
            FmaRounding::ViaF32 => f16::from_f32((x as f32).mul_add(a as f32, b as f32)),
        }
    }
    fn to_f64(self) -> f64 {
        f16::to_f64(self)
    }
    fn link(self) -> u32 {
        self.to_f32().to_bits()
    }
    fn from_le(b: &[u8]) -> Self {
        f16::from_le_bytes(b.try_into().expect("2 bytes"))
    }
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

/// Step counts at which a kernel doing less work would stop, for a kernel
/// of `iters` iterations of `per_iter` steps each.
pub fn lazy_steps(iters: u32, per_iter: u32) -> [u64; 5] {
    let (iters, per) = (iters as u64, per_iter as u64);
    [
        0,
        per * (iters / 10),
        per * (iters / 2),
        per * iters.saturating_sub(1),
        (per * iters).saturating_sub(1),
    ]
}

/// Runs `iters * per_iter` steps of `step` from `x`; returns the final
/// value and whether it differs from the value at every lazy step count.
pub fn run_chain<T: Copy + PartialEq>(
    x: T,
    iters: u32,
    per_iter: u32,
    mut step: impl FnMut(T) -> T,
) -> (T, bool) {
    let lazy = lazy_steps(iters, per_iter);
    let mut seen = Vec::with_capacity(lazy.len());
    let mut x = x;
    for s in 0..per_iter as u64 * iters as u64 {
        if lazy.contains(&s) {
            seen.push(x);
        }
        x = step(x);
    }
    let distinct = seen.iter().all(|y| *y != x);
    (x, distinct)
}

/// One int8_dot4 lane: signed bytes of `y` dotted with those of `w`.
pub fn dot4_i8(y: u32, w: u32) -> u32 {
    let (y, w) = (y.to_le_bytes(), w.to_le_bytes());
    (0..4)
        .map(|k| y[k] as i8 as i32 * w[k] as i8 as i32)
        .sum::<i32>() as u32
}

/// One int8_dot4 iteration of a (x, y) pair: `c` is larger than any dot
/// product's magnitude, so x and y move forward at every step.
pub fn dot4_pair(p: (u32, u32), w: u32, c: u32) -> (u32, u32) {
    let x = p.0.wrapping_add(dot4_i8(p.1, w)).wrapping_add(c);
    let y = p.1.wrapping_add(dot4_i8(x, w)).wrapping_add(c);
    (x, y)
}

fn sha_t1(e: u32, f: u32, g: u32, h: u32, kw: u32) -> u32 {
    let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let ch = g ^ (e & (f ^ g));
    h.wrapping_add(s1).wrapping_add(ch).wrapping_add(kw)
}

fn sha_t2(a: u32, b: u32, c: u32) -> u32 {
    let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let maj = (a & b) | (c & (a | b));
    s0.wrapping_add(maj)
}

/// One sha256_round iteration (eight rounds, the state words renamed as
/// the shader does) on one lane's state.
pub fn sha_iteration(s: &mut [u32; 8], k: [u32; 4]) {
    for r in 0..8 {
        let w = |x: usize| (8 + x - r) % 8;
        let (a, b, c, d) = (s[w(0)], s[w(1)], s[w(2)], s[w(3)]);
        let (e, f, g, h) = (s[w(4)], s[w(5)], s[w(6)], s[w(7)]);
        let x = sha_t1(e, f, g, h, k[r % 4]);
        s[w(3)] = d.wrapping_add(x);
        s[w(7)] = x.wrapping_add(sha_t2(a, b, c));
    }
}
