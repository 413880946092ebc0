//! The CPU reference: the same generated blocks dequantized exactly and
//! accumulated in f64, compared output by output with a tolerance that
//! grows with K.

use super::formats::{weight_row, Format};

/// What one output should be, and how far an f32 kernel may stray from it:
/// 4 f32 epsilons x sqrt(K) x the sum of |w x| (rounding errors of an f32
/// sum of K terms grow like sqrt(K) for these random signs; a skipped block,
/// a wrong scale or a misplaced nibble moves the result by a share of the
/// sum of order 1/sqrt(K) or more, far outside).
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    pub want: f64,
    pub tol: f64,
}

impl Expect {
    pub fn accepts(&self, got: f32) -> bool {
        (got as f64 - self.want).abs() <= self.tol
    }
}

/// The expected outputs of `rows` of the matrix (`format`, hash `key`, `k`
/// columns) for each activation vector in `xs`: `[row][vector]`. Rows are
/// shared among the host's cores.
pub fn expected(
    format: Format,
    key: u32,
    k: u64,
    rows: &[u64],
    xs: &[Vec<f32>],
) -> Vec<Vec<Expect>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = rows.len().div_ceil(threads).max(1);
    let tol_factor = 4.0 * f32::EPSILON as f64 * (k as f64).sqrt();
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|&r| {
                            let w = weight_row(format, key, r, k);
                            xs.iter()
                                .map(|x| {
                                    let (mut sum, mut abs) = (0.0f64, 0.0f64);
                                    for (wi, xi) in w.iter().zip(x) {
                                        let p = wi * *xi as f64;
                                        sum += p;
                                        abs += p.abs();
                                    }
                                    Expect {
                                        want: sum,
                                        tol: tol_factor * abs + f32::MIN_POSITIVE as f64,
                                    }
                                })
                                .collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("reference thread"))
            .collect()
    })
}

/// Disagreements, counted, with the first few described.
#[derive(Debug, Default)]
pub struct Tally {
    pub compared: u64,
    pub wrong: u64,
    pub first: Vec<String>,
}

impl Tally {
    pub fn record(&mut self, got: f32, e: Expect, what: impl FnOnce() -> String) {
        self.compared += 1;
        if !e.accepts(got) {
            self.wrong += 1;
            if self.first.len() < 3 {
                self.first.push(format!(
                    "{} = {got} but {} was expected (tolerance {:.2e})",
                    what(),
                    e.want,
                    e.tol
                ));
            }
        }
    }
}
