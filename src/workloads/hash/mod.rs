//! The mining workload: the SHA-256d hash loop (`shaders/sha256d.wgsl`).
//!
//! The host prepares one `Job` per dispatch (midstate, the first three
//! rounds, the nonce-independent schedule words); the GPU tests LANES nonces
//! per invocation per loop iteration and reports every nonce whose hash passes
//! the top-32-bit filter; the host re-hashes every reported nonce with the
//! `sha2` crate and completes the 256-bit comparison.
//!
//! The shader declares how many nonces one invocation tests per iteration
//! (`const LANES: u32 = N;`); the host reads it from the source so that a
//! variant loaded with `--shader-dir` is sized correctly.
//!
//! Every dispatch also adds, per invocation, the sum of the top words of
//! every hash it computed into a coverage buffer; the host recomputes that
//! sum for a sample of invocations (`coverage`), so a skipped or repeated
//! nonce is caught even where no hit lies.

mod check;
mod coverage;
mod kernel;
mod measure;

pub use check::{check_candidates, check_non_hits, self_test, Check};
pub use coverage::{check_coverage, Dispatched};
pub use kernel::{shader_lanes, HashKernel};
pub use measure::{run, TimedDispatches};

use crate::sha::{self, Header};

pub const WGSL: &str = include_str!("../../../shaders/sha256d.wgsl");
/// The shader's name, for `--shader-dir` (`sha256d.wgsl`).
pub const SHADER: &str = "sha256d";

const WORKGROUP: u32 = 64;
/// Dynamic offsets must be multiples of this (WebGPU's maximum alignment
/// requirement, so it suits every adapter).
const JOB_STRIDE: u64 = 256;
/// Upper bound on nonces in one dispatch; keeps the in-shader index
/// arithmetic far from u32 overflow.
const MAX_DISPATCH_NONCES: u64 = 1 << 31;

/// One dispatch's worth of nonces for one header variant.
#[derive(Clone, Copy, Debug)]
pub struct NonceRange {
    pub variant: u32,
    pub first: u32,
    pub count: u32,
}

/// What the GPU reported: candidates passing the top-word filter.
pub struct Hits {
    /// How many candidates the GPU counted (may exceed `items.len()`).
    pub counted: u32,
    pub items: Vec<(u32, u32)>,
}

impl Hits {
    pub fn overflowed(&self) -> bool {
        self.counted as usize > self.items.len()
    }
}

/// A header varied by its timestamp, so measurements can go past 2^32 nonces
/// without testing a nonce twice.
pub fn variant_header(base: &Header, variant: u32) -> Header {
    let mut h = *base;
    let t = sha::header_time(base).wrapping_add(variant);
    h[68..72].copy_from_slice(&t.to_le_bytes());
    h
}
