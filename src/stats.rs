//! Samples to median / min / max / coefficient of variation.

use serde::Serialize;

#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Standard deviation over mean, in percent (sample standard deviation).
    pub cv_pct: f64,
    pub n: usize,
}

impl Summary {
    /// Summarises `xs`; `None` when there are no samples, so a missing result
    /// can never turn into a zero.
    pub fn of(xs: &[f64]) -> Option<Summary> {
        if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mut v = xs.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        let mean = v.iter().sum::<f64>() / n as f64;
        let cv_pct = if n > 1 && mean != 0.0 {
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            100.0 * var.sqrt() / mean.abs()
        } else {
            0.0
        };
        Some(Summary {
            median,
            min: v[0],
            max: v[n - 1],
            cv_pct,
            n,
        })
    }

    /// Converts a summary of sample times into one of rates (`work / time`):
    /// the fastest time is the highest rate.
    pub fn rate_from_times(times: &[f64], work: f64) -> Option<Summary> {
        let rates: Vec<f64> = times.iter().map(|t| work / t).collect();
        if times.iter().any(|&t| t <= 0.0) {
            return None;
        }
        Summary::of(&rates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_max_cv() {
        let s = Summary::of(&[3.0, 1.0, 2.0, 4.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 4.0);
        assert!((s.cv_pct - 51.639777).abs() < 1e-4, "{}", s.cv_pct);
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn rates_from_times() {
        let s = Summary::rate_from_times(&[0.5, 0.25, 1.0], 100.0).unwrap();
        assert_eq!(s.median, 200.0);
        assert_eq!(s.max, 400.0);
        assert_eq!(s.min, 100.0);
        assert!(Summary::rate_from_times(&[0.0], 1.0).is_none());
    }
}
