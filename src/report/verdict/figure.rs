//! The figures a finding rests on, as data: each with its unit, basis and
//! source. A finding's sentence shows its figures through [`Draft::put`],
//! so the text and the figures a program reads cannot disagree.

use serde::{Serialize, Serializer};

use super::{Finding, Stance};
use crate::catalogue::Kernel;
use crate::units::{num, si, tokens_per_s};

/// Where a figure comes from.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Measured by this run, by the kernel its source names.
    Measured,
    /// Computed from other figures, by the rule its source names.
    Derived,
    /// Published by others (a reference card's figure, the PCIe classes).
    Published,
    /// Reported by the driver or the operating system (memory sizes).
    Reported,
}

impl Basis {
    /// As the JSON writes it: `measured`, `derived`.
    pub fn word(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::Derived => "derived",
            Basis::Published => "published",
            Basis::Reported => "reported",
        }
    }
}

/// A figure's unit; in the JSON, its symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    TokensPerS,
    BytesPerS,
    Bytes,
    FlopPerS,
    HashPerS,
    Percent,
    /// A plain ratio of two figures of one unit.
    Ratio,
    Seconds,
    /// Joules (energy per token).
    Joules,
    /// An amount in the currency of `run --power-price`, whichever it is.
    Money,
}

impl Unit {
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::TokensPerS => crate::units::TOKENS_PER_S,
            Unit::BytesPerS => "B/s",
            Unit::Bytes => "B",
            Unit::FlopPerS => "FLOP/s",
            Unit::HashPerS => "H/s",
            Unit::Percent => "%",
            Unit::Ratio => "ratio",
            Unit::Seconds => "s",
            Unit::Joules => "J",
            Unit::Money => "money",
        }
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.symbol())
    }
}

/// One figure of a finding.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figure {
    /// What it is within the finding: `decode`, `bound`, `ceiling`.
    pub name: &'static str,
    /// In base units (B/s, not GB/s).
    pub value: f64,
    pub unit: Unit,
    pub basis: Basis,
    /// The kernel that measured it, the rule that derived it, or the
    /// publication (or driver) that gave it.
    pub source: String,
    /// What it is a figure of, when not this adapter: a reference card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// How a figure names the kernel that measured it: a stream kernel with its
/// suite ("stream copy"), since "copy" alone says little.
pub fn source_of(kernel: Kernel) -> String {
    match kernel {
        Kernel::Stream(_) => format!("{} {kernel}", kernel.suite()),
        _ => kernel.to_string(),
    }
}

impl Figure {
    fn new(name: &'static str, value: f64, unit: Unit, basis: Basis, source: String) -> Figure {
        Figure {
            name,
            value,
            unit,
            basis,
            source,
            of: None,
        }
    }

    pub fn measured(name: &'static str, value: f64, unit: Unit, kernel: Kernel) -> Figure {
        Figure::new(name, value, unit, Basis::Measured, source_of(kernel))
    }

    pub fn derived(name: &'static str, value: f64, unit: Unit, rule: impl Into<String>) -> Figure {
        Figure::new(name, value, unit, Basis::Derived, rule.into())
    }

    pub fn reported(name: &'static str, value: f64, unit: Unit, by: impl Into<String>) -> Figure {
        Figure::new(name, value, unit, Basis::Reported, by.into())
    }

    /// A published figure of `of` (a card), from `source`.
    pub fn published(
        name: &'static str,
        value: f64,
        unit: Unit,
        of: Option<&str>,
        source: impl Into<String>,
    ) -> Figure {
        Figure {
            of: of.map(str::to_string),
            ..Figure::new(name, value, unit, Basis::Published, source.into())
        }
    }

    /// The figure as its sentence shows it: "1.20 TB/s", "95.0 tok/s".
    pub fn shown(&self) -> String {
        let v = self.value;
        match self.unit {
            Unit::TokensPerS => tokens_per_s(v),
            Unit::BytesPerS | Unit::Bytes | Unit::FlopPerS | Unit::HashPerS | Unit::Joules => {
                si(v, self.unit.symbol())
            }
            Unit::Percent => format!("{} %", num(v)),
            Unit::Ratio | Unit::Money => num(v),
            Unit::Seconds => format!("{v:.0} s"),
        }
    }
}

/// A finding being written: every figure its sentence shows goes through
/// [`Draft::put`], which keeps it.
#[derive(Default)]
pub struct Draft {
    figures: Vec<Figure>,
}

impl Draft {
    pub fn new() -> Draft {
        Draft::default()
    }

    /// Keeps `f` and gives it as the sentence shows it.
    pub fn put(&mut self, f: Figure) -> String {
        let shown = f.shown();
        self.figures.push(f);
        shown
    }

    pub fn finish(self, code: &'static str, stance: Stance, text: String) -> Finding {
        Finding {
            code,
            stance,
            text,
            figures: self.figures,
        }
    }
}
