//! Ethash on the adapter present: the GPU's dataset items and hashes
//! against the vectors (`tests/fixtures/ethash_vectors.json`) and the CPU
//! reference.

mod common;

use hashflops::workloads::ethash::kernel::{EthashKernel, Generator, Range, WGSL};
use hashflops::workloads::ethash::{check, reference as r};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("fixtures/ethash_vectors.json")).unwrap()
}

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn item_hex(it: &r::Item) -> String {
    hex::encode(r::bytes(it))
}

/// The tiny dataset (1 KiB cache, 32 KiB dataset) generated on the GPU,
/// and its official and derived hashes through the GPU search.
#[test]
fn tiny_dataset_and_hashes_on_the_gpu() {
    let gpu = common::gpu();
    let v = vectors();
    let t = &v["tiny_for_gpu_unit_tests"];
    let cache = r::light_cache(1024, &[0; 32]);
    let k = EthashKernel::new(&gpu, WGSL, 256, 4, 8).unwrap();
    k.generate(WGSL, &cache).unwrap();
    let got = k.read_items(0, 512).unwrap();
    assert_eq!(got, r::dataset(&cache, 32768), "the GPU's tiny dataset");
    assert_eq!(item_hex(&got[0]), t["dataset_first64"].as_str().unwrap());
    for c in t["hashimoto"].as_array().unwrap() {
        let nonce = c["nonce_u64"].as_u64().unwrap();
        let want = r::Hashed {
            mix: hex32(&c["mix_hash"]),
            final_hash: hex32(&c["final_hash"]),
        };
        let range = Range {
            hi: (nonce >> 32) as u32,
            first: nonce as u32,
            count: 1,
            iterations: 1,
        };
        k.reset_out();
        k.run(&hex32(&c["header_hash"]), &[range]).unwrap();
        let out = k.read_out().unwrap();
        assert_eq!(out[0], [check::fold(0, &want), 1], "nonce {nonce}");
        assert!(out[1..].iter().all(|o| *o == [0, 0]));
    }
}

/// Many nonces over several dispatches: every invocation's fold and count.
#[test]
fn tiny_search_folds_every_nonce() {
    let gpu = common::gpu();
    let cache = r::light_cache(1024, &[0; 32]);
    let ds = r::dataset(&cache, 32768);
    let k = EthashKernel::new(&gpu, WGSL, 256, 4, 8).unwrap();
    k.generate(WGSL, &cache).unwrap();
    let header = [7u8; 32];
    let ranges: Vec<Range> = (0..3)
        .map(|i| Range {
            hi: i,
            first: 1000 * i,
            count: 700 + i,
            iterations: k.iterations(700 + i),
        })
        .collect();
    k.reset_out();
    k.run(&header, &ranges).unwrap();
    let out = k.read_out().unwrap();
    for inv in 0..k.invocations {
        let want = check::expected(&ranges, k.invocations, inv, |n| {
            r::hashimoto_full(&ds, &header, n)
        });
        assert_eq!(out[inv as usize], want, "invocation {inv}");
    }
}

/// Epoch-13 items by explicit index, computed by the GPU from the real
/// cache.
#[test]
fn epoch13_items_on_the_gpu() {
    let gpu = common::gpu();
    let v = vectors();
    let cache = r::epoch_cache(13);
    let g = Generator::new(&gpu, WGSL, &cache).unwrap();
    for c in v["dataset_items_epoch13"]["cases"].as_array().unwrap() {
        let i = c["item1024_index"].as_u64().unwrap() as u32;
        let got = g.items(2 * i, 2).unwrap();
        assert_eq!(item_hex(&got[0]), c["hash512_0"].as_str().unwrap(), "{i}");
        assert_eq!(item_hex(&got[1]), c["hash512_1"].as_str().unwrap(), "{i}");
    }
}

/// Prints how long this adapter takes to generate and search a 64 MiB
/// slice of epoch 0's dataset; `--ignored --nocapture` to see it.
#[test]
#[ignore = "a timing, not a check"]
fn timing_of_generation_and_search() {
    let gpu = common::gpu();
    let cache = r::epoch_cache(0);
    let rows = 1u32 << 19;
    let k = EthashKernel::new(&gpu, WGSL, rows, 64, 8).unwrap();
    let gen_s = k.generate(WGSL, &cache).unwrap();
    eprintln!(
        "generation: {} items in {gen_s:.2} s = {:.0} items/s; a 1 GiB dataset would take {:.0} s",
        2 * rows,
        2.0 * rows as f64 / gen_s,
        r::dataset_size(0) as f64 / 64.0 / (2.0 * rows as f64 / gen_s)
    );
    let count = 16384;
    let range = Range {
        hi: 0,
        first: 0,
        count,
        iterations: k.iterations(count),
    };
    k.run(&[1; 32], &[range]).unwrap();
    let s = k.run(&[1; 32], &[range]).unwrap();
    eprintln!(
        "search: {count} hashes in {s:.2} s = {:.0} H/s",
        count as f64 / s
    );
}

/// Sabotaged copies of the shader through `--shader-dir`: each must end in
/// exit 1 with its row unverified, beside an unmodified copy that passes.
mod mutations {
    use super::common::{assert_caught, mutate, run_with_shaders, stderr};
    use super::WGSL;

    fn caught(from: &str, to: &str, what: &str) {
        let src = mutate(WGSL, from, to);
        let run = run_with_shaders("ethash", &[("ethash", src)], &[]);
        assert_caught(&run, "ethash", what);
    }

    #[test]
    fn an_unmodified_copy_passes() {
        let row = verified_row(&[("ethash", WGSL.to_string())], &[]);
        assert!(row["params"].as_str().unwrap().contains("epoch=0"), "{row}");
    }

    /// The ethash row of a run that must pass, checked verified.
    fn verified_row(shaders: &[(&str, String)], extra: &[&str]) -> serde_json::Value {
        let run = run_with_shaders("ethash", shaders, extra);
        assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
        let rows = run.rows();
        let row = rows
            .iter()
            .find(|r| r["kernel"] == "ethash")
            .expect("a row");
        assert_eq!(row["verified"], true, "{row}");
        row.clone()
    }

    /// `--block` names the epoch whose cache and dataset the row hashes.
    #[test]
    fn a_block_chooses_the_rows_epoch() {
        let row = verified_row(&[], &["--block", "215000"]);
        let params = row["params"].as_str().unwrap();
        assert!(params.contains("epoch=7"), "{row}");
        assert!(params.contains("of epoch 7's"), "{row}");
    }

    #[test]
    fn sixty_three_accesses() {
        caught("ACCESSES: u32 = 64u", "ACCESSES: u32 = 63u", "63 accesses");
    }

    #[test]
    fn a_wrong_fnv_prime() {
        caught("0x01000193u", "0x01000197u", "FNV prime 0x01000197");
    }

    #[test]
    fn twenty_three_keccak_rounds() {
        caught(
            "KECCAK_ROUNDS: u32 = 24u",
            "KECCAK_ROUNDS: u32 = 23u",
            "23 rounds",
        );
    }

    #[test]
    fn two_hundred_fifty_five_parents() {
        caught("PARENTS: u32 = 256u", "PARENTS: u32 = 255u", "255 parents");
    }

    #[test]
    fn half_the_dataset_never_read() {
        caught(
            "let row = mod_n(fnv(i ^ s0, mix[i & 31u]), rows, job.rows.y);",
            "let row = mod_n(fnv(i ^ s0, mix[i & 31u]), rows, job.rows.y) >> 1u;",
            "only the first half of the rows read",
        );
    }

    #[test]
    fn a_nonce_skipped_in_a_thousand() {
        caught(
            "acc.x = hashimoto(job.nonce.x + j, job.nonce.z, acc.x);",
            "if ((job.nonce.x + j) % 1000u != 999u) { acc.x = hashimoto(job.nonce.x + j, job.nonce.z, acc.x); }",
            "one nonce in 1,000 skipped, still counted",
        );
    }

    #[test]
    fn early_return_when_already_written() {
        caught(
            "var acc = out[inv];",
            "var acc = out[inv];\n    if (acc.y != 0u) { return; }",
            "early return",
        );
    }
}
