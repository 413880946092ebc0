//! Human-readable numbers for the terminal. Files keep base SI units.

/// `1.234e9, "H/s"` -> `1.23 GH/s` (decimal prefixes: GB means 10^9 bytes).
/// Token rates go through [`tokens_per_s`] instead.
pub fn si(value: f64, unit: &str) -> String {
    if unit == TOKENS_PER_S {
        return tokens_per_s(value);
    }
    if !value.is_finite() {
        return format!("{value} {unit}");
    }
    let prefixes = [
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
    ];
    let a = value.abs();
    for (scale, p) in prefixes {
        if a >= scale {
            return format!("{} {p}{unit}", sig3(value / scale));
        }
    }
    format!("{} {unit}", sig3(value))
}

/// Three significant digits without scientific notation.
fn sig3(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The unit of token rates.
pub const TOKENS_PER_S: &str = "tok/s";

/// A token rate: never an SI prefix ("mtok/s" reads as millions), and
/// three significant digits at any magnitude, so a software adapter's
/// 0.0131 tok/s does not print as 0.0 or 0.01.
pub fn tokens_per_s(x: f64) -> String {
    format!("{} {TOKENS_PER_S}", num(x))
}

/// A range of token rates: `0.0079-0.0112 tok/s`.
pub fn tokens_per_s_range(lo: f64, hi: f64) -> String {
    format!("{}-{} {TOKENS_PER_S}", num(lo), num(hi))
}

/// Byte counts with binary prefixes, labelled as such (MiB, GiB).
pub fn bytes(b: f64) -> String {
    const K: f64 = 1024.0;
    if b >= K * K * K {
        format!("{:.1} GiB", b / (K * K * K))
    } else if b >= K * K {
        format!("{:.1} MiB", b / (K * K))
    } else if b >= K {
        format!("{:.1} KiB", b / K)
    } else {
        format!("{b:.0} B")
    }
}

/// Three significant digits at any magnitude: 0.122, 1.22, 12.2, 122, 1220.
pub fn num(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let digits = 2 - x.abs().log10().floor() as i32;
    if digits <= 0 {
        format!("{x:.0}")
    } else {
        format!("{x:.*}", digits as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_decimal() {
        assert_eq!(si(5.528e9, "H/s"), "5.53 GH/s");
        assert_eq!(si(2.9e12, "B/s"), "2.90 TB/s");
        assert_eq!(si(950.0, "B/s"), "950 B/s");
        assert_eq!(si(1.5e-5, "s"), "15.0 µs");
        assert_eq!(bytes(256.0 * 1024.0 * 1024.0), "256.0 MiB");
    }

    #[test]
    fn token_rates_keep_their_digits_at_any_size() {
        assert_eq!(tokens_per_s(0.0131), "0.0131 tok/s");
        assert_eq!(tokens_per_s(0.00413), "0.00413 tok/s");
        assert_eq!(tokens_per_s(0.1), "0.100 tok/s");
        assert_eq!(tokens_per_s(9.5), "9.50 tok/s");
        assert_eq!(tokens_per_s(95.0), "95.0 tok/s");
        assert_eq!(tokens_per_s(1234.0), "1234 tok/s");
        assert_eq!(tokens_per_s(0.0), "0 tok/s");
        // The results table and compare print rows through `si`.
        assert_eq!(si(0.0147, "tok/s"), "0.0147 tok/s");
        assert_eq!(si(1500.0, "tok/s"), "1500 tok/s");
        assert_eq!(tokens_per_s_range(0.0079, 0.0112), "0.00790-0.0112 tok/s");
        // Every small rate shows at least two significant digits.
        for x in [0.013, 0.0013, 0.00013, 0.13, 0.99] {
            let s = num(x);
            let digits = s.trim_start_matches(['0', '.']).len();
            assert!(digits >= 2, "{x} -> {s}");
            assert!(
                (s.parse::<f64>().unwrap() / x - 1.0).abs() < 0.01,
                "{x} -> {s}"
            );
        }
    }
}
