//! The GPU hash loop against the CPU reference, on the adapter present.

mod common;

use std::collections::BTreeSet;

use hashflops::reference::KNOWN_BLOCKS;
use hashflops::sha::{self, Target};
use hashflops::workloads::hash::{self, HashKernel, NonceRange};

fn cpu_hits(header: &sha::Header, range: NonceRange, top: u32) -> BTreeSet<u32> {
    (range.first as u64..range.first as u64 + range.count as u64)
        .map(|n| n as u32)
        .filter(|&n| sha::hash_top_word(&sha::block_hash(header, n)) <= top)
        .collect()
}

#[test]
fn known_answers_and_dense_range_pass_self_test() {
    let gpu = common::gpu();
    let k = HashKernel::new(&gpu, hash::WGSL, 4, 4096).unwrap();
    let check = hash::self_test(&k);
    assert!(check.ok(), "{:?}", check.problems);
}

#[test]
fn gpu_hits_equal_cpu_hits_on_ranges_with_and_without_hits() {
    let gpu = common::gpu();
    let k = HashKernel::new(&gpu, hash::WGSL, 4, 4096).unwrap();
    let header = KNOWN_BLOCKS[2].header();
    let prep = [sha::prepare(&header)];
    // Odd start and length so partial workgroups and iterations are exercised.
    let range = NonceRange {
        variant: 0,
        first: 123_457,
        count: 50_001,
    };
    for bits in [6u32, 10] {
        let top = Target::from_share_bits(bits).unwrap().top_word();
        let hits = k.search(&prep, &[range], top).unwrap();
        assert!(!hits.overflowed());
        let gpu_set: BTreeSet<u32> = hits.items.iter().map(|&(_, n)| n).collect();
        let cpu_set = cpu_hits(&header, range, top);
        assert!(!cpu_set.is_empty(), "test range must contain hits");
        assert_eq!(gpu_set, cpu_set, "share bits {bits}");
    }
    // The real target over a range that holds no block: no hits at all.
    let target = Target::from_bits(sha::header_bits(&header)).unwrap();
    let none = NonceRange {
        variant: 0,
        first: 7,
        count: 300_000,
    };
    let hits = k.search(&prep, &[none], target.top_word()).unwrap();
    assert_eq!(hits.counted, 0);
    assert!(cpu_hits(&header, none, target.top_word()).is_empty());
}

#[test]
fn several_ranges_and_variants_in_one_submission() {
    let gpu = common::gpu();
    let k = HashKernel::new(&gpu, hash::WGSL, 4, 4096).unwrap();
    let base = KNOWN_BLOCKS[0].header();
    let headers = [base, hash::variant_header(&base, 1)];
    let preps = [sha::prepare(&headers[0]), sha::prepare(&headers[1])];
    let top = Target::from_share_bits(8).unwrap().top_word();
    let ranges = [
        NonceRange {
            variant: 0,
            first: 0,
            count: 10_000,
        },
        NonceRange {
            variant: 1,
            first: 0,
            count: 10_000,
        },
        NonceRange {
            variant: 0,
            first: u32::MAX - 9_999,
            count: 10_000,
        },
    ];
    let hits = k.search(&preps, &ranges, top).unwrap();
    let mut check = hash::Check::default();
    hash::check_candidates(&headers, &ranges, &hits, top, &mut check);
    assert!(check.ok(), "{:?}", check.problems);
    for r in &ranges {
        let want = cpu_hits(&headers[r.variant as usize], *r, top);
        let got: BTreeSet<u32> = hits
            .items
            .iter()
            .filter(|&&(v, n)| {
                v == r.variant && n >= r.first && (n as u64) < r.first as u64 + r.count as u64
            })
            .map(|&(_, n)| n)
            .collect();
        assert_eq!(got, want, "{r:?}");
    }
}

#[test]
fn hit_buffer_overflow_is_reported_not_hidden() {
    let gpu = common::gpu();
    let k = HashKernel::new(&gpu, hash::WGSL, 1, 16).unwrap();
    let header = KNOWN_BLOCKS[1].header();
    let top = Target::from_share_bits(2).unwrap().top_word();
    let hits = k
        .search(
            &[sha::prepare(&header)],
            &[NonceRange {
                variant: 0,
                first: 0,
                count: 4096,
            }],
            top,
        )
        .unwrap();
    assert!(hits.overflowed());
    assert_eq!(hits.items.len(), 16);
    assert!(hits.counted > 16);
}

#[test]
fn a_changed_round_constant_is_caught() {
    let gpu = common::gpu();
    // K[20] appears in both compressions.
    let broken = hash::WGSL.replace("0x2de92c6fu", "0x2de92c6eu");
    assert_ne!(broken, hash::WGSL);
    let k = HashKernel::new(&gpu, &broken, 4, 4096).unwrap();
    assert!(!hash::self_test(&k).ok());
}

mod mutants {
    use super::common::{assert_caught, hashflops, mutate, run_with_shaders, stderr};
    use hashflops::workloads::hash;

    fn caught(what: &str, from: &str, to: &str) {
        let src = mutate(hash::WGSL, from, to);
        let run = run_with_shaders("hash", &[("sha256d", src)], &["--samples", "5"]);
        assert_caught(&run, "sha256d", what);
    }

    /// `caught`, and the row's warning names the coverage check.
    fn caught_by_coverage(what: &str, from: &str, to: &str) {
        let src = mutate(hash::WGSL, from, to);
        let run = run_with_shaders("hash", &[("sha256d", src)], &["--samples", "5"]);
        assert_caught(&run, "sha256d", what);
        let err = stderr(&run.output);
        assert!(
            err.contains("warning: sha256d: coverage"),
            "{what}: no coverage failure named; stderr: {err}"
        );
    }

    const INVOCATION: &str = "let invocation = gid.y * nwg.x * 64u + gid.x;";

    #[test]
    fn returning_once_the_coverage_word_is_written_is_caught() {
        caught_by_coverage(
            "memoised",
            INVOCATION,
            &format!("{INVOCATION}\n    if (invocation < arrayLength(&cover) && cover[invocation] != 0u) {{ return; }}"),
        );
    }

    #[test]
    fn working_on_every_second_repetition_only_is_caught() {
        // Repetition r searches nonces from r * count on: its parity.
        caught_by_coverage(
            "every second repetition",
            "let target_top = job.wc.x;",
            "let target_top = job.wc.x;\n    if ((first / count) % 2u == 1u) { return; }",
        );
    }

    #[test]
    fn skipping_one_nonce_in_1000_is_caught() {
        caught(
            "skip 1 in 1000",
            "let valid = j < V(count);",
            "let valid = (j < V(count)) && (j % 1000u != 999u);",
        );
    }

    #[test]
    fn one_iteration_short_is_caught() {
        caught(
            "n-1 iterations",
            "it < iterations;",
            "it + 1u < iterations;",
        );
    }

    #[test]
    fn half_the_iterations_is_caught() {
        caught(
            "n/2 iterations",
            "it < iterations;",
            "it < iterations / 2u;",
        );
    }

    #[test]
    fn a_constant_nonce_is_caught() {
        caught(
            "constant index",
            "let nonce = V(first) + j;",
            "let nonce = V(first);",
        );
    }

    #[test]
    fn a_perturbed_round_constant_is_caught() {
        // Round 4 of the first hash: a constant the host does not precompute.
        caught(
            "round constant",
            "ch(e, f, g) + 0xb956c25bu;",
            "ch(e, f, g) + 0xb956c25au;",
        );
    }

    #[test]
    fn mine_with_a_skipping_kernel_exits_1() {
        let src = mutate(
            hash::WGSL,
            "let valid = j < V(count);",
            "let valid = (j < V(count)) && (j % 1000u != 999u);",
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sha256d.wgsl"), src).unwrap();
        let genesis = hashflops::reference::KNOWN_BLOCKS[0].header_hex;
        let out = hashflops(&[
            "mine",
            "--header",
            genesis,
            "--start",
            "2083200000",
            "--count",
            "100000",
            "--quiet",
            "--shader-dir",
            dir.path().to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains("coverage"), "{}", stderr(&out));
    }

    #[test]
    fn the_real_kernel_passes_through_the_same_path() {
        let run = run_with_shaders(
            "hash",
            &[("sha256d", hash::WGSL.to_string())],
            &["--samples", "5"],
        );
        assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
        let rows = run.rows();
        let r = rows
            .iter()
            .find(|r| r["kernel"] == "sha256d")
            .expect("a sha256d row");
        assert_eq!(r["verified"], true);
        assert!(r["params"]
            .as_str()
            .unwrap()
            .contains("coverage_invocations_checked="));
    }
}
