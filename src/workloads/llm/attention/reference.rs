//! The CPU side of attention: the same f16 cache values `fill` in
//! `shaders/llm_attention.wgsl` writes, regenerated for the heads checked,
//! and each query head's output in f64 with the tolerance an f32 kernel is
//! held to.

use crate::domain::hash::mix32;
use crate::workloads::llm::reference::Expect;

/// Exponent fields (f16 bias 15) of the smallest cached magnitudes: keys in
/// [1, 4), values in [0.5, 2). With queries uniform in [-1, 1) and the
/// 1/sqrt(head_dim) scale a score has a standard deviation near 1.5, so
/// softmax over hundreds to thousands of positions is neither uniform nor
/// one-hot.
pub const K_EXPONENT: u32 = 15;
pub const V_EXPONENT: u32 = 14;

/// Element `i` of the cache with hash `key`, as `kv_f16` in the shader.
pub fn kv_f16(key: u32, exponent: u32, i: u32) -> u16 {
    let h = mix32(i.wrapping_mul(0x9e37_79b9).wrapping_add(key ^ 0x5bd1_e995));
    ((h & 0x8000) | ((exponent + ((h >> 10) & 1)) << 10) | (h & 0x3ff)) as u16
}

pub fn kv_value(key: u32, exponent: u32, i: u32) -> f64 {
    half::f16::from_bits(kv_f16(key, exponent, i)).to_f64()
}

/// What one layer's cache is, for the reference: the hash keys of K and
/// V, the shape, and which positions the layer attends to.
#[derive(Clone, Copy, Debug)]
pub struct CacheShape {
    pub k_key: u32,
    pub v_key: u32,
    pub kv_heads: u64,
    pub head_dim: u64,
    pub context: u64,
    /// Positions attended: the context, or the window of a sliding layer.
    pub len: u64,
    /// Positions the cache holds (position p at slot p % stored).
    pub stored: u64,
}

impl CacheShape {
    /// Rows `[position][element]` of KV head `g` (keys or values), in
    /// position order over the attended positions.
    pub fn rows(&self, key: u32, exponent: u32, g: u64) -> Vec<Vec<f64>> {
        (self.context - self.len..self.context)
            .map(|p| {
                let base = ((p % self.stored) * self.kv_heads + g) * self.head_dim;
                (base..base + self.head_dim)
                    .map(|e| kv_value(key, exponent, e as u32))
                    .collect()
            })
            .collect()
    }
}

/// One query head's output against rows `k` and `v`: every element with
/// its tolerance.
///
/// The tolerance: each position's weight is off by a relative
/// r_p = ε·(16 + 2|s_p − M| + 2·sqrt(head_dim)·S_p), from the f32 score (a
/// sum of head_dim products whose rounding grows like sqrt(head_dim) times
/// their absolute sum S_p) and from `exp`, whose error WGSL bounds by
/// 3 + 2|x| ulp; the f32 sums over the positions (and over the chunks) add
/// rounding that grows like sqrt(len) for these random signs, 4ε·sqrt(len)
/// relative to the sum of absolute terms. The output's error is at most
/// the numerator's plus |o| times the denominator's; twice that is
/// allowed. A skipped position moves an output by its weight times
/// |v − o|, of order 1/len, far outside for the lengths the checks use
/// (hundreds to thousands of positions: 1e-3 against 1e-5).
pub fn head_output(
    q: &[f32],
    scale: f32,
    k: &[Vec<f64>],
    v: &[Vec<f64>],
    sink: Option<f32>,
) -> Vec<Expect> {
    let eps = f32::EPSILON as f64;
    let hd = q.len();
    let scale = scale as f64;
    let (scores, abs): (Vec<f64>, Vec<f64>) = k
        .iter()
        .map(|row| {
            let (mut s, mut a) = (0.0, 0.0);
            for (qi, ki) in q.iter().zip(row) {
                s += *qi as f64 * ki;
                a += (*qi as f64 * ki).abs();
            }
            (s * scale, a * scale.abs())
        })
        .unzip();
    let sink = sink.map(|s| s as f64);
    let m = scores
        .iter()
        .copied()
        .chain(sink)
        .fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
    let e_sink = sink.map_or(0.0, |s| (s - m).exp());
    let l: f64 = e.iter().sum::<f64>() + e_sink;
    let r: Vec<f64> = scores
        .iter()
        .zip(&abs)
        .map(|(s, a)| eps * (16.0 + 2.0 * (s - m).abs() + 2.0 * (hd as f64).sqrt() * a))
        .collect();
    let sink_r = sink.map_or(0.0, |s| eps * (16.0 + 2.0 * (s - m).abs()));
    let acc = 4.0 * eps * (k.len() as f64).sqrt();
    let l_rel = e.iter().zip(&r).map(|(e, r)| e / l * r).sum::<f64>() + e_sink / l * sink_r + acc;
    (0..hd)
        .map(|d| {
            let (mut o, mut b, mut num) = (0.0, 0.0, 0.0);
            for ((ep, vp), rp) in e.iter().zip(v).zip(&r) {
                let a = ep / l;
                o += a * vp[d];
                b += a * vp[d].abs();
                num += a * vp[d].abs() * rp;
            }
            Expect {
                want: o,
                tol: 2.0 * (num + acc * b + o.abs() * l_rel) + f32::MIN_POSITIVE as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_values_are_normal_f16_within_their_ranges() {
        for (exp, lo, hi) in [(K_EXPONENT, 1.0, 4.0), (V_EXPONENT, 0.5, 2.0)] {
            for i in 0..10_000 {
                let v = kv_value(7, exp, i).abs();
                assert!((lo..hi).contains(&v), "{v}");
            }
        }
    }

    #[test]
    fn softmax_weights_are_neither_uniform_nor_one_hot() {
        let shape = CacheShape {
            k_key: 1,
            v_key: 2,
            kv_heads: 1,
            head_dim: 128,
            context: 512,
            len: 512,
            stored: 512,
        };
        let k = shape.rows(shape.k_key, K_EXPONENT, 0);
        let q: Vec<f32> = (0..128)
            .map(|i| crate::workloads::llm::formats::activation(3, i))
            .collect();
        let scale = 1.0 / (128f64).sqrt();
        let s: Vec<f64> = k
            .iter()
            .map(|r| r.iter().zip(&q).map(|(a, b)| a * *b as f64).sum::<f64>() * scale)
            .collect();
        let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
        let top = 1.0 / e.iter().sum::<f64>();
        assert!(top < 0.5, "one position takes {top} of the weight");
        assert!(top > 4.0 / 512.0, "the weights are near uniform: {top}");
    }

    #[test]
    fn a_sink_takes_weight_from_every_position() {
        let k = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let v = vec![vec![1.0, 1.0], vec![3.0, 3.0]];
        let without = head_output(&[1.0, 1.0], 1.0, &k, &v, None);
        assert!((without[0].want - 2.0).abs() < 1e-12);
        // Equal scores and a sink of the same logit: each gets a third.
        let with = head_output(&[1.0, 1.0], 1.0, &k, &v, Some(1.0));
        assert!((with[0].want - 4.0 / 3.0).abs() < 1e-12);
        assert!(with[0].tol < 1e-4, "{}", with[0].tol);
    }
}
