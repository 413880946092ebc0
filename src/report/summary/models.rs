//! The catalogue models on this adapter, one table row each: the best
//! format that fits with its KV cache, its decode rate (measured or
//! derived, and from what), energy and cost per token; by the one rule of
//! [`crate::report::models`], which the verdict reads too.

use crate::report::facts::Facts;
use crate::report::models::{lines, ModelRate};
use crate::report::summary::FIT_HEADROOM;
use crate::units::{num, si, tokens_per_s};

/// The table with its heading, indented for the summary.
pub fn render_models(facts: &Facts) -> String {
    let all = lines(facts);
    let mem = &facts.memory;
    let mut out = format!(
        "  catalogue models, each in the most bits that fit (weights and KV cache at {} tokens; the fit rule uses {} % of {}):\n",
        crate::report::pipeline::CONTEXT,
        num(FIT_HEADROOM * 100.0),
        mem.word
    );
    // No cost column where no power was read to price.
    let priced = facts.power_price.is_some() && facts.power.is_some();
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    let mut header = vec![
        "model".to_string(),
        "format".into(),
        "needs".into(),
        format!("fits {}", mem.word),
        "decode".into(),
        "from".into(),
        "energy a token".into(),
    ];
    if priced {
        header.push("per million tokens".into());
    }
    t.set_header(header);
    for l in &all {
        t.add_row(row(l, priced));
    }
    for line in t.to_string().lines() {
        out += &format!("  {line}\n");
    }
    if facts.power.is_none() {
        out += "  (power was not read: no energy or cost per token)\n";
    }
    out
}

fn row(l: &ModelRate, priced: bool) -> Vec<String> {
    let fits = l.fits == Some(true);
    let (rate, from) = match (&l.rate, l.fits) {
        (_, Some(false)) => ("does not fit".into(), String::new()),
        (Some(r), _) => (
            tokens_per_s(r.tokens_per_s),
            format!("{} ({})", r.basis.word(), r.source()),
        ),
        (None, _) => ("no bandwidth measured".into(), String::new()),
    };
    let mut cells = vec![
        l.name.to_string(),
        l.format.label().to_string(),
        si(l.bytes_needed, "B"),
        match l.fits {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "unknown".into(),
        },
        rate,
        from,
        l.joules_per_token
            .filter(|_| fits)
            .map_or(String::new(), |j| si(j, "J")),
    ];
    if priced {
        cells.push(
            l.cost_per_million_tokens
                .filter(|_| fits)
                .map_or(String::new(), num),
        );
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::formats::Format;
    use crate::domain::models::by_id;
    use crate::report::models::bytes_needed;
    use crate::report::summary::fixtures::{desc, row};

    #[test]
    fn each_model_is_one_row_with_the_verdicts_format_and_rate() {
        let m = by_id("llama3.1-8b").unwrap();
        // Room for Q8_0 with its cache, not for F16.
        let vram = (bytes_needed(&m, crate::domain::quant::Quant::Uniform(Format::Q8_0))
            / FIT_HEADROOM)
            .ceil() as u64;
        let rows = [row("stream", "copy", "bandwidth", 400e9, true)];
        let facts = Facts::new(&desc(Some(vram)), &rows, None);
        let text = render_models(&facts);
        let tps = 400e9 / m.weights_read_per_token(Format::Q8_0);
        let line = text
            .lines()
            .find(|l| l.contains(" Llama-3.1-8B "))
            .expect("a row for Llama-3.1-8B");
        assert!(line.contains(" Q8_0 ") && line.contains(" yes "), "{line}");
        assert!(line.contains(&tokens_per_s(tps)), "{line}");
        assert!(
            line.contains("derived (stream copy's measured 400 GB/s)"),
            "{line}"
        );
        let too_big = text
            .lines()
            .find(|l| l.contains(" Llama-3.3-70B "))
            .unwrap();
        assert!(too_big.contains("does not fit"), "{too_big}");
        assert!(text.contains("power was not read"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.contains(" tok/s ")).count()
                + text.lines().filter(|l| l.contains("does not fit")).count(),
            crate::domain::models::catalogue().len()
        );
    }
}
