//! The CPU reference: the same generated blocks dequantized exactly and
//! accumulated in f64, compared output by output with a tolerance that
//! grows with K and with the number of repetitions added into the output.

use super::formats::{weight_row, Format};
use crate::harness::Check;

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

    /// What an output holds after the repetitions added their products into
    /// it in f32, starting from zero: window `w`'s product `per_window[w]`
    /// `counts[w]` times. The tolerance is each repetition's own, times its
    /// count, plus the rounding of the running sum: at most N additions,
    /// each off by at most ε times a partial sum, and no partial sum is
    /// larger than Σ_w counts[w]·(|want_w| + tol_w).
    pub fn accumulated(per_window: &[Expect], counts: &[u64]) -> Expect {
        let n: u64 = counts.iter().sum();
        let (mut want, mut tol, mut bound) = (0.0, 0.0, 0.0);
        for (e, &c) in per_window.iter().zip(counts) {
            let c = c as f64;
            want += c * e.want;
            tol += c * e.tol;
            bound += c * (e.want.abs() + e.tol);
        }
        Expect {
            want,
            tol: tol + f32::EPSILON as f64 * n as f64 * bound + f32::MIN_POSITIVE as f64,
        }
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

/// Exact zeros an f32 sum of random products reaches by chance among `n`
/// outputs: a sum of terms of order 1 ends exactly on 0.0 with a
/// probability of about one ulp over its spread (~1e-7), so millions of
/// outputs hold one now and then (a 512-token prefill of a Llama-2 matrix
/// has 5.6 million). One in 2^18 and one more; an output left unwritten
/// by a kernel that skips work comes in rows, tiles or products, far more.
pub fn chance_zeros(n: usize) -> usize {
    1 + (n >> 18)
}

/// Fails `check` where an output of `y` is not a number, or where more are
/// still zero than chance gives ([`chance_zeros`]): no repetition reached
/// them. `name` names the matrix in the messages, where there are several.
pub fn check_written(y: &[f32], name: Option<&str>, check: &mut Check) {
    let of = name.map_or(String::new(), |n| format!("{n} "));
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        check.fail(format!("{of}output {i} of {} is {}", y.len(), y[i]));
    }
    let zeros = y.iter().filter(|v| **v == 0.0).count();
    if zeros > chance_zeros(y.len()) {
        let i = y.iter().position(|v| *v == 0.0).unwrap_or(0);
        check.fail(format!(
            "{zeros} of {} {of}outputs are still zero (never written), the first is output {i}",
            y.len()
        ));
    } else if zeros > 0 {
        check.fact("exact_zero_outputs", zeros);
    }
}

/// Disagreements, counted, with the first few described, and what the
/// wrong outputs hold instead where that has a name.
#[derive(Debug, Default)]
pub struct Tally {
    pub compared: u64,
    pub wrong: u64,
    pub first: Vec<String>,
    /// Wrong outputs that hold one repetition's product.
    one_rep: u64,
    /// Wrong outputs that hold only window w's repetitions, per window.
    one_window: Vec<u64>,
    /// The repetitions each window had.
    counts: Vec<u64>,
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

    /// Compares an output that every repetition added to (see
    /// [`Expect::accumulated`]); a wrong one is also matched against one
    /// repetition's product (a kernel that stops once its output is
    /// written) and against one window's repetitions alone (a kernel that
    /// works on some repetitions only).
    pub fn record_sum(
        &mut self,
        got: f32,
        per_window: &[Expect],
        counts: &[u64],
        what: impl FnOnce() -> String,
    ) {
        let before = self.wrong;
        self.record(got, Expect::accumulated(per_window, counts), what);
        if self.wrong == before {
            return;
        }
        self.counts = counts.to_vec();
        self.one_window.resize(per_window.len(), 0);
        if per_window.iter().any(|e| e.accepts(got)) {
            self.one_rep += 1;
        }
        for (w, (e, &c)) in per_window.iter().zip(counts).enumerate() {
            if Expect::accumulated(&[*e], &[c]).accepts(got) {
                self.one_window[w] += 1;
            }
        }
    }

    /// The failure, or None when every output agreed.
    pub fn failure(&self) -> Option<String> {
        if self.wrong == 0 {
            return None;
        }
        let mut msg = format!(
            "{} of {} outputs disagree with the CPU reference; first: {}",
            self.wrong,
            self.compared,
            self.first.join("; ")
        );
        let n: u64 = self.counts.iter().sum();
        if self.one_rep == self.wrong {
            msg.push_str(&format!(
                "; every wrong output holds one repetition's product, not the sum of all {n} \
                 (the repetitions after the first added nothing)"
            ));
        } else if let Some(w) = self.one_window.iter().position(|&c| c == self.wrong) {
            msg.push_str(&format!(
                "; every wrong output holds only the {} repetitions that read activation \
                 window {w} of {n} (the others added nothing)",
                self.counts[w]
            ));
        }
        Some(msg)
    }
}

#[cfg(test)]
mod written_tests {
    use super::*;

    #[test]
    fn a_chance_zero_passes_and_a_skipped_row_does_not() {
        let mut y: Vec<f32> = (0..1000).map(|i| 1.0 + i as f32).collect();
        y[17] = 0.0;
        let mut check = Check::default();
        check_written(&y, None, &mut check);
        assert!(check.ok(), "{:?}", check.problems);
        y[18] = 0.0;
        let mut check = Check::default();
        check_written(&y, None, &mut check);
        assert!(!check.ok());
        let mut big = vec![1.0f32; 6_000_000];
        big[..20].fill(0.0);
        let mut check = Check::default();
        check_written(&big, Some("up"), &mut check);
        assert!(check.ok(), "{:?}", check.problems);
        big[..4096].fill(0.0);
        let mut check = Check::default();
        check_written(&big, Some("up"), &mut check);
        assert!(!check.ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(want: f64) -> Expect {
        Expect { want, tol: 1e-3 }
    }

    #[test]
    fn an_accumulated_output_is_every_window_times_its_count() {
        let sum = Expect::accumulated(&[e(2.0), e(-3.0)], &[5, 4]);
        assert_eq!(sum.want, 5.0 * 2.0 - 4.0 * 3.0);
        assert!(sum.accepts(-2.0));
        // The tolerance grows with the repetitions but stays far below one
        // repetition's product here.
        assert!(sum.tol > 9e-3 && sum.tol < 0.1, "{}", sum.tol);
        assert!(
            !sum.accepts(-2.0 + 2.0),
            "one window-0 repetition short passed"
        );
    }

    #[test]
    fn outputs_of_one_repetition_or_one_window_are_named() {
        let windows = [e(2.0), e(-3.0)];
        let counts = [5, 4];
        let mut memo = Tally::default();
        let mut half = Tally::default();
        let mut right = Tally::default();
        for _ in 0..3 {
            memo.record_sum(2.0, &windows, &counts, || "memo".into());
            half.record_sum(10.0, &windows, &counts, || "half".into());
            right.record_sum(-2.0, &windows, &counts, || "right".into());
        }
        let memo = memo.failure().expect("memoised outputs fail");
        assert!(memo.contains("holds one repetition's product"), "{memo}");
        let half = half.failure().expect("half the repetitions fail");
        assert!(
            half.contains("only the 5 repetitions that read activation window 0 of 9"),
            "{half}"
        );
        assert!(right.failure().is_none());
    }
}
