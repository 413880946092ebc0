//! The PCIe generations (PCI-SIG's base specifications): the transfer rate
//! per lane, the line encoding, and what that leaves per lane and
//! direction. NVML reports a generation, sysfs a rate, the transfer suite
//! judges a measured plateau: all of them read this one table.

/// One generation of PCIe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Generation {
    /// As people write it: `3.0`.
    pub name: &'static str,
    /// As NVML numbers it: 3.
    pub number: u32,
    /// Transfers per second per lane, in GT/s.
    pub gts: f64,
    /// The line encoding, in words.
    pub encoding: &'static str,
    /// Of every `encoded.1` bits sent, `encoded.0` carry data.
    pub encoded: (u32, u32),
    /// Data per lane and direction after the encoding, in GB/s, as the
    /// specification's tables round it.
    pub gb_per_lane: f64,
}

impl Generation {
    /// Data per lane and direction from the rate and the encoding, in GB/s.
    pub fn derived_gb_per_lane(&self) -> f64 {
        self.gts * self.encoded.0 as f64 / self.encoded.1 as f64 / 8.0
    }

    /// Data per direction of a link of `lanes` lanes, in B/s.
    pub fn bytes_per_s(&self, lanes: u32) -> f64 {
        self.gb_per_lane * lanes as f64 * 1e9
    }
}

const fn gen(
    name: &'static str,
    number: u32,
    gts: f64,
    encoding: &'static str,
    encoded: (u32, u32),
    gb_per_lane: f64,
) -> Generation {
    Generation {
        name,
        number,
        gts,
        encoding,
        encoded,
        gb_per_lane,
    }
}

/// Oldest first.
pub const GENERATIONS: [Generation; 6] = [
    gen("1.0", 1, 2.5, "8b/10b", (8, 10), 0.25),
    gen("2.0", 2, 5.0, "8b/10b", (8, 10), 0.5),
    gen("3.0", 3, 8.0, "128b/130b", (128, 130), 0.985),
    gen("4.0", 4, 16.0, "128b/130b", (128, 130), 1.969),
    gen("5.0", 5, 32.0, "128b/130b", (128, 130), 3.938),
    // PAM4 with 256-byte FLITs, 242 bytes of which carry data and link
    // layer (the rest CRC and FEC).
    gen("6.0", 6, 64.0, "1b/1b FLIT", (242, 256), 7.563),
];

/// The generation numbered `number` (NVML's `pcie link gen`).
pub fn by_number(number: u32) -> Option<&'static Generation> {
    GENERATIONS.iter().find(|g| g.number == number)
}

/// The generation named `name` (`3.0`).
pub fn by_name(name: &str) -> Option<&'static Generation> {
    GENERATIONS.iter().find(|g| g.name == name)
}

/// The generation whose rate is `gts` GT/s; sysfs writes `8.0 GT/s` and
/// `8 GT/s` alike, and older kernels `2.5 GT/s` for Gen1.
pub fn by_gts(gts: f64) -> Option<&'static Generation> {
    GENERATIONS.iter().find(|g| (g.gts - gts).abs() < 1e-6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lane_rate_follows_from_its_transfer_rate_and_encoding() {
        for g in &GENERATIONS {
            let share = g.derived_gb_per_lane() / g.gb_per_lane;
            assert!((share - 1.0).abs() < 1e-3, "{}: {share}", g.name);
        }
        // Every generation about doubles the data rate: 3.0 with 8 GT/s and
        // a lighter encoding rather than 10 GT/s, 6.0 less its FLIT overhead.
        for w in GENERATIONS.windows(2) {
            let share = w[1].gb_per_lane / w[0].gb_per_lane;
            assert!((share - 2.0).abs() < 0.1, "{}: {share}", w[1].name);
            assert_eq!(w[1].number, w[0].number + 1);
        }
    }

    #[test]
    fn generations_are_found_by_number_name_and_rate() {
        assert_eq!(by_number(3).map(|g| g.gts), Some(8.0));
        assert_eq!(by_number(7), None);
        assert_eq!(by_name("4.0").map(|g| g.number), Some(4));
        assert_eq!(by_gts(2.5).map(|g| g.name), Some("1.0"));
        assert_eq!(by_gts(3.0), None);
        assert_eq!(by_name("3.0").unwrap().bytes_per_s(16), 0.985 * 16.0 * 1e9);
    }
}
