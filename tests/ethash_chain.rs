//! Real blocks through the GPU search over datasets of their epoch's full
//! size, and Etchash's epochs against a second implementation.
//!
//! Generating a whole dataset takes minutes on a software adapter, so the
//! GPU computes only the rows the block's hash reads (found by the light
//! method on the CPU) into buffers of the epoch's full size, which the
//! search then indexes modulo the real row count: a kernel reading any
//! other row reads zeros and fails.

mod common;

use hashflops::gpu::Gpu;
use hashflops::workloads::ethash::epoch::{Chain, Epoch, ECIP1099_BLOCK};
use hashflops::workloads::ethash::kernel::{EthashKernel, Range, WGSL};
use hashflops::workloads::ethash::plan::unfit;
use hashflops::workloads::ethash::{check, reference as r};
use serde_json::Value;

fn hashimoto_cases() -> Vec<Value> {
    let v: Value = serde_json::from_str(include_str!("fixtures/ethash_vectors.json")).unwrap();
    v["hashimoto"]["cases"].as_array().unwrap().clone()
}

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// One hash to check: its epoch, header, nonce and expected result.
struct Case {
    epoch: Epoch,
    header: [u8; 32],
    nonce: u64,
    want: r::Hashed,
}

fn case(c: &Value) -> Case {
    let block = c["block"].as_u64().unwrap();
    let epoch = Epoch::of_block(Chain::Ethash, block).unwrap();
    assert_eq!(epoch.number, c["epoch"].as_u64().unwrap(), "block {block}");
    Case {
        epoch,
        header: hex32(&c["header_hash"]),
        nonce: u64::from_str_radix(c["nonce_hex"].as_str().unwrap(), 16).unwrap(),
        want: r::Hashed {
            mix: hex32(&c["mix_hash"]),
            final_hash: hex32(&c["final_hash"]),
        },
    }
}

/// The light method's hash of `c` over `cache`, and the rows it reads.
fn light(c: &Case, cache: &[r::Item]) -> (r::Hashed, Vec<u32>) {
    let mut rows = Vec::new();
    let h = r::hashimoto(&c.header, c.nonce, c.epoch.dataset_bytes(), |i| {
        if i % 2 == 0 {
            rows.push(i / 2);
        }
        r::dataset_item(cache, i)
    });
    (h, rows)
}

/// The GPU search's folds for `cases` (of one epoch) over a full-size
/// dataset in which only the rows `rows` are generated, on the GPU.
fn gpu_folds(gpu: &Gpu, cases: &[&Case], cache: &[r::Item], rows: &[u32]) -> Vec<[u32; 2]> {
    let epoch = cases[0].epoch;
    let n = (epoch.dataset_bytes() / r::MIX_BYTES) as u32;
    let k = EthashKernel::new(gpu, WGSL, n, 4, 1).unwrap();
    k.generate_rows(WGSL, cache, rows).unwrap();
    cases
        .iter()
        .map(|c| {
            assert_eq!(c.epoch, epoch);
            let range = Range {
                hi: (c.nonce >> 32) as u32,
                first: c.nonce as u32,
                count: 1,
                iterations: 1,
            };
            k.reset_out();
            k.run(&c.header, &[range]).unwrap();
            let out = k.read_out().unwrap();
            assert!(
                out[1..].iter().all(|o| *o == [0, 0]),
                "other invocations hashed"
            );
            out[0]
        })
        .collect()
}

/// Checks `cases` (of one epoch) by the light method, then through the GPU
/// where the adapter holds the epoch's dataset; returns why not where it
/// does not.
fn check_epoch(gpu: &Gpu, cases: &[&Case]) -> Option<String> {
    let epoch = cases[0].epoch;
    let cache = epoch.cache();
    let mut rows = Vec::new();
    for c in cases {
        let (h, read) = light(c, &cache);
        assert_eq!(h, c.want, "{} by the light method", epoch.label());
        rows.extend(read);
    }
    if let Some(why) = unfit(gpu, epoch) {
        return Some(why);
    }
    rows.sort_unstable();
    rows.dedup();
    let got = gpu_folds(gpu, cases, &cache, &rows);
    for (c, got) in cases.iter().zip(got) {
        let want = [check::fold(0, &c.want), 1];
        assert_eq!(
            got,
            want,
            "{} nonce {:#x} on the GPU",
            epoch.label(),
            c.nonce
        );
    }
    None
}

/// `cases` grouped by epoch, in order.
fn by_epoch(cases: &[Case]) -> Vec<Vec<&Case>> {
    let mut groups: Vec<Vec<&Case>> = Vec::new();
    for c in cases {
        match groups.iter_mut().find(|g| g[0].epoch == c.epoch) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    groups
}

/// Blocks 0 and 2 (epoch 0, 1 GiB): every adapter this tool runs on
/// holds the dataset, so they must pass through the GPU here.
#[test]
fn epoch_0_blocks_through_the_gpu_search() {
    let gpu = common::gpu();
    let cases: Vec<Case> = hashimoto_cases()
        .iter()
        .map(case)
        .filter(|c| c.epoch.number == 0)
        .collect();
    assert_eq!(cases.len(), 2);
    let group: Vec<&Case> = cases.iter().collect();
    if let Some(why) = check_epoch(&gpu, &group) {
        panic!("the adapter cannot hold epoch 0's dataset: {why}");
    }
    // The check can fail: the same search with the last row it reads left
    // ungenerated (zeros) gives another fold.
    let c = &cases[1];
    let cache = c.epoch.cache();
    let (_, mut rows) = light(c, &cache);
    let last = rows.pop().unwrap();
    rows.retain(|&row| row != last);
    let got = gpu_folds(&gpu, &[c], &cache, &rows)[0];
    assert_ne!(got, [check::fold(0, &c.want), 1], "row {last} left out");
}

/// The later epochs' blocks: by the light method always, through the GPU
/// where the adapter holds their dataset (not a software adapter's eight
/// 128 MiB bindings).
#[test]
fn later_blocks_by_the_light_method_and_where_held_the_gpu() {
    let gpu = common::gpu();
    let cases = hashimoto_cases();
    let later: Vec<Case> = cases
        .iter()
        .map(case)
        .filter(|c| c.epoch.number > 0)
        .collect();
    assert!(later.len() >= 5);
    for group in by_epoch(&later) {
        match check_epoch(&gpu, &group) {
            Some(why) => eprintln!("GPU part not run: {why}"),
            None => eprintln!(
                "{}: {} block(s) through the GPU",
                group[0].epoch.label(),
                group.len()
            ),
        }
    }
}

/// Etchash against the `ethash` crate (0.4.0), given what ECIP-1099 says
/// an epoch is: the sizes of epoch E (block / 60,000) and the seed of
/// Ethash epoch 2E.
mod etchash {
    use super::*;
    use ethereum_types::{H256, H64};

    fn crate_cache(e: u64) -> Vec<u8> {
        let mut cache = vec![0u8; ethash::get_cache_size(e as usize)];
        ethash::make_cache(&mut cache, ethash::get_seedhash(2 * e as usize));
        cache
    }

    #[test]
    fn sizes_seed_cache_and_hashes_agree_with_the_ethash_crate() {
        let block = ECIP1099_BLOCK + 123_456;
        let e = Epoch::of_block(Chain::Etchash, block).unwrap();
        let n = e.number as usize;
        assert_eq!(e.number, block / 60_000);
        assert_eq!(e.cache_bytes() as usize, ethash::get_cache_size(n));
        assert_eq!(e.dataset_bytes() as usize, ethash::get_full_size(n));
        assert_eq!(e.seed(), ethash::get_seedhash(2 * n).0);
        let ours = e.cache();
        let theirs = crate_cache(e.number);
        assert_eq!(r::bytes(&ours.concat()), theirs, "light cache");
        for i in 0..3u64 {
            let header: [u8; 32] = r::keccak256(&i.to_le_bytes());
            let nonce = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i + 1);
            let mine = r::hashimoto_light(&ours, e.dataset_bytes(), &header, nonce);
            let (mix, fin) = ethash::hashimoto_light(
                H256(header),
                H64(nonce.to_be_bytes()),
                e.dataset_bytes() as usize,
                &theirs,
            );
            assert_eq!(
                (mine.mix, mine.final_hash),
                (mix.0, fin.0),
                "nonce {nonce:#x}"
            );
        }
    }

    /// An Etchash hash, cross-checked above, through the GPU search where
    /// the adapter holds the epoch's dataset (2.6 GiB and more).
    #[test]
    fn an_etchash_hash_by_the_crate_and_where_held_the_gpu() {
        let gpu = common::gpu();
        let e = Epoch::of_block(Chain::Etchash, ECIP1099_BLOCK).unwrap();
        let header = r::keccak256(b"etchash");
        let nonce = 0x0123_4567_89ab_cdefu64;
        let (mix, fin) = ethash::hashimoto_light(
            H256(header),
            H64(nonce.to_be_bytes()),
            e.dataset_bytes() as usize,
            &crate_cache(e.number),
        );
        let c = Case {
            epoch: e,
            header,
            nonce,
            want: r::Hashed {
                mix: mix.0,
                final_hash: fin.0,
            },
        };
        match check_epoch(&gpu, &[&c]) {
            Some(why) => eprintln!("GPU part not run: {why}"),
            None => eprintln!("{}: through the GPU", e.label()),
        }
    }
}
