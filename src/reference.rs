//! Real Bitcoin block headers with their published hashes: known answers
//! for the hash loop.

pub struct KnownBlock {
    pub height: u32,
    pub header_hex: &'static str,
    pub hash_hex: &'static str,
}

pub const KNOWN_BLOCKS: [KnownBlock; 3] = [
    KnownBlock {
        height: 0,
        header_hex: "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
        hash_hex: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    },
    KnownBlock {
        height: 1,
        header_hex: "010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299",
        hash_hex: "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
    },
    KnownBlock {
        height: 125552,
        header_hex: "0100000081cd02ab7e569e8bcd9317e2fe99f2de44d49ab2b8851ba4a308000000000000e320b6c2fffc8d750423db8b1eb942ae710e951ed797f7affc8892b0f1fc122bc7f5d74df2b9441a42a14695",
        hash_hex: "00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d",
    },
];

impl KnownBlock {
    pub fn header(&self) -> crate::sha::Header {
        crate::sha::parse_header(self.header_hex).expect("reference header is valid")
    }

    pub fn nonce(&self) -> u32 {
        let h = self.header();
        u32::from_le_bytes([h[76], h[77], h[78], h[79]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sha;

    #[test]
    fn reference_headers_hash_to_their_published_hashes() {
        for b in &KNOWN_BLOCKS {
            let h = b.header();
            let hash = sha::block_hash(&h, b.nonce());
            assert_eq!(sha::display_hex(&hash), b.hash_hex, "block {}", b.height);
            let t = sha::Target::from_bits(sha::header_bits(&h)).unwrap();
            assert!(t.is_met_by(&hash), "block {}", b.height);
            let p = sha::prepare(&h);
            assert_eq!(sha::finish_prepared(&p, b.nonce()), hash);
        }
    }
}
