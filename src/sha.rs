//! Bitcoin block headers, targets, the CPU reference for SHA-256d (from the
//! `sha2` crate, independent of the GPU code) and the host half of the
//! miner's tricks: the midstate and the first rounds of the second block.

use sha2::{Digest, Sha256};

pub const HEADER_LEN: usize = 80;
pub type Header = [u8; HEADER_LEN];

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Parses 160 hex digits into an 80-byte header.
pub fn parse_header(hex_str: &str) -> Result<Header, String> {
    let s = hex_str.trim();
    // Counted and located in characters, not bytes: a non-ASCII character
    // is one character of the header, not two wrong ones.
    let count = s.chars().count();
    if count != 2 * HEADER_LEN {
        return Err(format!(
            "a block header is 80 bytes = 160 hex digits, got {count} characters"
        ));
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "header is not valid hex: character {c:?} at position {i} is not a hex digit (a header is 160 hex digits)"
        ));
    }
    let bytes = hex::decode(s).map_err(|e| format!("header is not valid hex: {e}"))?;
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&bytes);
    Ok(h)
}

/// The header with its nonce field (bytes 76..80, little-endian) replaced.
pub fn with_nonce(header: &Header, nonce: u32) -> Header {
    let mut h = *header;
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// SHA-256(SHA-256(data)), in the hash's internal byte order.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    let first = Sha256::digest(data);
    Sha256::digest(first).into()
}

/// The block hash of `header` with `nonce`, internal byte order.
pub fn block_hash(header: &Header, nonce: u32) -> [u8; 32] {
    sha256d(&with_nonce(header, nonce))
}

/// A hash as block explorers print it: bytes reversed, hex.
pub fn display_hex(hash: &[u8; 32]) -> String {
    let mut r = *hash;
    r.reverse();
    hex::encode(r)
}

/// The most significant 32 bits of the hash read as a 256-bit little-endian
/// number: what the GPU compares with the target's top word.
pub fn hash_top_word(hash: &[u8; 32]) -> u32 {
    u32::from_le_bytes([hash[28], hash[29], hash[30], hash[31]])
}

/// A 256-bit target, stored big-endian (display order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target(pub [u8; 32]);

impl Target {
    /// Decodes the compact `bits` encoding of a header (mantissa * 256^(exponent-3)).
    pub fn from_bits(bits: u32) -> Result<Target, String> {
        let exp = (bits >> 24) as i32;
        let mantissa = bits & 0x007f_ffff;
        if bits & 0x0080_0000 != 0 {
            return Err(format!("header bits 0x{bits:08x} encode a negative target"));
        }
        if mantissa == 0 {
            return Err(format!("header bits 0x{bits:08x} encode a zero target"));
        }
        let mut t = [0u8; 32];
        let m = mantissa.to_be_bytes(); // m[1..4] are the three mantissa bytes
        for (i, &byte) in m[1..4].iter().enumerate() {
            // Byte i of the mantissa has weight 256^(exp - 1 - i).
            let pos = exp - 1 - i as i32;
            if byte == 0 {
                continue;
            }
            if !(0..32).contains(&pos) {
                if pos >= 32 {
                    return Err(format!(
                        "header bits 0x{bits:08x} encode a target above 2^256"
                    ));
                }
                continue;
            }
            t[31 - pos as usize] = byte;
        }
        if t == [0u8; 32] {
            return Err(format!("header bits 0x{bits:08x} encode a zero target"));
        }
        Ok(Target(t))
    }

    /// 64 hex digits, most significant first.
    pub fn from_hex(s: &str) -> Result<Target, String> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(format!(
                "a target is 64 hex digits, got {} characters",
                s.len()
            ));
        }
        let bytes = hex::decode(s).map_err(|e| format!("target is not valid hex: {e}"))?;
        let mut t = [0u8; 32];
        t.copy_from_slice(&bytes);
        if t == [0u8; 32] {
            return Err("a target of zero can never be met".into());
        }
        Ok(Target(t))
    }

    /// A share target: hashes with at least `n` leading zero bits,
    /// target = 2^(256-n) - 1.
    pub fn from_share_bits(n: u32) -> Result<Target, String> {
        if !(1..=255).contains(&n) {
            return Err(format!("share bits must be 1..=255, got {n}"));
        }
        let mut t = [0xffu8; 32];
        let full = (n / 8) as usize;
        for b in t.iter_mut().take(full) {
            *b = 0;
        }
        if full < 32 {
            t[full] = 0xff >> (n % 8);
        }
        Ok(Target(t))
    }

    pub fn top_word(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// hash (internal order) <= target.
    pub fn is_met_by(&self, hash: &[u8; 32]) -> bool {
        let mut h = *hash;
        h.reverse();
        h <= self.0
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Probability that one random hash passes the GPU's top-word filter.
    pub fn top_word_probability(&self) -> f64 {
        (self.top_word() as f64 + 1.0) / 4294967296.0
    }
}

pub fn header_bits(header: &Header) -> u32 {
    u32::from_le_bytes([header[72], header[73], header[74], header[75]])
}

pub fn header_time(header: &Header) -> u32 {
    u32::from_le_bytes([header[68], header[69], header[70], header[71]])
}

/// The nonce-independent part of a header's search, computed once on the
/// host: midstate, state after rounds 0..2 of the second block, and the
/// schedule words W16 and W17 (which read no nonce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub midstate: [u32; 8],
    pub state3: [u32; 8],
    pub w: [u32; 3],
    pub w16: u32,
    pub w17: u32,
}

fn be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn round(s: &mut [u32; 8], k: u32, w: u32) {
    let [a, b, c, d, e, f, g, h] = *s;
    let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
    let ch = (e & f) ^ (!e & g);
    let t1 = h
        .wrapping_add(s1)
        .wrapping_add(ch)
        .wrapping_add(k)
        .wrapping_add(w);
    let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
    let maj = (a & b) ^ (a & c) ^ (b & c);
    let t2 = s0.wrapping_add(maj);
    *s = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
}

fn ssig0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}

fn ssig1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}

pub fn prepare(header: &Header) -> Prepared {
    let mut midstate = IV;
    let block: [u8; 64] = header[..64].try_into().unwrap();
    sha2::compress256(&mut midstate, &[block.into()]);
    let w = [
        be(&header[64..68]),
        be(&header[68..72]),
        be(&header[72..76]),
    ];
    let mut state3 = midstate;
    for (i, &wi) in w.iter().enumerate() {
        round(&mut state3, K[i], wi);
    }
    // W16 = s1(W14) + W9 + s0(W1) + W0 with W9 = W14 = 0 (padding);
    // W17 = s1(W15) + W10 + s0(W2) + W1 with W10 = 0, W15 = 640 (bit length).
    let w16 = ssig0(w[1]).wrapping_add(w[0]);
    let w17 = ssig1(640).wrapping_add(ssig0(w[2])).wrapping_add(w[1]);
    Prepared {
        midstate,
        state3,
        w,
        w16,
        w17,
    }
}

/// The message schedule: words 16..64 from words 0..16.
fn expand(w: &mut [u32; 64]) {
    for i in 16..64 {
        w[i] = ssig1(w[i - 2])
            .wrapping_add(w[i - 7])
            .wrapping_add(ssig0(w[i - 15]))
            .wrapping_add(w[i - 16]);
    }
}

/// The same computation the GPU does, on the CPU, round for round: used to
/// test the host precomputation independently of any GPU.
pub fn finish_prepared(p: &Prepared, nonce: u32) -> [u8; 32] {
    let mut w = [0u32; 64];
    w[..3].copy_from_slice(&p.w);
    w[3] = nonce.swap_bytes();
    w[4] = 0x8000_0000;
    w[15] = 640;
    expand(&mut w);
    assert_eq!((w[16], w[17]), (p.w16, p.w17));
    let mut s = p.state3;
    for i in 3..64 {
        round(&mut s, K[i], w[i]);
    }
    let mut m = [0u32; 64];
    for i in 0..8 {
        m[i] = s[i].wrapping_add(p.midstate[i]);
    }
    m[8] = 0x8000_0000;
    m[15] = 256;
    expand(&mut m);
    let mut s2 = IV;
    for i in 0..64 {
        round(&mut s2, K[i], m[i]);
    }
    let mut out = [0u8; 32];
    for i in 0..8 {
        out[4 * i..4 * i + 4].copy_from_slice(&s2[i].wrapping_add(IV[i]).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const GENESIS: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

    #[test]
    fn nist_vectors() {
        // FIPS 180-2 examples; SHA-256d is SHA-256 applied twice.
        let abc = Sha256::digest(b"abc");
        assert_eq!(
            hex::encode(abc),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let two = Sha256::digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
        assert_eq!(
            hex::encode(two),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex::encode(sha256d(b"abc")),
            hex::encode(Sha256::digest(abc))
        );
    }

    #[test]
    fn targets() {
        let t = Target::from_bits(0x1d00ffff).unwrap();
        assert_eq!(
            t.hex(),
            "00000000ffff0000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(t.top_word(), 0);
        let t = Target::from_bits(0x1b0404cb).unwrap();
        assert_eq!(
            t.hex(),
            "00000000000404cb000000000000000000000000000000000000000000000000"
        );
        assert!(Target::from_bits(0x1d80ffff).is_err());
        assert!(Target::from_bits(0x23000001).is_err());
        let s = Target::from_share_bits(12).unwrap();
        assert_eq!(s.top_word(), 0x000fffff);
        assert!(Target::from_share_bits(0).is_err());
        assert!(Target::from_hex("zz").is_err());
    }

    #[test]
    fn genesis_hash_and_prepared_path_agree() {
        let h = parse_header(GENESIS).unwrap();
        let nonce = u32::from_le_bytes(h[76..80].try_into().unwrap());
        assert_eq!(nonce, 2083236893);
        let hash = block_hash(&h, nonce);
        assert_eq!(
            display_hex(&hash),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        let t = Target::from_bits(header_bits(&h)).unwrap();
        assert!(t.is_met_by(&hash));
        assert!(!t.is_met_by(&block_hash(&h, nonce + 1)));
        let p = prepare(&h);
        for n in [0u32, 1, nonce, u32::MAX] {
            assert_eq!(finish_prepared(&p, n), block_hash(&h, n));
        }
    }

    #[test]
    fn bad_headers() {
        assert!(parse_header("00").is_err());
        assert!(parse_header(&"zz".repeat(80)).is_err());
        let e = parse_header(&format!("{}é{}", "0".repeat(10), "0".repeat(149))).unwrap_err();
        assert!(e.contains("'é' at position 10"), "{e}");
        let e = parse_header(&"é".repeat(80)).unwrap_err();
        assert!(e.contains("got 80 characters"), "{e}");
    }
}
