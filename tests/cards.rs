//! `hashflops cards`: the reference table with its sources, and the Ethash
//! estimate, through the real binary (no GPU needed).

mod common;
use common::{hashflops, stderr};

#[test]
fn cards_lists_at_least_35_cards_each_with_sources() {
    let out = hashflops(&["cards"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for card in [
        "GTX 1060 6GB",
        "P106-100",
        "RX 580 8GB",
        "CMP 170HX",
        "Tesla P40",
        "H100 SXM",
    ] {
        assert!(text.contains(card), "{card} missing from `cards`");
    }
    let (_, sources) = text.split_once("\nsources\n").expect("a sources section");
    let cards_with_sources = sources
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    ") && l.ends_with(':'))
        .count();
    assert!(
        cards_with_sources >= 35,
        "{cards_with_sources} cards with sources"
    );
    assert!(text.contains("vendor spec") && text.contains("community measurement"));
}

#[test]
fn cards_json_has_every_figure_with_basis_and_source() {
    let out = hashflops(&["cards", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cards = v.as_array().unwrap();
    assert!(cards.len() >= 35);
    for c in cards {
        for f in c["figures"].as_array().unwrap() {
            assert!(f["source"].as_str().is_some_and(|s| !s.is_empty()), "{f}");
            assert!(f["basis"].as_str().is_some(), "{f}");
        }
    }
}

#[test]
fn an_ethash_rate_gives_a_labelled_estimate() {
    let out = hashflops(&["cards", "--ethash", "30"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    // 30 MH/s x 8 KiB = 246 GB/s: what the RX 580 8GB mined, so its
    // bandwidth in the table (256 GB/s) is the answer, not a figure of our
    // own; divided by the weights decode reads per token, the same bytes
    // every ceiling of the summary divides (not the file size).
    assert!(text.contains("246 GB/s"), "{text}");
    assert!(
        text.contains("RX 580 8GB mined 30.0 MH/s (community measurement) with 256 GB/s"),
        "{text}"
    );
    assert!(text.contains("memory bandwidth: 256 GB/s"), "{text}");
    assert!(!text.contains("289 GB/s"), "{text}");
    use hashflops::domain::{formats::Format, models::LLAMA2_7B};
    let read = LLAMA2_7B.weights_read_per_token(Format::Q4_0);
    let shown = hashflops::units::si(read, "B");
    assert!(
        text.contains(&format!("{shown} of weights read per token")),
        "{text}"
    );
    let ceiling = 256e9 / read;
    assert!(
        text.contains(&format!("at most {ceiling:.0} tok/s")),
        "{text}"
    );
    assert!(text.contains("estimate"), "{text}");
    // The model's other two sizes, each named.
    let resident = hashflops::units::si(LLAMA2_7B.bytes_resident(Format::Q4_0), "B");
    let file = hashflops::units::si(LLAMA2_7B.file_size(Format::Q4_0), "B");
    assert!(text.contains(&format!("{resident} resident")), "{text}");
    assert!(text.contains(&format!("a {file} file")), "{text}");

    for bad in ["-3", "0", "nan", "abc"] {
        let out = hashflops(&["cards", "--ethash", bad]);
        assert_eq!(out.status.code(), Some(2), "--ethash {bad}");
        let err = stderr(&out);
        assert!(err.contains("--ethash"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn cards_mining_lists_every_record_with_its_source() {
    let out = hashflops(&["cards", "--mining"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("AMD Radeon RX 580"), "{text}");
    assert!(text.contains("RX 580 8GB: 2miners 30.0 MH/s; stock 17-19 (ethminer#593"));
    // The table's estimate for a GTX 1060 6GB stays beside 2miners' figure.
    assert!(text.contains(
        "22.0 MH/s (2miners) beside the table's 20.0 MH/s for the GTX 1060 6GB (estimate"
    ));
    let out = hashflops(&["cards", "--mining", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = v.as_array().unwrap();
    assert_eq!(records.len(), 90);
    for r in records {
        for x in r["rates"].as_array().unwrap() {
            assert_eq!(x["basis"], "community-measurement", "{x}");
            assert!(x["source"].as_str().unwrap().contains("2miners"), "{x}");
        }
    }
}
