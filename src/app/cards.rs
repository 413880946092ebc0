//! `hashflops cards`: the built-in reference cards, each figure with its
//! basis and source; and what a remembered Ethash rate says about a card.

use std::io::Write;

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::cli::CardsArgs;
use crate::domain::{formats::Format, models::LLAMA2_7B};
use crate::error::exit;
use crate::mining_records::{self, Record};
use crate::reference_cards::{self, Basis, Card, ETHASH_BANDWIDTH_SHARE, ETHASH_BYTES_PER_HASH};
use crate::report::summary::FIT_HEADROOM;
use crate::units::si;

pub fn cards(args: CardsArgs) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    if let Some(mhs) = args.ethash {
        print_ethash_estimate(&mut out, mhs)?;
        return Ok(exit::OK);
    }
    if args.mining {
        return mining(&mut out, args.json);
    }
    let cards = reference_cards::cards();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&cards)?)?;
        return Ok(exit::OK);
    }
    writeln!(out, "{}", table(&cards))?;
    writeln!(
        out,
        "* community measurement; ~ estimate; otherwise vendor spec. Ethash estimates: {:.0} % of spec bandwidth / {} bytes per hash.",
        ETHASH_BANDWIDTH_SHARE * 100.0,
        ETHASH_BYTES_PER_HASH
    )?;
    writeln!(
        out,
        "What {} cards mined, with stock and tuned Ethash figures: `hashflops cards --mining`.",
        mining_records::records().len()
    )?;
    writeln!(out, "\nsources")?;
    for c in &cards {
        writeln!(out, "  {}:", c.card)?;
        for line in sources(c) {
            writeln!(out, "    {line}")?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

fn table(cards: &[Card]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "card",
        "kind",
        "memory",
        "FP32",
        "FP16",
        "FP64",
        "VRAM",
        "PCIe",
        "Ethash",
        "SHA-256d (hashcat 21400)",
        "L2-7B Q4_0 tg",
    ]);
    for c in cards {
        let cell = |name: &str, unit: &str| -> String {
            match c.figure(name) {
                None => "-".into(),
                Some(f) => {
                    let text = match f.value.parse::<f64>() {
                        Ok(v) if unit.is_empty() => format!("{v}"),
                        Ok(v) => si(v, unit),
                        Err(_) => f.value.clone(),
                    };
                    match f.basis {
                        Basis::VendorSpec => text,
                        Basis::CommunityMeasurement => format!("{text}*"),
                        Basis::Estimate => format!("~{text}"),
                    }
                }
            }
        };
        let fp32 = match c.figure("fp32_fma_flops") {
            Some(_) => format!(
                "{} (FMA {})",
                cell("fp32_flops", "FLOP/s"),
                cell("fp32_fma_flops", "FLOP/s")
            ),
            None => cell("fp32_flops", "FLOP/s"),
        };
        t.add_row([
            c.card.clone(),
            c.kind.clone(),
            cell("bandwidth_bs", "B/s"),
            fp32,
            cell("fp16_flops", "FLOP/s"),
            cell("fp64_flops", "FLOP/s"),
            cell("vram_bytes", "B"),
            cell("pcie", ""),
            cell("ethash_hs", "H/s"),
            cell("sha256d_hs", "H/s"),
            cell("llama7b_q4_0_tg", "tok/s"),
        ]);
    }
    t.to_string()
}

/// One line per distinct (basis, source), naming the figures it backs.
fn sources(c: &Card) -> Vec<String> {
    let mut groups: Vec<(Basis, &str, Vec<&str>)> = Vec::new();
    for f in &c.figures {
        match groups
            .iter_mut()
            .find(|(b, s, _)| *b == f.basis && *s == f.source)
        {
            Some(g) => g.2.push(&f.figure),
            None => groups.push((f.basis, &f.source, vec![&f.figure])),
        }
    }
    let mut out: Vec<String> = groups
        .into_iter()
        .map(|(b, s, figs)| format!("{} ({}): {s}", figs.join(", "), b.as_str()))
        .collect();
    if !c.notes.is_empty() {
        out.push(format!("note: {}", c.notes));
    }
    out
}

fn print_ethash_estimate(out: &mut impl Write, mhs: f64) -> std::io::Result<()> {
    let e = reference_cards::estimate_from_ethash(mhs * 1e6);
    writeln!(
        out,
        "Ethash at {} moves {} through memory ({} bytes per hash).",
        si(e.ethash_hs, "H/s"),
        si(e.ethash_traffic_bs, "B/s"),
        ETHASH_BYTES_PER_HASH
    )?;
    for m in &e.matches {
        writeln!(
            out,
            "{} mined {} ({}) with {} of memory bandwidth ({})",
            m.card,
            si(m.ethash_hs, "H/s"),
            m.ethash_basis.as_str(),
            si(m.bandwidth_bs, "B/s"),
            m.bandwidth_basis.as_str()
        )?;
    }
    let range = e.measured_share.map_or(String::new(), |(lo, hi)| {
        format!(
            "; on the cards with measured rates Ethash reached {:.0}-{:.0} % of spec bandwidth",
            lo * 100.0,
            hi * 100.0
        )
    });
    if e.from_table {
        writeln!(
            out,
            "memory bandwidth: {}, as the table lists for the {}, the card that mined closest to this rate{range}",
            si(e.bandwidth_bs, "B/s"),
            e.matches[0].card
        )?;
    } else {
        writeln!(
            out,
            "estimate: memory bandwidth about {} (no card of the table mined this rate; {:.0} % of spec bandwidth assumed, as the table's estimates{range})",
            si(e.bandwidth_bs, "B/s"),
            ETHASH_BANDWIDTH_SHARE * 100.0
        )?;
    }
    writeln!(
        out,
        "estimate: Llama-2-7B Q4_0 decode at most {:.0} tok/s (bandwidth / {} of weights read per token); real runtimes reach 60-85 % of that: about {:.0}-{:.0} tok/s",
        e.llama7b_q4_0_ceiling_tps,
        si(LLAMA2_7B.weights_read_per_token(Format::Q4_0), "B"),
        e.llama7b_q4_0_low_tps,
        e.llama7b_q4_0_high_tps
    )?;
    let (m, f) = (*LLAMA2_7B, Format::Q4_0);
    writeln!(
        out,
        "{} {}: {} resident (fits with its cache in {} of VRAM), a {} file",
        m.name,
        f.label(),
        si(m.bytes_resident(f), "B"),
        si(m.bytes_resident(f) / FIT_HEADROOM, "B"),
        si(m.file_size(f), "B")
    )?;
    writeln!(out, "These are estimates from a remembered rate, not measurements: `hashflops run` measures the card.")
}

/// `cards --mining`: every card's rates, then the Ethash figures of miners'
/// threads, then every source.
fn mining(out: &mut impl Write, json: bool) -> Result<i32> {
    let records = mining_records::records();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
        return Ok(exit::OK);
    }
    writeln!(out, "{}", mining_table(&records))?;
    writeln!(
        out,
        "Typical tuned rates of the 2miners calculator (community measurement): miners ran memory overclocks and timing straps, at the DAG sizes of their day."
    )?;
    writeln!(
        out,
        "\nEthash, stock and tuned (MH/s, as miners reported them)"
    )?;
    for r in &records {
        for d in &r.ethash_detail {
            writeln!(
                out,
                "  {}: 2miners {}; stock {} ({}); tuned {} ({}); spec bandwidth {} ({}){}",
                d.card,
                si(d.ethash_2miners_hs, "H/s"),
                d.stock_mhs,
                or_none(&d.stock_source),
                d.tuned_mhs,
                or_none(&d.tuned_source),
                si(d.spec_bandwidth_bs, "B/s"),
                d.bandwidth_note,
                if d.notes.is_empty() {
                    String::new()
                } else {
                    format!("; {}", d.notes)
                }
            )?;
        }
    }
    writeln!(
        out,
        "\nwhere the reference table gives another Ethash figure"
    )?;
    for r in &records {
        let mined = r.ethash().map_or("-".into(), |x| si(x.value, "H/s"));
        for t in r.table_ethash.iter().filter(|t| t.differs) {
            writeln!(
                out,
                "  {}: {} (2miners) beside the table's {} for the {} ({}: {})",
                r.card,
                mined,
                si(t.ethash_hs, "H/s"),
                t.card,
                t.basis.as_str(),
                t.source
            )?;
        }
    }
    writeln!(out, "\nsources")?;
    for r in &records {
        if let Some(x) = r.rates.first() {
            writeln!(out, "  {}: {} ({})", r.card, x.source, x.basis.as_str())?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

fn or_none(s: &str) -> &str {
    if s.trim().is_empty() {
        "no source given"
    } else {
        s
    }
}

fn mining_table(records: &[Record]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec!["card", "VRAM"];
    header.extend(mining_records::ALGORITHMS.iter().map(|(_, name)| *name));
    t.set_header(header);
    for r in records {
        let vram: Vec<String> = r.vram_bytes.iter().map(|&b| si(b as f64, "B")).collect();
        let mut cells = vec![r.card.clone(), vram.join(" / ")];
        cells.extend(
            mining_records::ALGORITHMS
                .iter()
                .map(|(id, _)| r.rate(id).map_or("-".into(), |x| si(x.value, x.unit))),
        );
        t.add_row(cells);
    }
    t.to_string()
}
