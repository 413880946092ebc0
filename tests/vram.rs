//! The VRAM test against injected faults, through the real binary.

mod common;

use common::{assert_caught, mutate, run_with_shaders};

const VRAM: &str = include_str!("../shaders/vram.wgsl");

fn fact(row: &serde_json::Value, key: &str) -> Option<String> {
    row["params"]
        .as_str()?
        .split(';')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

#[test]
fn a_clean_run_is_verified() {
    let run = run_with_shaders("vram", &[], &[]);
    assert_eq!(
        run.output.status.code(),
        Some(0),
        "{}",
        common::stderr(&run.output)
    );
    let rows = run.rows();
    for k in ["vram_write", "vram_check"] {
        let r = rows.iter().find(|r| r["kernel"] == k).expect(k);
        assert_eq!(r["verified"], true);
        assert_eq!(fact(r, "errors").as_deref(), Some("0"));
    }
}

#[test]
fn one_flipped_bit_on_one_pass_is_caught_with_its_address_and_bit() {
    // Bit 7 of word 4660 of buffer 1 reads flipped on check run 1 only.
    let bad = mutate(
        VRAM,
        "let got = mem[a];",
        "let got = mem[a] ^ select(0u, 128u, p.chunk == 1u && a == 4660u && p.run == 1u);",
    );
    let run = run_with_shaders("vram", &[("vram", bad)], &[]);
    assert_caught(&run, "vram_check", "flipped bit");
    let rows = run.rows();
    let r = rows.iter().find(|r| r["kernel"] == "vram_check").unwrap();
    let chunk: u64 = fact(r, "chunk_bytes").unwrap().parse().unwrap();
    let at = (chunk + 4660 * 4).to_string();
    assert_eq!(fact(r, "errors").as_deref(), Some("1"), "{r}");
    assert_eq!(fact(r, "lowest_fail_byte"), Some(at.clone()), "{r}");
    assert_eq!(fact(r, "highest_fail_byte"), Some(at), "{r}");
    assert_eq!(fact(r, "flipped_bits").as_deref(), Some("7:1"), "{r}");
    assert!(common::stderr(&run.output).contains("this adapter's memory"));
}

#[test]
fn a_check_that_skips_words_is_caught() {
    let bad = mutate(
        VRAM,
        "w < p.words; w += stride) {\n        // An odd",
        "w < p.words / 2u; w += stride) {\n        // An odd",
    );
    let run = run_with_shaders("vram", &[("vram", bad)], &[]);
    assert_caught(&run, "vram_check", "half the words checked");
}

#[test]
fn a_write_that_ignores_the_pass_seed_is_caught() {
    let bad = mutate(
        VRAM,
        "mem[w] = pattern(key, w);",
        "mem[w] = pattern(region_key(p.chunk, 1u), w);",
    );
    let run = run_with_shaders("vram", &[("vram", bad)], &[]);
    assert_caught(&run, "vram_write", "stale pattern");
}
