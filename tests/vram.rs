//! The VRAM test against injected faults and sabotaged checks, through the
//! real binary. Every mutant runs beside a control: an unmodified copy of
//! the shader through the same `--shader-dir` path, which must pass.

mod common;

use common::{assert_caught, mutate, run_with_shaders, ShaderRun};
use rand::Rng;

const VRAM: &str = include_str!("../shaders/vram.wgsl");

fn fact(row: &serde_json::Value, key: &str) -> Option<String> {
    row["params"]
        .as_str()?
        .split(';')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

fn num(row: &serde_json::Value, key: &str) -> u64 {
    fact(row, key)
        .unwrap_or_else(|| panic!("no {key} in {row}"))
        .parse()
        .unwrap()
}

fn row(run: &ShaderRun, kernel: &str) -> serde_json::Value {
    run.rows()
        .into_iter()
        .find(|r| r["kernel"] == kernel)
        .unwrap_or_else(|| panic!("no {kernel} row; stderr: {}", common::stderr(&run.output)))
}

/// The unmodified shader through `--shader-dir`: passes, with every
/// planted canary reported and nothing else.
fn control() {
    let run = run_with_shaders("vram", &[("vram", VRAM.to_string())], &[]);
    assert_eq!(
        run.output.status.code(),
        Some(0),
        "control: {}",
        common::stderr(&run.output)
    );
    for k in ["vram_write", "vram_check"] {
        let r = row(&run, k);
        assert_eq!(r["verified"], true, "{r}");
        assert_eq!(num(&r, "errors"), 0, "{r}");
    }
}

/// A mutant of the shader must end in exit 1 with `kernel` unverified and
/// `text` among the failures; the control passes.
fn caught(bad: String, kernel: &str, text: &str) -> ShaderRun {
    control();
    let run = run_with_shaders("vram", &[("vram", bad)], &[]);
    assert_caught(&run, kernel, text);
    let err = common::stderr(&run.output);
    assert!(err.contains(text), "expected {text:?} in: {err}");
    run
}

#[test]
fn planted_canaries_are_reported_exactly_and_are_not_errors() {
    let run = run_with_shaders("vram", &[], &[]);
    assert_eq!(
        run.output.status.code(),
        Some(0),
        "{}",
        common::stderr(&run.output)
    );
    let w = row(&run, "vram_write");
    let c = row(&run, "vram_check");
    for r in [&w, &c] {
        assert_eq!(r["verified"], true, "{r}");
        assert_eq!(num(r, "errors"), 0, "{r}");
        assert!(num(r, "canaries_per_rep") > 0, "{r}");
    }
    // The write passes' check reads the last pass's canaries once; each
    // check repetition reads its own.
    assert_eq!(num(&w, "canaries_reported"), num(&w, "canaries_per_rep"));
    assert_eq!(
        num(&c, "canaries_reported"),
        num(&c, "canaries_per_rep") * num(&c, "repetitions"),
        "{c}"
    );
}

#[test]
fn a_check_that_reports_a_canary_with_another_value_is_caught() {
    let bad = mutate(
        VRAM,
        "atomicStore(&report[r + 2u], got[j]);",
        "atomicStore(&report[r + 2u], got[j] ^ select(0u, 1u, i == 3u));",
    );
    caught(bad, "vram_check", "did not report 1 of the");
}

#[test]
fn one_flipped_bit_at_a_random_address_is_caught_with_its_address_and_bit() {
    // Quick sizes on a CPU adapter: four buffers of 4 MiB.
    let mut rng = rand::rng();
    let chunk: u64 = rng.random_range(0..4);
    let word: u64 = rng.random_range(0..(4 << 20) / 4);
    let bit: u32 = rng.random_range(0..32);
    eprintln!("flipping bit {bit} of word {word} of buffer {chunk} on check repetition 1");
    let mut lane = ["0u"; 4];
    let mask = format!("{}u", 1u32 << bit);
    lane[(word % 4) as usize] = &mask;
    let bad = mutate(
        VRAM,
        "return mem[v];",
        &format!(
            "return mem[v] ^ select(vec4(0u), vec4({}), p.chunk == {chunk}u && v == {}u && p.run == 1u);",
            lane.join(", "),
            word / 4
        ),
    );
    let run = caught(bad, "vram_check", "flipped bits");
    let r = row(&run, "vram_check");
    let at = (num(&r, "chunk_bytes") * chunk + word * 4).to_string();
    eprintln!("expected at byte {at}");
    assert_eq!(num(&r, "errors"), 1, "{r}");
    assert_eq!(fact(&r, "lowest_fail_byte"), Some(at.clone()), "{r}");
    assert_eq!(fact(&r, "highest_fail_byte"), Some(at), "{r}");
    assert_eq!(fact(&r, "flipped_bits"), Some(format!("{bit}:1")), "{r}");
    assert!(common::stderr(&run.output).contains("this adapter's memory"));
    assert_eq!(row(&run, "vram_write")["verified"], true);
}

#[test]
fn a_check_that_never_reads_is_caught() {
    let bad = mutate(
        VRAM,
        "return mem[v];",
        "return hash4(p.key, v) * vec4(p.mul) + vec4(p.add);",
    );
    caught(bad, "vram_check", "planted canaries");
}

#[test]
fn a_check_that_substitutes_the_pattern_for_one_block_is_caught() {
    // Block 1 (16 KiB) of every buffer is computed, not read.
    let bad = mutate(
        VRAM,
        "return mem[v];",
        "if (v / 1024u == 1u) { return hash4(p.key, v) * vec4(p.mul) + vec4(p.add); }\n    return mem[v];",
    );
    caught(bad, "vram_check", "planted canaries");
}

#[test]
fn a_check_that_replays_the_previous_repetitions_report_is_caught() {
    // Memoising: memory holds the same pattern, so repeat the last answer.
    let bad = mutate(
        VRAM,
        "    // The hot loop only ORs",
        "    if (p.run > 0u) {
        let n = 2u + 3u * p.recs;
        for (var i = first_index(wid, nwg, lid); i < n; i += stride) {
            atomicStore(&report[32u + p.slot * n + i], atomicLoad(&report[32u + (p.slot - 1u) * n + i]));
        }
        return;
    }
    // The hot loop only ORs",
    );
    caught(bad, "vram_check", "planted canaries");
}

#[test]
fn a_check_that_skips_every_second_repetition_is_caught() {
    let bad = mutate(
        VRAM,
        "    // The hot loop only ORs",
        "    if (p.run % 2u == 1u) { return; }\n    // The hot loop only ORs",
    );
    caught(bad, "vram_check", "planted canaries");
}

#[test]
fn a_check_that_skips_words_is_caught() {
    let bad = mutate(
        VRAM,
        "v0 < p.words4; v0 += stride * SPAN",
        "v0 < p.words4 / 2u; v0 += stride * SPAN",
    );
    caught(bad, "vram_check", "planted canaries");
}

#[test]
fn a_write_that_skips_every_second_repetition_is_caught() {
    let bad = mutate(
        VRAM,
        "    let mul = vec4(p.mul);\n    let add = vec4(p.add);\n    for (var v = first_index(wid, nwg, lid); v < p.words4; v += stride) {\n        mem[v] = mem[v] +",
        "    if (p.run % 2u == 1u) { return; }\n    let mul = vec4(p.mul);\n    let add = vec4(p.add);\n    for (var v = first_index(wid, nwg, lid); v < p.words4; v += stride) {\n        mem[v] = mem[v] +",
    );
    caught(bad, "vram_write", "with flipped bits");
}

#[test]
fn a_write_that_ignores_the_pass_step_is_caught() {
    let bad = mutate(
        VRAM,
        "mem[v] = mem[v] + hash4(p.key, v) * mul + add;",
        "mem[v] = mem[v] + hash4(p.key, v) * vec4(2u) + add;",
    );
    caught(bad, "vram_write", "with flipped bits");
}
