//! `hashflops mine --algo ethash` (and `etchash`, the same search over
//! Ethereum Classic's epochs): the block's epoch dataset generated on
//! the GPU, a nonce search that reports candidates passing the target's top
//! 32-bit word, and every candidate hashed again on the CPU by the light
//! method (from the light cache alone, nothing read back from the GPU) for
//! the exact 256-bit comparison and the mix hash and final hash printed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::ProgressBar;

use super::mine::nonce_bar;
use crate::cli::{typed, MineAlgo, MineArgs};
use crate::error::exit;
use crate::gpu::{Adapters, Gpu};
use crate::sha::Target;
use crate::units::si;
use crate::workloads::ethash::check::{expected, expected_counts};
use crate::workloads::ethash::epoch::{Chain, Epoch};
use crate::workloads::ethash::hits::{self, HitSearch};
use crate::workloads::ethash::kernel::{EthashKernel, Range, SHADER, WGSL};
use crate::workloads::ethash::reference::{self as r, Hashed, Item};
use crate::workloads::Shaders;
use crate::{usage, usage_bail};

/// Candidates one dispatch can report; chunks are sized to expect an
/// eighth of it, and a chunk that overflows is split and searched again.
const CAPACITY: u32 = 4096;
/// Chunks whose fold of one invocation is checked by the light method:
/// the first few, then one in this many (each costs that invocation's
/// nonces again on the CPU).
const FOLD_EVERY: u64 = 64;

/// What the flags ask for, all checked before any GPU work.
struct Job {
    epoch: Epoch,
    header: [u8; 32],
    start: u64,
    count: u64,
    target: Target,
    json: Option<PathBuf>,
}

/// The dataset searched: an epoch's, or the tiny one of the tests.
struct Dataset {
    cache: Vec<Item>,
    bytes: u64,
    name: String,
}

/// One verified hit.
struct Hit {
    nonce: u64,
    hashed: Hashed,
}

pub fn mine(args: MineArgs) -> Result<i32> {
    let job = parse(&args)?;
    let adapters = Adapters::enumerate(args.adapter.backend);
    let idx = adapters.select(args.adapter.adapter.as_deref(), false)?[0];
    let (adapter, desc) = &adapters.list[idx];
    let gpu = Gpu::open(adapter, desc)?;
    let shaders = Shaders::from_dir(args.shader_dir.clone())?;
    let wgsl = shaders.get(SHADER, WGSL)?;
    let data = dataset(job.epoch, args.quiet);
    let groups = if desc.is_cpu() { 64 } else { 4096 };
    let rows = (data.bytes / r::MIX_BYTES) as u32;
    let kernel = EthashKernel::new(&gpu, &wgsl, rows, groups, 1)?;
    generate(&kernel, &wgsl, &data, args.quiet)?;
    let search = HitSearch::new(&kernel, &wgsl, CAPACITY)?;
    // A CPU adapter's dispatch of one nonce per invocation already takes
    // a while; a GPU's may take more before a watchdog notices.
    let per_invocation = if desc.is_cpu() { 1 } else { 16 };
    let mut s = Searcher {
        kernel: &kernel,
        search: &search,
        data: &data,
        job: &job,
        max_chunk: kernel.invocations as u64 * per_invocation,
        hits: Vec::new(),
        problems: Vec::new(),
        candidates: 0,
        chunks: 0,
    };
    let t0 = Instant::now();
    s.run(args.quiet)?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "hashflops: searched {} nonces ({:#x}..={:#x}) of {} in {secs:.2} s, {} on {} ({}); {} hit(s) for target {}; {} candidate(s) from the GPU's 32-bit filter, all re-hashed on the CPU",
        job.count,
        job.start,
        job.start + (job.count - 1),
        data.name,
        si(job.count as f64 / secs, "H/s"),
        desc.name,
        desc.backend,
        s.hits.len(),
        job.target.hex(),
        s.candidates
    );
    write_json(&job, &s.hits)?;
    if !s.problems.is_empty() {
        for p in &s.problems {
            eprintln!("hashflops: GPU disagrees with the CPU: {p}");
        }
        return Ok(exit::UNVERIFIED);
    }
    Ok(exit::OK)
}

/// The flags of an Ethash search; anything wrong is the user's to fix.
fn parse(args: &MineArgs) -> Result<Job> {
    let header = parse_header(&args.header)?;
    let start = match &args.start {
        Some(s) => parse_nonce(s)?,
        None => 0,
    };
    let Some(count) = args.count else {
        usage_bail!("--algo ethash needs --count N, how many nonces to test");
    };
    if start as u128 + count as u128 > 1u128 << 64 {
        usage_bail!(
            "--start {start:#x} --count {count} runs past the last nonce 0xffffffffffffffff (nonces do not wrap around)"
        );
    }
    let chain = match args.algo {
        MineAlgo::Etchash => Chain::Etchash,
        _ => Chain::Ethash,
    };
    let Some(block) = args.block else {
        usage_bail!(
            "--algo {} needs --block B, whose epoch gives the dataset",
            chain.name().to_lowercase()
        );
    };
    let epoch = Epoch::of_block(chain, block).map_err(|e| usage!("--block: {e}"))?;
    let target = match (&args.target, args.share_bits) {
        (Some(hex), _) => Target::from_hex(hex),
        (None, Some(n)) => Target::from_share_bits(n),
        (None, None) => Ok(Target([0xff; 32])),
    }
    .map_err(|e| usage!("{e}"))?;
    if let Some(dir) = args.json.as_deref().and_then(|p| p.parent()) {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            usage_bail!("--json: the folder {} does not exist", dir.display());
        }
    }
    Ok(Job {
        epoch,
        header,
        start,
        count,
        target,
        json: args.json.clone(),
    })
}

/// A 32-byte header hash from 64 hex digits, counted in characters.
fn parse_header(s: &str) -> Result<[u8; 32]> {
    let s = s.trim();
    let n = s.chars().count();
    if n != 64 {
        usage_bail!("an Ethash header hash is 32 bytes = 64 hex digits, got {n} characters");
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        usage_bail!(
            "header is not valid hex: character {c:?} at position {i} is not a hex digit (an Ethash header hash is 64 hex digits)"
        );
    }
    let mut h = [0u8; 32];
    hex::decode_to_slice(s, &mut h).map_err(|e| usage!("header is not valid hex: {e}"))?;
    Ok(h)
}

/// A 64-bit nonce, decimal or `0x` hex.
fn parse_nonce(s: &str) -> Result<u64> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16)
            .ok()
            .filter(|_| !h.starts_with('+')),
        None => t.parse::<u64>().ok().filter(|_| !t.starts_with('+')),
    };
    parsed.ok_or_else(|| {
        usage!(
            "--start {:?} is not a nonce: must be a whole number in 0..=18446744073709551615 or 0x and 1 to 16 hex digits",
            typed(s)
        )
    })
}

/// The light cache and size of `epoch`'s dataset, or the tiny test
/// dataset where [`hits::TINY_ENV`] is set.
fn dataset(epoch: Epoch, quiet: bool) -> Dataset {
    if std::env::var_os(hits::TINY_ENV).is_some() {
        return Dataset {
            cache: r::light_cache(hits::TINY_CACHE_BYTES, &[0; 32]),
            bytes: hits::TINY_DATASET_BYTES,
            name: "the tiny test dataset".into(),
        };
    }
    if !quiet {
        eprintln!(
            "hashflops: {}: light cache of {} MiB on the CPU",
            epoch.label(),
            epoch.cache_bytes() >> 20
        );
    }
    Dataset {
        cache: epoch.cache(),
        bytes: epoch.dataset_bytes(),
        name: epoch.label(),
    }
}

/// Generates the dataset on the GPU, a line on stderr at every tenth.
fn generate(kernel: &EthashKernel, wgsl: &str, data: &Dataset, quiet: bool) -> Result<()> {
    let t0 = Instant::now();
    let mut shown = 0;
    kernel.generate_with(wgsl, &data.cache, |done, total| {
        let tenths = done * 10 / total;
        if !quiet && tenths > shown {
            shown = tenths;
            eprintln!(
                "hashflops: {}: dataset of {} MiB on the GPU: {}% after {:.0} s",
                data.name,
                data.bytes >> 20,
                tenths * 10,
                t0.elapsed().as_secs_f64()
            );
        }
    })?;
    Ok(())
}

/// Writes the hits as JSON where `--json` says.
fn write_json(job: &Job, hits: &[Hit]) -> Result<()> {
    let Some(path) = &job.json else {
        return Ok(());
    };
    let list: Vec<serde_json::Value> = hits
        .iter()
        .map(|h| {
            serde_json::json!({
                "nonce": format!("{:#018x}", h.nonce),
                "mix_hash": hex::encode(h.hashed.mix),
                "final_hash": hex::encode(h.hashed.final_hash),
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "hits": list }))?;
    if path.as_os_str() == "-" {
        writeln!(std::io::stdout().lock(), "{text}")?;
        return Ok(());
    }
    std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing {}", path.display()))
}

/// The search's state across chunks.
struct Searcher<'a, 'k, 'g> {
    kernel: &'a EthashKernel<'g>,
    search: &'a HitSearch<'k, 'g>,
    data: &'a Dataset,
    job: &'a Job,
    max_chunk: u64,
    hits: Vec<Hit>,
    problems: Vec<String>,
    candidates: u64,
    chunks: u64,
}

impl Searcher<'_, '_, '_> {
    /// Every nonce of the job, in chunks that stay within one high word
    /// (the shader's nonce is the high word and the low word plus an index).
    fn run(&mut self, quiet: bool) -> Result<()> {
        let job = self.job;
        let top = job.target.top_word();
        let by_hits = (CAPACITY as f64 / 8.0 / job.target.top_word_probability()) as u64;
        let chunk = self.max_chunk.min(by_hits).max(1);
        let pb = nonce_bar(quiet, job.count);
        let end = job.start as u128 + job.count as u128;
        let mut next = job.start as u128;
        let mut pending: Vec<(u64, u64)> = Vec::new();
        while next < end || !pending.is_empty() {
            let (first, n) = match pending.pop() {
                Some(p) => p,
                None => {
                    let to_wrap = (1u64 << 32) - (next as u64 & 0xffff_ffff);
                    let n = (chunk as u128).min(end - next).min(to_wrap as u128) as u64;
                    let first = next as u64;
                    next += n as u128;
                    (first, n)
                }
            };
            if !self.chunk(first, n, top, &pb)? {
                // Search the two halves again, lower half first.
                let half = n / 2;
                pending.push((first + half, n - half));
                pending.push((first, half));
            }
        }
        pb.finish_and_clear();
        Ok(())
    }

    /// Searches `n` nonces from `first`; false where the candidates
    /// overflowed the buffer and the chunk must be split.
    fn chunk(&mut self, first: u64, n: u64, top: u32, pb: &ProgressBar) -> Result<bool> {
        let k = self.kernel;
        let range = Range {
            hi: (first >> 32) as u32,
            first: first as u32,
            count: n as u32,
            iterations: k.iterations(n as u32),
        };
        k.reset_out();
        let found = self.search.run(&self.job.header, range, top)?;
        if found.overflowed() && n > 1 {
            return Ok(false);
        }
        self.check_out(range)?;
        self.candidates += found.count as u64;
        let mut nonces = found.nonces;
        nonces.sort_unstable();
        for nonce in nonces {
            self.recheck(nonce, top, pb)?;
        }
        pb.inc(n);
        self.chunks += 1;
        Ok(true)
    }

    /// Every invocation's count of nonces, and now and then one
    /// invocation's fold by the light method: a kernel that skips or
    /// misses nonces cannot report a clean search.
    fn check_out(&mut self, range: Range) -> Result<()> {
        let k = self.kernel;
        let out = k.read_out()?;
        let counts = expected_counts(&[range], k.invocations);
        if let Some(i) = (0..out.len()).find(|&i| out[i][1] != counts[i]) {
            self.problems.push(format!(
                "invocation {i} counted {} nonces of the chunk from {:#x} instead of {}",
                out[i][1],
                range.nonce(0),
                counts[i]
            ));
        }
        if self.chunks >= 4 && !self.chunks.is_multiple_of(FOLD_EVERY) {
            return Ok(());
        }
        let busy = range.count.min(k.invocations);
        let inv = rand::random_range(0..busy);
        let d = self.data;
        let want = expected(&[range], k.invocations, inv, |nonce| {
            r::hashimoto_light(&d.cache, d.bytes, &self.job.header, nonce)
        });
        if out[inv as usize] != want {
            self.problems.push(format!(
                "invocation {inv}: the GPU folded {:08x} over the chunk from {:#x}; the light method gives {:08x}",
                out[inv as usize][0],
                range.nonce(0),
                want[0]
            ));
        }
        Ok(())
    }

    /// One candidate hashed on the CPU: a hit printed, a miss of the exact
    /// target ignored, a miss of the top word the GPU's wrong answer.
    fn recheck(&mut self, nonce: u64, top: u32, pb: &ProgressBar) -> Result<()> {
        let d = self.data;
        let hashed = r::hashimoto_light(&d.cache, d.bytes, &self.job.header, nonce);
        let f = &hashed.final_hash;
        let word = u32::from_be_bytes([f[0], f[1], f[2], f[3]]);
        if word > top {
            self.problems.push(format!(
                "nonce {nonce:#018x}: the GPU found its final hash's top word at most {top:08x}; the CPU's final hash is {}",
                hex::encode(f)
            ));
            return Ok(());
        }
        // Ethereum's boundary rule: the final hash, read big-endian, not
        // above the target.
        if *f > self.job.target.0 {
            return Ok(());
        }
        let json_on_stdout = self
            .job
            .json
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-");
        if !json_on_stdout {
            let line = format!(
                "{nonce:#018x} mix_hash={} final_hash={}",
                hex::encode(hashed.mix),
                hex::encode(f)
            );
            pb.suspend(|| writeln!(std::io::stdout().lock(), "{line}"))?;
        }
        self.hits.push(Hit { nonce, hashed });
        Ok(())
    }
}
