//! `hashflops mine`: a real nonce search over a block header, with
//! double SHA-256 here or Ethash (`mine_ethash`).

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{self, MineAlgo, MineArgs};
use crate::error::exit;
use crate::gpu::{Adapters, Gpu};
use crate::sha::{self, Target};
use crate::units::si;
use crate::usage;
use crate::workloads::hash::{self, HashKernel, NonceRange};
use crate::workloads::Shaders;

pub fn mine(args: MineArgs) -> Result<i32> {
    match args.algo {
        MineAlgo::Sha256d => sha256d(args),
        MineAlgo::Ethash | MineAlgo::Etchash => super::mine_ethash::mine(args),
    }
}

fn sha256d(args: MineArgs) -> Result<i32> {
    let (header, start, count, target) = nonces(&args)?;
    let adapters = Adapters::enumerate(args.adapter.backend);
    let idx = adapters.select(args.adapter.adapter.as_deref(), false)?[0];
    let (adapter, desc) = &adapters.list[idx];
    let gpu = Gpu::open(adapter, desc)?;
    let shaders = Shaders::from_dir(args.shader_dir.clone())?;
    let wgsl = shaders.get(hash::SHADER, hash::WGSL)?;
    let hits_cap = 4096u32;
    let kernel = HashKernel::new(&gpu, &wgsl, 1, hits_cap)?;

    let self_test = hash::self_test(&kernel);
    for p in &self_test.problems {
        eprintln!("hashflops: known-answer test failed: {p}");
    }

    let target_top = target.top_word();
    // Chunks short enough for a watchdog and sparse enough that expected
    // candidates stay far below the hit buffer; an overflowing chunk is
    // split and searched again, so no hit is ever dropped.
    let max_chunk = kernel.groups as u64 * 256 * 64;
    let by_hits = (hits_cap as f64 / 8.0 / target.top_word_probability()) as u64;
    let chunk = max_chunk.min(by_hits).max(1);
    let prep = [sha::prepare(&header)];

    let pb = nonce_bar(args.quiet, count);
    let t0 = Instant::now();
    let mut pending: Vec<(u64, u64)> = Vec::new();
    let mut next = start;
    let end = start + count;
    let mut found = 0u64;
    let mut candidates = 0u64;
    let mut check = hash::Check::default();
    let mut out = std::io::stdout().lock();
    while next < end || !pending.is_empty() {
        let (first, n) = match pending.pop() {
            Some(p) => p,
            None => {
                let n = chunk.min(end - next);
                let p = (next, n);
                next += n;
                p
            }
        };
        let range = NonceRange {
            variant: 0,
            first: first as u32,
            count: n as u32,
        };
        let (hits, cover, dispatched) = kernel.search_with_cover(&prep, &[range], target_top)?;
        if hits.overflowed() && n > 1 {
            // Search the two halves again, lower half first.
            let half = n / 2;
            pending.push((first + half, n - half));
            pending.push((first, half));
            continue;
        }
        hash::check_candidates(&[header], &[range], &hits, target_top, &mut check);
        // Every chunk proves its coverage on a sample of invocations, so a
        // kernel that skips nonces cannot report a clean search.
        let cov = hash::check_coverage(&prep, &dispatched, &cover, 1 << 14, rand::random());
        check.problems.extend(cov.problems);
        candidates += hits.items.len() as u64;
        for (nonce, h) in winners(&header, &hits.items, &target) {
            found += 1;
            pb.suspend(|| writeln!(out, "{nonce} {}", sha::display_hex(&h)))?;
        }
        pb.inc(n);
    }
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "hashflops: searched {count} nonces ({start}..={}) in {secs:.2} s, {} on {} ({}); {found} hit(s) for target {}; {candidates} candidate(s) from the GPU's 32-bit filter, all re-hashed on the CPU",
        end - 1,
        si(count as f64 / secs, "H/s"),
        desc.name,
        desc.backend,
        target.hex()
    );
    if !check.ok() || !self_test.ok() {
        for p in &check.problems {
            eprintln!("hashflops: GPU disagrees with the CPU: {p}");
        }
        return Ok(exit::UNVERIFIED);
    }
    Ok(exit::OK)
}

/// The header, the first nonce, how many to test and the target, from the
/// flags; a bad header, a range past the last nonce or a bad target is the
/// user's to fix.
fn nonces(args: &MineArgs) -> Result<(sha::Header, u64, u64, Target)> {
    if args.block.is_some() || args.json.is_some() {
        return Err(usage!(
            "--block and --json are for --algo ethash and etchash; sha256d prints its hits as lines"
        ));
    }
    let header = sha::parse_header(&args.header).map_err(|e| usage!("{e}"))?;
    let start = match &args.start {
        Some(s) => cli::parse_u32_arg(s).map_err(|e| usage!("--start: {e}"))? as u64,
        None => 0,
    };
    let count = args.count.unwrap_or((1u64 << 32) - start);
    if start + count > 1 << 32 {
        return Err(usage!(
            "--start {start} --count {count} runs past the last nonce 4294967295 (nonces do not wrap around)"
        ));
    }
    let target = match (&args.target, args.share_bits) {
        (Some(hex), _) => Target::from_hex(hex),
        (None, Some(n)) => Target::from_share_bits(n),
        (None, None) => Target::from_bits(sha::header_bits(&header)),
    }
    .map_err(|e| usage!("{e}"))?;
    Ok((header, start, count, target))
}

/// A bar of the nonces searched, on a terminal unless quiet.
pub(super) fn nonce_bar(quiet: bool, count: u64) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{bar:40} {percent}% {human_pos}/{human_len} nonces, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// The GPU's candidates whose hash, recomputed on the CPU, meets the
/// target, in nonce order.
fn winners(header: &sha::Header, hits: &[(u32, u32)], target: &Target) -> Vec<(u32, [u8; 32])> {
    let mut winners: Vec<(u32, [u8; 32])> = hits
        .iter()
        .map(|&(_, nonce)| (nonce, sha::block_hash(header, nonce)))
        .filter(|(_, h)| target.is_met_by(h))
        .collect();
    winners.sort();
    winners
}
