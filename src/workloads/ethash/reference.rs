//! Ethash on the CPU, the reference every GPU result is checked against:
//! the epoch's sizes and seed, the light cache, dataset items computed from
//! the cache, and `hashimoto` over any item lookup (the light method calls
//! the item calculation directly, so no dataset is needed to check a hash).
//!
//! Keccak is the original submission (pad byte 0x01), as Ethash defines
//! it, not the SHA-3 standard (0x06): the `sha3` crate's `Keccak*` types.

use sha3::{Digest, Keccak256, Keccak512};

/// Blocks per epoch (Ethereum; Etchash doubles it from its fork on).
pub const EPOCH_LENGTH: u64 = 30_000;
/// Epochs the reference implementations' size tables cover (0 to 2047):
/// blocks past them are refused rather than sized by a formula no client
/// was checked against.
pub const EPOCHS: u64 = 2048;
/// Bytes of one light-cache item and of half a dataset row.
pub const HASH_BYTES: u64 = 64;
/// Bytes of one dataset row: what one hashimoto access reads.
pub const MIX_BYTES: u64 = 128;
/// Parents folded into every dataset item.
pub const DATASET_PARENTS: u32 = 256;
/// Dataset accesses per hash.
pub const ACCESSES: u32 = 64;
const CACHE_ROUNDS: usize = 3;
const CACHE_INIT: u64 = 1 << 24;
const CACHE_GROWTH: u64 = 1 << 17;
const DATASET_INIT: u64 = 1 << 30;
const DATASET_GROWTH: u64 = 1 << 23;
const FNV_PRIME: u32 = 0x0100_0193;

/// One 64-byte item (light cache, or half a dataset row) as 16 words.
pub type Item = [u32; 16];

/// Ethash's mixing step (FNV-1 without the offset basis).
pub fn fnv(a: u32, b: u32) -> u32 {
    a.wrapping_mul(FNV_PRIME) ^ b
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// The largest `unit * p` with `p` prime and `unit * p < start`: sizes
/// whose item counts are prime keep the modular indexing free of cycles.
fn prime_size(start: u64, unit: u64) -> u64 {
    let mut sz = start - unit;
    while !is_prime(sz / unit) {
        sz -= 2 * unit;
    }
    sz
}

/// Bytes of the light cache of `epoch`.
pub fn cache_size(epoch: u64) -> u64 {
    prime_size(CACHE_INIT + CACHE_GROWTH * epoch, HASH_BYTES)
}

/// Bytes of the full dataset (DAG) of `epoch`.
pub fn dataset_size(epoch: u64) -> u64 {
    prime_size(DATASET_INIT + DATASET_GROWTH * epoch, MIX_BYTES)
}

/// The seed of `epoch`: Keccak-256 applied `epoch` times to 32 zero bytes.
pub fn seed_hash(epoch: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    for _ in 0..epoch {
        s = Keccak256::digest(s).into();
    }
    s
}

pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

pub fn keccak512(data: &[u8]) -> [u8; 64] {
    Keccak512::digest(data).into()
}

/// Little-endian words of `bytes` (a multiple of 4 long).
pub fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Little-endian bytes of `words`.
pub fn bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn item_of(bytes: &[u8; 64]) -> Item {
    let mut it = [0u32; 16];
    for (w, c) in it.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    it
}

fn keccak512_item(it: &Item) -> Item {
    item_of(&keccak512(&bytes(it)))
}

/// The light cache of `cache_bytes` from `seed`: a Keccak-512 chain, then
/// three passes of RandMemoHash.
pub fn light_cache(cache_bytes: u64, seed: &[u8; 32]) -> Vec<Item> {
    let n = (cache_bytes / HASH_BYTES) as usize;
    let mut cache = Vec::with_capacity(n);
    cache.push(item_of(&keccak512(seed)));
    for i in 1..n {
        let next = keccak512_item(&cache[i - 1]);
        cache.push(next);
    }
    for _ in 0..CACHE_ROUNDS {
        for i in 0..n {
            let v = cache[i][0] as usize % n;
            let prev = cache[(i + n - 1) % n];
            let mut x = [0u32; 16];
            for (k, w) in x.iter_mut().enumerate() {
                *w = prev[k] ^ cache[v][k];
            }
            cache[i] = keccak512_item(&x);
        }
    }
    cache
}

/// The light cache of a real epoch.
pub fn epoch_cache(epoch: u64) -> Vec<Item> {
    light_cache(cache_size(epoch), &seed_hash(epoch))
}

/// Dataset item `index` (64-byte units): `parents` cache items chosen by
/// FNV of the running mix, folded with FNV, wrapped in Keccak-512.
pub fn dataset_item_with(cache: &[Item], index: u32, parents: u32) -> Item {
    let n = cache.len() as u32;
    let mut mix = cache[(index % n) as usize];
    mix[0] ^= index;
    mix = keccak512_item(&mix);
    for j in 0..parents {
        let parent = fnv(index ^ j, mix[(j % 16) as usize]) % n;
        let p = &cache[parent as usize];
        for (m, c) in mix.iter_mut().zip(p) {
            *m = fnv(*m, *c);
        }
    }
    keccak512_item(&mix)
}

/// Dataset item `index` (64-byte units) as Ethash defines it.
pub fn dataset_item(cache: &[Item], index: u32) -> Item {
    dataset_item_with(cache, index, DATASET_PARENTS)
}

/// The whole dataset of `dataset_bytes` (only for small ones: tests).
pub fn dataset(cache: &[Item], dataset_bytes: u64) -> Vec<Item> {
    (0..(dataset_bytes / HASH_BYTES) as u32)
        .map(|i| dataset_item(cache, i))
        .collect()
}

/// What one hashimoto run gives: the 32-byte mix digest (carried in the
/// block header) and the final hash compared with the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hashed {
    pub mix: [u8; 32],
    pub final_hash: [u8; 32],
}

/// The 64-byte seed of a hash: Keccak-512 of the header hash and the nonce
/// (little-endian, although headers print it big-endian).
pub fn hash_seed(header: &[u8; 32], nonce: u64) -> [u8; 64] {
    let mut buf = [0u8; 40];
    buf[..32].copy_from_slice(header);
    buf[32..].copy_from_slice(&nonce.to_le_bytes());
    keccak512(&buf)
}

/// Hashimoto over a dataset of `dataset_bytes` whose 64-byte items
/// `lookup` gives.
pub fn hashimoto(
    header: &[u8; 32],
    nonce: u64,
    dataset_bytes: u64,
    mut lookup: impl FnMut(u32) -> Item,
) -> Hashed {
    let rows = (dataset_bytes / MIX_BYTES) as u32;
    let seed = hash_seed(header, nonce);
    let s = words(&seed);
    let mut mix = [0u32; 32];
    for (i, m) in mix.iter_mut().enumerate() {
        *m = s[i % 16];
    }
    for i in 0..ACCESSES {
        let row = fnv(i ^ s[0], mix[(i % 32) as usize]) % rows;
        let lo = lookup(2 * row);
        let hi = lookup(2 * row + 1);
        for (k, m) in mix.iter_mut().enumerate() {
            let d = if k < 16 { lo[k] } else { hi[k - 16] };
            *m = fnv(*m, d);
        }
    }
    let mut cmix = [0u32; 8];
    for (i, c) in cmix.iter_mut().enumerate() {
        let q = &mix[4 * i..4 * i + 4];
        *c = fnv(fnv(fnv(q[0], q[1]), q[2]), q[3]);
    }
    let mix_bytes = bytes(&cmix);
    let mut fin = [0u8; 96];
    fin[..64].copy_from_slice(&seed);
    fin[64..].copy_from_slice(&mix_bytes);
    Hashed {
        mix: mix_bytes.try_into().expect("32 bytes"),
        final_hash: keccak256(&fin),
    }
}

/// Hashimoto by the light method: every item computed from the cache.
pub fn hashimoto_light(
    cache: &[Item],
    dataset_bytes: u64,
    header: &[u8; 32],
    nonce: u64,
) -> Hashed {
    hashimoto(header, nonce, dataset_bytes, |i| dataset_item(cache, i))
}

/// Hashimoto over a computed dataset.
pub fn hashimoto_full(dataset: &[Item], header: &[u8; 32], nonce: u64) -> Hashed {
    let bytes = dataset.len() as u64 * HASH_BYTES;
    hashimoto(header, nonce, bytes, |i| dataset[i as usize])
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
