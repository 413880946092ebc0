//! The terminal view: SI prefixes here only; files keep base units.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::ResultRow;
use crate::catalogue::Suite;
use crate::gpu::AdapterDesc;
use crate::units::si;

pub fn adapters_table(list: &[AdapterDesc]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "#",
        "name",
        "backend",
        "type",
        "vendor:device",
        "driver",
        "ts",
        "f16",
        "subgr",
        "i64",
        "max buffer",
        "max storage",
    ]);
    let yn = |b: bool| if b { "yes" } else { "no" };
    for d in list {
        t.add_row([
            d.index.to_string(),
            d.name.clone(),
            d.backend.clone(),
            d.device_type.clone(),
            format!("{:04x}:{:04x}", d.vendor_id, d.device_id),
            format!("{} {}", d.driver, d.driver_info).trim().to_string(),
            yn(d.timestamps).into(),
            yn(d.f16).into(),
            if d.subgroups {
                format!("{}-{}", d.subgroup_min_size, d.subgroup_max_size)
            } else {
                "no".into()
            },
            yn(d.int64).into(),
            crate::units::bytes(d.max_buffer_size as f64),
            crate::units::bytes(d.max_storage_binding_size as f64),
        ]);
    }
    t.to_string()
}

/// A row whose samples vary more than this (coefficient of variation, %)
/// is marked noisy.
pub const NOISY_CV_PCT: f64 = 10.0;

/// The command whose rows a table shows: a row's note suggests only what
/// that command accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Health,
}

/// What to say of a row whose samples vary too much, for this command.
fn noisy_note(cmd: Command, suite: Suite) -> &'static str {
    match (cmd, suite) {
        (Command::Run, _) => "noisy: rerun with --full",
        // The soak's intervals grow with the soak, up to 10 s.
        (Command::Health, Suite::Soak) => "noisy: a longer --duration times longer intervals",
        // health times the VRAM test the same way whatever its flags; the
        // memory verdict rests on the errors, not the speed.
        (Command::Health, _) => "noisy (speed only: not part of the verdict)",
    }
}

/// What the reader should know about a row of `run`: its transfer size, a
/// rate that may be a cache's, samples that vary too much.
pub fn row_note(r: &ResultRow) -> String {
    row_note_for(r, Command::Run)
}

/// [`row_note`] for the rows of `cmd`.
pub fn row_note_for(r: &ResultRow, cmd: Command) -> String {
    let mut notes = Vec::new();
    if r.suite == Suite::Transfer {
        if let Some(b) = r.params.bytes() {
            notes.push(crate::units::bytes(b as f64));
        }
    }
    if r.params.cache_sized().is_some() {
        notes.push(if r.suite == Suite::Ethash {
            "dataset cut: not comparable".to_string()
        } else {
            "cache-sized: not comparable".to_string()
        });
    }
    if r.cv_pct > NOISY_CV_PCT {
        notes.push(noisy_note(cmd, r.suite).to_string());
    }
    notes.join("; ")
}

/// The kernel, and for an llm kernel what tells its rows apart (the model,
/// the context, the batch: one kernel runs several): `token_q4_k_m
/// (qwen3-30b-a3b, context 512, batch 4)`.
fn kernel_label(r: &ResultRow) -> String {
    if r.suite != crate::catalogue::Suite::Llm {
        return r.kernel.to_string();
    }
    let p = &r.params;
    let mut what: Vec<String> = p.model().map(str::to_string).into_iter().collect();
    what.extend(p.context().map(|c| format!("context {c}")));
    what.extend(p.batch().map(|b| format!("batch {b}")));
    match what.is_empty() {
        true => r.kernel.to_string(),
        false => format!("{} ({})", r.kernel, what.join(", ")),
    }
}

/// The rows of `run`.
pub fn results_table(rows: &[ResultRow]) -> String {
    results_table_for(rows, Command::Run)
}

/// The rows of `cmd`, with notes that suggest only what `cmd` accepts.
pub fn results_table_for(rows: &[ResultRow], cmd: Command) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header([
        "suite",
        "kernel",
        "metric",
        "median",
        "min .. max",
        "cv",
        "n",
        "timing",
        "verified",
        "note",
    ]);
    for r in rows {
        t.add_row([
            Cell::new(r.suite),
            Cell::new(kernel_label(r)),
            Cell::new(r.metric),
            Cell::new(si(r.value, &r.unit)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{} .. {}", si(r.min, &r.unit), si(r.max, &r.unit)))
                .set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.1}%", r.cv_pct)).set_alignment(CellAlignment::Right),
            Cell::new(r.samples),
            Cell::new(&r.timing),
            Cell::new(if r.verified { "yes" } else { "NO (unverified)" }),
            Cell::new(row_note_for(r, cmd)),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Fact, Params};

    #[test]
    fn llm_rows_name_the_model_context_and_batch_they_ran() {
        let r = crate::report::summary::fixtures::row_with(
            "llm",
            "token_q4_k_m",
            "token_rate",
            1.0,
            "model=qwen3-30b-a3b;context=512;batch=4;layers_resident=2",
        );
        assert_eq!(
            kernel_label(&r),
            "token_q4_k_m (qwen3-30b-a3b, context 512, batch 4)"
        );
        let d = crate::report::summary::fixtures::row_with(
            "llm",
            "decode_q4_0",
            "token_rate",
            1.0,
            "model=llama2-7b;format=q4_0",
        );
        assert_eq!(kernel_label(&d), "decode_q4_0 (llama2-7b)");
        let h = crate::report::summary::fixtures::row_with("hash", "sha256d", "hash_rate", 1.0, "");
        assert_eq!(kernel_label(&h), "sha256d");
    }

    #[test]
    fn notes_say_size_cache_and_noise() {
        let mut r = crate::report::summary::fixtures::row_with(
            "transfer",
            "d2h",
            "bandwidth",
            1e9,
            "bytes=16777216;data=random",
        );
        r.cv_pct = 2.0;
        assert_eq!(row_note(&r), "16.0 MiB");
        r.cv_pct = 25.0;
        assert!(row_note(&r).ends_with("noisy: rerun with --full"));
        // health refuses --full: its rows suggest only what it accepts.
        let noisy = |suite: &str| {
            let (kernel, metric) = match suite {
                "soak" => ("soak_fma", "flops"),
                _ => ("vram_check", "bandwidth"),
            };
            let mut r = crate::report::summary::fixtures::row_with(suite, kernel, metric, 1e9, "");
            r.cv_pct = 25.0;
            r
        };
        let (soak, vram) = (noisy("soak"), noisy("vram"));
        assert_eq!(
            row_note_for(&soak, Command::Health),
            "noisy: a longer --duration times longer intervals"
        );
        assert!(!row_note_for(&vram, Command::Health).contains("--"));
        assert!(row_note_for(&vram, Command::Health).starts_with("noisy"));
        r.suite = Suite::Stream;
        r.kernel = "triad".parse().unwrap();
        r.params = Params(vec![
            Fact::ArrayBytes(8388608),
            crate::workloads::stream::cache_note(8 << 20, 32 << 20).unwrap(),
        ]);
        assert!(
            row_note(&r).starts_with("cache-sized: not comparable"),
            "{}",
            row_note(&r)
        );
        assert_eq!(
            crate::workloads::stream::cache_note(64 << 20, 32 << 20),
            None
        );
    }
}
