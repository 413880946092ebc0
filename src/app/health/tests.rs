//! When a soak counts as judged, and the soak figures health reads.

use super::*;

fn soaked(status: &str, seconds: f64, points: usize) -> soak::Stability {
    let series = soak::Series {
        kernel: "soak_fma".parse().unwrap(),
        unit: "FLOP/s".into(),
        points: vec![(0.0, 1.0); points],
        first_window: 1.0,
        last_window: 1.0,
        drop_pct: 0.0,
        worst_over_best: 1.0,
    };
    soak::Stability {
        status: status.into(),
        seconds,
        intervals: points * 3,
        window_s: 60.0,
        worst_over_best: Some(1.0),
        worst_drop_pct: Some(0.0),
        results_differ: status == "results differ",
        interrupted: false,
        series: vec![series],
        finding: String::new(),
    }
}

#[test]
fn a_soak_is_judged_only_when_long_enough() {
    use verdict::Stability as S;
    assert_eq!(
        stability_fact(&soaked("stable", 280.0, 10), 20.0),
        S::Stable { seconds: 280.0 }
    );
    // Too short in time, or too few intervals of a load.
    for (secs, points) in [(50.0, 10), (280.0, 2)] {
        match stability_fact(&soaked("stable", secs, points), 20.0) {
            S::NotJudged(why) => assert!(
                why.contains("too short") && why.contains("--duration 2m"),
                "{why}"
            ),
            other => panic!("{secs} s, {points} points: {other:?}"),
        }
    }
    let mut cut = soaked("stable", 280.0, 10);
    cut.interrupted = true;
    assert!(matches!(stability_fact(&cut, 20.0), S::NotJudged(_)));
    assert!(matches!(
        stability_fact(&soaked("not judged", 280.0, 10), 20.0),
        S::NotJudged(_)
    ));
    for bad in ["unstable", "results differ"] {
        assert_eq!(stability_fact(&soaked(bad, 280.0, 10), 20.0), S::Faulty);
    }
}
