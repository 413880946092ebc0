//! `mine --algo ethash` end to end on the tiny test dataset (the hidden
//! hook, so no epoch is generated): hits against the CPU reference and the
//! vectors, a lying shader caught, bad input refused before any GPU work.

mod common;

use std::process::{Command, Output};

use common::stderr;
use hashflops::workloads::ethash::hits::{TINY_CACHE_BYTES, TINY_DATASET_BYTES, TINY_ENV};
use hashflops::workloads::ethash::kernel::WGSL;
use hashflops::workloads::ethash::reference as r;
use serde_json::Value;

/// The vectors' header hash of the tiny dataset.
const HEADER: &str = "c9149cc0386e689d789a1c2f3d5d169a61a6218ed30e74414dc736e442ef3d1f";
const ONES: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

fn mine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hashflops"))
        .arg("mine")
        .args(args)
        .env(TINY_ENV, "1")
        .output()
        .expect("running hashflops")
}

fn header() -> [u8; 32] {
    hex::decode(HEADER).unwrap().try_into().unwrap()
}

fn light(nonce: u64) -> r::Hashed {
    let cache = r::light_cache(TINY_CACHE_BYTES, &[0; 32]);
    r::hashimoto_light(&cache, TINY_DATASET_BYTES, &header(), nonce)
}

fn hits(o: &Output) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    doc["hits"].as_array().unwrap().clone()
}

#[test]
fn every_nonce_hits_an_all_ones_target_with_the_cpus_hashes() {
    let o = mine(&[
        "--algo", "ethash", "--block", "0", "--header", HEADER, "--start", "0", "--count", "4",
        "--target", ONES, "--json", "-",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let hits = hits(&o);
    assert_eq!(hits.len(), 4, "{hits:?}");
    for (n, h) in hits.iter().enumerate() {
        let want = light(n as u64);
        assert_eq!(h["nonce"], format!("{n:#018x}"));
        assert_eq!(h["mix_hash"], hex::encode(want.mix), "nonce {n}");
        assert_eq!(h["final_hash"], hex::encode(want.final_hash), "nonce {n}");
    }
    // The vectors' official hash of nonce 0.
    assert_eq!(
        hits[0]["mix_hash"],
        "e4073cffaef931d37117cefd9afd27ea0f1cad6a981dd2605c4a1ac97c519800"
    );
    assert_eq!(
        hits[0]["final_hash"],
        "d3539235ee2e6f8db665c0a72169f55b7f6c605712330b778ec3944f0eb5a557"
    );
}

/// A target an eighth of the range, over nonces that cross a high word:
/// exactly the CPU's hits, as lines, in nonce order.
#[test]
fn a_target_keeps_exactly_the_hashes_not_above_it() {
    let target = format!("2000{}", "0".repeat(60));
    let start = 0xffff_ffe0u64;
    let o = mine(&[
        "--algo",
        "ethash",
        "--block",
        "29999",
        "--header",
        HEADER,
        "--start",
        "0xffffffe0",
        "--count",
        "64",
        "--target",
        &target,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let target: [u8; 32] = hex::decode(target).unwrap().try_into().unwrap();
    let want: Vec<String> = (start..start + 64)
        .filter_map(|n| {
            let h = light(n);
            (h.final_hash <= target).then(|| {
                format!(
                    "{n:#018x} mix_hash={} final_hash={}",
                    hex::encode(h.mix),
                    hex::encode(h.final_hash)
                )
            })
        })
        .collect();
    assert!(!want.is_empty());
    let got = String::from_utf8(o.stdout).unwrap();
    assert_eq!(got.lines().collect::<Vec<_>>(), want);
}

/// A shader that reports every nonce as a candidate: the CPU's recheck
/// names the nonce and the run exits 1.
#[test]
fn a_candidate_the_cpu_rejects_is_a_wrong_answer() {
    let dir = tempfile::tempdir().unwrap();
    let lying = common::mutate(
        WGSL,
        "if (byteswap(st[0].x) <= hits.target_top) {",
        "if (true) {",
    );
    std::fs::write(dir.path().join("ethash.wgsl"), lying).unwrap();
    let target = format!("0000{}", "f".repeat(60));
    let o = mine(&[
        "--algo",
        "ethash",
        "--block",
        "0",
        "--header",
        HEADER,
        "--count",
        "8",
        "--target",
        &target,
        "--shader-dir",
        dir.path().to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("GPU disagrees with the CPU: nonce 0x"),
        "{err}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let base = ["--algo", "ethash"];
    let bad_header = format!("zz{}", &HEADER[2..]);
    let bad_target = format!("zz{}", &ONES[2..]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--header", &HEADER[..63]], "64 hex digits"),
        (vec!["--header", &bad_header], "not a hex digit"),
        (vec!["--header", HEADER, "--target", "12"], "64 hex digits"),
        (vec!["--header", HEADER, "--target", &bad_target], "hex"),
        (vec!["--header", HEADER, "--count", "0"], "1..=4294967296"),
        (
            vec!["--header", HEADER, "--block", "61440000"],
            "epoch 2048",
        ),
        (vec!["--header", HEADER, "--start", "0x"], "not a nonce"),
        (
            vec!["--header", HEADER, "--start", "0xffffffffffffffff"],
            "past the last nonce",
        ),
    ];
    for (extra, mentions) in cases {
        let mut args: Vec<&str> = base.iter().copied().chain(extra).collect();
        for (flag, value) in [("--block", "2"), ("--count", "4")] {
            if !args.contains(&flag) {
                args.extend([flag, value]);
            }
        }
        let o = mine(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.lines().filter(|l| !l.trim().is_empty()).count(),
            1,
            "{err}"
        );
        assert!(
            err.contains(mentions),
            "{args:?}: {mentions:?} not in {err}"
        );
    }
    for (args, mentions) in [
        (
            vec!["--algo", "ethash", "--header", HEADER, "--count", "4"],
            "--block",
        ),
        (
            vec!["--algo", "ethash", "--header", HEADER, "--block", "1"],
            "--count",
        ),
        (
            vec!["--algo", "etchash", "--header", HEADER, "--count", "4"],
            "--algo etchash needs --block",
        ),
        (
            // Etchash epoch 2048 begins at block 2048 × 60,000.
            vec![
                "--algo",
                "etchash",
                "--header",
                HEADER,
                "--count",
                "4",
                "--block",
                "122880000",
            ],
            "Etchash epoch 2048",
        ),
    ] {
        let o = mine(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(mentions), "{}", stderr(&o));
    }
}

/// The last 64-bit nonce is searched, and nothing wraps past it.
#[test]
fn the_last_nonce_is_searched() {
    let o = mine(&[
        "--algo",
        "ethash",
        "--block",
        "0",
        "--header",
        HEADER,
        "--start",
        "18446744073709551614",
        "--count",
        "2",
        "--json",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let nonces: Vec<Value> = hits(&o).iter().map(|h| h["nonce"].clone()).collect();
    assert_eq!(nonces, ["0xfffffffffffffffe", "0xffffffffffffffff"]);
    let last = light(u64::MAX);
    assert_eq!(hits(&o)[1]["final_hash"], hex::encode(last.final_hash));
}
