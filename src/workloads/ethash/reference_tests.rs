//! The reference against every vector the CPU can check in reasonable
//! time (`tests/fixtures/ethash_vectors.json`, with its sources). The
//! largest light caches (epoch 2047: 285 MB) are behind `--ignored`.

use serde_json::Value;

use super::*;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../../tests/fixtures/ethash_vectors.json"))
        .expect("the vectors parse")
}

fn cases<'a>(v: &'a Value, path: &[&str]) -> &'a Vec<Value> {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_array().unwrap_or_else(|| panic!("{path:?} is a list"))
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} in {v}"))
}

fn h32(v: &Value, k: &str) -> [u8; 32] {
    hex::decode(s(v, k)).unwrap().try_into().unwrap()
}

fn cache_digest(cache: &[Item]) -> String {
    let b: Vec<u8> = cache.iter().flat_map(|it| bytes(it)).collect();
    hex::encode(keccak256(&b))
}

#[test]
fn keccak_is_the_original_padding() {
    let v = vectors();
    for c in cases(&v, &["keccak", "cases"]) {
        let input = s(c, "input_ascii").as_bytes();
        let got = match s(c, "fn") {
            "keccak256" => hex::encode(keccak256(input)),
            _ => hex::encode(keccak512(input)),
        };
        assert_eq!(got, s(c, "output"), "{c}");
    }
}

#[test]
fn sizes_follow_the_prime_rule_for_every_listed_epoch() {
    let v = vectors();
    let mut all = cases(&v, &["sizes", "cases"]).clone();
    all.extend(cases(&v, &["sizes", "derived_cases"]).iter().cloned());
    let e13 = &v["dataset_items_epoch13"]["epoch13_sizes_derived"];
    assert_eq!(cache_size(13), u(e13, "cache"));
    assert_eq!(dataset_size(13), u(e13, "dataset"));
    for c in &all {
        let e = u(c, "epoch");
        assert_eq!(cache_size(e), u(c, "cache"), "cache of epoch {e}");
        assert_eq!(dataset_size(e), u(c, "dataset"), "dataset of epoch {e}");
    }
}

#[test]
fn seeds_of_every_listed_epoch() {
    let v = vectors();
    let mut all = cases(&v, &["epoch_seeds", "cases"]).clone();
    all.extend(cases(&v, &["epoch_seeds", "extra"]).iter().cloned());
    for c in &all {
        let e = u(c, "epoch");
        assert_eq!(hex::encode(seed_hash(e)), s(c, "seed"), "epoch {e}");
    }
}

#[test]
fn light_caches_of_epochs_0_and_171() {
    let v = vectors();
    for c in cases(&v, &["light_cache_keccak256", "cases"]) {
        let e = u(c, "epoch");
        if e > 171 {
            continue;
        }
        assert_eq!(cache_digest(&epoch_cache(e)), s(c, "keccak256_of_cache"));
    }
}

/// The largest caches: epoch 2047 (official), epoch 166 and Etchash's
/// epoch 195 with the seed of epoch 390 (derived).
#[test]
#[ignore = "builds light caches up to 285 MB (about a minute)"]
fn light_caches_of_the_large_epochs() {
    let v = vectors();
    for c in cases(&v, &["light_cache_keccak256", "cases"]) {
        let e = u(c, "epoch");
        if e > 171 {
            assert_eq!(cache_digest(&epoch_cache(e)), s(c, "keccak256_of_cache"));
        }
    }
    for c in cases(&v, &["light_cache_keccak256", "derived_cases"]) {
        let size = c.get("epoch").or(c.get("etchash_epoch")).unwrap();
        let seed = c.get("seed_epoch").unwrap_or(size).as_u64().unwrap();
        let cache = light_cache(cache_size(size.as_u64().unwrap()), &seed_hash(seed));
        assert_eq!(cache_digest(&cache), s(c, "keccak256_of_cache"), "{c}");
    }
}

#[test]
fn tiny_cache_dataset_and_hashes() {
    let v = vectors();
    let t = &v["tiny_for_gpu_unit_tests"];
    let p = &t["params"];
    let cache = light_cache(u(p, "cache_bytes"), &[0; 32]);
    let cache_hex: String = cache.iter().map(|it| hex::encode(bytes(it))).collect();
    assert_eq!(cache_hex, s(t, "cache_epoch0_hex_full"));
    assert_eq!(cache_digest(&cache), s(t, "derived_keccak256_of_cache"));
    let e1 = light_cache(u(p, "cache_bytes"), &seed_hash(1));
    assert_eq!(hex::encode(bytes(&e1[0])), s(t, "cache_epoch1_first64"));
    let ds = dataset(&cache, u(p, "dataset_bytes"));
    assert_eq!(hex::encode(bytes(&ds[0])), s(t, "dataset_first64"));
    assert_eq!(cache_digest(&ds), s(t, "derived_keccak256_of_dataset"));
    for c in cases(t, &["hashimoto"]) {
        let header = h32(c, "header_hash");
        let nonce = u(c, "nonce_u64");
        let full = hashimoto_full(&ds, &header, nonce);
        let light = hashimoto_light(&cache, u(p, "dataset_bytes"), &header, nonce);
        assert_eq!(full, light);
        assert_eq!(hex::encode(full.mix), s(c, "mix_hash"), "nonce {nonce}");
        assert_eq!(hex::encode(full.final_hash), s(c, "final_hash"));
    }
}

#[test]
fn dataset_items_of_epochs_0_and_13() {
    let v = vectors();
    let cache = epoch_cache(13);
    for c in cases(&v, &["dataset_items_epoch13", "cases"]) {
        let i = u(c, "item1024_index") as u32;
        assert_eq!(
            hex::encode(bytes(&dataset_item(&cache, 2 * i))),
            s(c, "hash512_0")
        );
        assert_eq!(
            hex::encode(bytes(&dataset_item(&cache, 2 * i + 1))),
            s(c, "hash512_1")
        );
    }
    let cache = epoch_cache(0);
    for c in cases(&v, &["dataset_items_epoch0_derived", "cases"]) {
        let i = u(c, "item512_index") as u32;
        assert_eq!(hex::encode(bytes(&dataset_item(&cache, i))), s(c, "hash"));
    }
}

/// Blocks 0 and 2 (epoch 0) by the light method; the later epochs' caches
/// take longer to build and are behind `--ignored`.
#[test]
fn hashes_of_blocks_0_and_2() {
    check_hash_cases(|e| e == 0);
}

#[test]
#[ignore = "builds the light caches of epochs 89, 166 and 176 (about a minute)"]
fn hashes_of_the_later_blocks() {
    check_hash_cases(|e| e > 0);
}

fn check_hash_cases(want: impl Fn(u64) -> bool) {
    let v = vectors();
    let mut caches = std::collections::HashMap::new();
    for c in cases(&v, &["hashimoto", "cases"]) {
        let e = u(c, "epoch");
        if !want(e) {
            continue;
        }
        assert_eq!(u(c, "block") / EPOCH_LENGTH, e);
        let cache = caches.entry(e).or_insert_with(|| epoch_cache(e));
        let nonce = u64::from_str_radix(s(c, "nonce_hex"), 16).unwrap();
        let got = hashimoto_light(cache, dataset_size(e), &h32(c, "header_hash"), nonce);
        assert_eq!(
            hex::encode(got.mix),
            s(c, "mix_hash"),
            "block {}",
            u(c, "block")
        );
        assert_eq!(hex::encode(got.final_hash), s(c, "final_hash"));
    }
}
