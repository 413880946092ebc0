//! The verdict on one card, decided in one function ([`judge`]) from typed
//! facts: how much of the memory was tested, whether stability was judged,
//! and whether the link and power were read.
//!
//! The rule: `faulty` when a fault was found (memory errors, results that
//! differ under load, throughput that did not hold), even when Ctrl-C cut
//! the run short; else `interrupted` when Ctrl-C did; else `healthy` only
//! when the memory was fully tested (see `vram::sizing::full_coverage`) and
//! stability was judged stable; else `incomplete`. A link or power reading
//! the system does not give (no telemetry source, a CPU adapter) is "not
//! available": said in the verdict's detail, but it does not by itself keep
//! a card from `healthy` (hashflops reads every source it knows for the
//! whole run, so a quantity none of them gave is one this system does not
//! expose).

use serde::Serialize;

use crate::catalogue::Quantity;

const MIB: f64 = (1u64 << 20) as f64;
const GIB: f64 = (1u64 << 30) as f64;

/// What the VRAM test found.
#[derive(Clone, Debug, PartialEq)]
pub enum Memory {
    /// It did not run or did not finish (a failure, or Ctrl-C).
    NotRun,
    /// Errors: the memory is faulty.
    Faulty,
    /// No errors in `tested` bytes; `full` is what full coverage needs,
    /// `None` where the size of the memory is unknown; `rule` says how.
    Clean {
        tested: u64,
        full: Option<u64>,
        rule: String,
    },
}

/// What the soak found.
#[derive(Clone, Debug, PartialEq)]
pub enum Stability {
    /// It did not run or did not finish (a failure, or Ctrl-C).
    NotRun,
    /// Results differed from the reference, or throughput did not hold.
    Faulty,
    /// Correct results and steady throughput over `seconds`, long enough
    /// to judge.
    Stable { seconds: f64 },
    /// Correct results, but stability was not judged: why.
    NotJudged(String),
}

/// Whether the link or the power was read.
#[derive(Clone, Debug, PartialEq)]
pub enum Reading {
    Read,
    /// No source on this system gave it: why.
    NotAvailable(String),
}

/// Everything the verdict rests on.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub memory: Memory,
    pub stability: Stability,
    pub link: Reading,
    pub power: Reading,
    pub interrupted: bool,
}

/// The verdict on one card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Fully tested, stable, no fault.
    Healthy,
    /// No fault found, but not everything was covered.
    Incomplete,
    /// A fault was found.
    Faulty,
    /// Ctrl-C came before a fault was found or the card was fully tested.
    Interrupted,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Incomplete => "incomplete",
            Verdict::Faulty => "faulty",
            Verdict::Interrupted => "interrupted",
        }
    }
}

/// The verdict, and in a line or two what was covered and what was not.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub detail: String,
}

fn size(b: u64) -> String {
    if b as f64 >= GIB {
        format!("{:.2} GiB", b as f64 / GIB)
    } else {
        format!("{:.0} MiB", b as f64 / MIB)
    }
}

/// What the facts say was covered, was not, and was found wrong.
#[derive(Default)]
struct Coverage {
    covered: Vec<String>,
    missing: Vec<String>,
    faults: Vec<&'static str>,
}

impl Coverage {
    fn memory(&mut self, m: &Memory) {
        match m {
            Memory::NotRun => self
                .missing
                .push("memory: the VRAM test did not finish".to_string()),
            Memory::Faulty => self.faults.push("memory errors"),
            Memory::Clean {
                tested,
                full: Some(full),
                rule,
            } if tested >= full => self
                .covered
                .push(format!("memory in full ({}; {rule})", size(*tested))),
            Memory::Clean {
                tested,
                full: Some(full),
                rule,
            } => self.missing.push(format!(
                "memory: {} tested of the {} full coverage needs ({rule})",
                size(*tested),
                size(*full)
            )),
            Memory::Clean {
                tested,
                full: None,
                rule,
            } => self.missing.push(format!(
                "memory: {} tested, full coverage unknown ({rule})",
                size(*tested)
            )),
        }
    }

    fn stability(&mut self, s: &Stability) {
        match s {
            Stability::NotRun => self
                .missing
                .push("stability: the soak did not finish".to_string()),
            Stability::Faulty => self
                .faults
                .push("results wrong or throughput unsteady under load"),
            Stability::Stable { seconds } => {
                self.covered.push(format!("stable over {seconds:.0} s"))
            }
            Stability::NotJudged(why) => self.missing.push(format!("stability not judged ({why})")),
        }
    }

    /// The link and power read go to what was covered; those not available
    /// come back as a remark, since the verdict does not need them.
    fn readings(&mut self, f: &Facts) -> Option<String> {
        let both = [
            (Quantity::Link.name(), &f.link),
            (Quantity::Power.name(), &f.power),
        ];
        let unavailable: Vec<&str> = both
            .iter()
            .filter(|(_, r)| matches!(r, Reading::NotAvailable(_)))
            .map(|(q, _)| *q)
            .collect();
        let read: Vec<&str> = both
            .iter()
            .filter(|(_, r)| **r == Reading::Read)
            .map(|(q, _)| *q)
            .collect();
        if !read.is_empty() {
            self.covered.push(format!("{} read", read.join(" and ")));
        }
        match unavailable.as_slice() {
            [] => None,
            qs => Some(format!(
                "{} not available on this system (the verdict does not require {})",
                qs.join(" and "),
                if qs.len() == 1 { "it" } else { "them" }
            )),
        }
    }

    /// The verdict and its detail, faults first, then Ctrl-C.
    fn conclude(&self, interrupted: bool) -> (Verdict, String) {
        let list = |v: &[String]| {
            if v.is_empty() {
                "nothing".to_string()
            } else {
                v.join("; ")
            }
        };
        let (covered, missing) = (list(&self.covered), list(&self.missing));
        if !self.faults.is_empty() {
            (
                Verdict::Faulty,
                format!("found: {}", self.faults.join("; ")),
            )
        } else if interrupted {
            (
                Verdict::Interrupted,
                format!("cut short by Ctrl-C; covered: {covered}; not covered: {missing}"),
            )
        } else if self.missing.is_empty() {
            (Verdict::Healthy, format!("covered: {covered}"))
        } else {
            (
                Verdict::Incomplete,
                format!("covered: {covered}\n  not covered: {missing}"),
            )
        }
    }
}

/// The verdict from the facts: the one place it is decided.
pub fn judge(f: &Facts) -> Judgement {
    let mut c = Coverage::default();
    c.memory(&f.memory);
    c.stability(&f.stability);
    let not_available = c.readings(f);
    let (verdict, detail) = c.conclude(f.interrupted);
    let detail = match not_available {
        Some(n) if verdict != Verdict::Faulty => format!("{detail}; {n}"),
        _ => detail,
    };
    Judgement { verdict, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    fn full_memory() -> Memory {
        Memory::Clean {
            tested: 23 * GB,
            full: Some(23 * GB),
            rule: "rule".into(),
        }
    }

    fn facts(memory: Memory, stability: Stability, link: Reading, power: Reading) -> Facts {
        Facts {
            memory,
            stability,
            link,
            power,
            interrupted: false,
        }
    }

    fn na() -> Reading {
        Reading::NotAvailable("no source".into())
    }

    fn stable() -> Stability {
        Stability::Stable { seconds: 280.0 }
    }

    /// Every combination of the facts, against the rule written out.
    #[test]
    fn every_combination_of_facts_gets_the_rules_verdict() {
        let memories = [
            Memory::NotRun,
            Memory::Faulty,
            full_memory(),
            Memory::Clean {
                tested: GB,
                full: Some(23 * GB),
                rule: "rule".into(),
            },
            Memory::Clean {
                tested: GB,
                full: None,
                rule: "unknown".into(),
            },
        ];
        let stabilities = [
            Stability::NotRun,
            Stability::Faulty,
            stable(),
            Stability::NotJudged("CPU adapter".into()),
        ];
        let readings = [Reading::Read, na()];
        for m in &memories {
            for s in &stabilities {
                for l in &readings {
                    for p in &readings {
                        for interrupted in [false, true] {
                            let f = Facts {
                                interrupted,
                                ..facts(m.clone(), s.clone(), l.clone(), p.clone())
                            };
                            let fault = *m == Memory::Faulty || *s == Stability::Faulty;
                            let full = *m == full_memory() && *s == stable();
                            let want = if fault {
                                Verdict::Faulty
                            } else if interrupted {
                                Verdict::Interrupted
                            } else if full {
                                Verdict::Healthy
                            } else {
                                Verdict::Incomplete
                            };
                            let j = judge(&f);
                            assert_eq!(j.verdict, want, "{f:?}: {}", j.detail);
                            assert!(j.detail.lines().count() <= 2, "{}", j.detail);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn healthy_says_what_was_covered_and_what_is_not_available() {
        let j = judge(&facts(
            full_memory(),
            stable(),
            Reading::Read,
            Reading::Read,
        ));
        assert_eq!(j.verdict, Verdict::Healthy);
        assert_eq!(
            j.detail,
            "covered: memory in full (23.00 GiB; rule); stable over 280 s; link and power read"
        );
        let j = judge(&facts(full_memory(), stable(), Reading::Read, na()));
        assert_eq!(j.verdict, Verdict::Healthy);
        assert!(
            j.detail
                .ends_with("power not available on this system (the verdict does not require it)"),
            "{}",
            j.detail
        );
    }

    #[test]
    fn one_percent_of_the_memory_and_stability_not_judged_is_incomplete() {
        // The finding: 1 % of the VRAM, stability not judged, link and
        // power unavailable.
        let j = judge(&facts(
            Memory::Clean {
                tested: 16 << 20,
                full: Some(GB),
                rule: "the rule".into(),
            },
            Stability::NotJudged("a CPU adapter shares its cores".into()),
            na(),
            na(),
        ));
        assert_eq!(j.verdict, Verdict::Incomplete);
        assert_eq!(
            j.detail,
            "covered: nothing\n  not covered: memory: 16 MiB tested of the 1.00 GiB full coverage \
             needs (the rule); stability not judged (a CPU adapter shares its cores); \
             link and power not available on this system (the verdict does not require them)"
        );
    }

    #[test]
    fn a_fault_found_before_ctrl_c_stands() {
        let f = Facts {
            interrupted: true,
            ..facts(Memory::Faulty, Stability::NotRun, na(), na())
        };
        // Cut short with nothing found: no word of health in the detail.
        let cut = Facts {
            interrupted: true,
            ..facts(full_memory(), Stability::NotRun, na(), na())
        };
        let j = judge(&cut);
        assert_eq!(j.verdict, Verdict::Interrupted);
        assert!(!j.detail.contains("health"), "{}", j.detail);
        let j = judge(&f);
        assert_eq!(j.verdict, Verdict::Faulty);
        assert_eq!(j.detail, "found: memory errors");
        assert_eq!(Verdict::Interrupted.as_str(), "interrupted");
        assert_eq!(
            serde_json::to_value(Verdict::Incomplete).unwrap(),
            "incomplete"
        );
    }
}
