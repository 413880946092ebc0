//! `mine`'s flags: a nonce search on the GPU with Bitcoin's SHA-256d or
//! with Ethash and Etchash, the hashes these cards mined.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{in_range, AdapterArgs};

/// The hash `mine` searches with.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MineAlgo {
    /// Bitcoin's double SHA-256 of an 80-byte header, 32-bit nonces.
    #[default]
    Sha256d,
    /// Ethash of a 32-byte header hash, 64-bit nonces.
    Ethash,
    /// Ethereum Classic's Etchash (ECIP-1099): Ethash over the dataset of
    /// `--block`'s 60,000-block epoch (from block 11,700,000; before it,
    /// as Ethash).
    Etchash,
}

#[derive(Args, Debug)]
pub struct MineArgs {
    /// The hash to search with.
    #[arg(long, value_enum, default_value_t = MineAlgo::Sha256d)]
    pub algo: MineAlgo,
    /// sha256d: the 80-byte block header as 160 hex digits, as serialised on
    /// the wire. ethash, etchash: the 32-byte header hash (without nonce and mix
    /// hash) as 64 hex digits.
    #[arg(long, value_name = "HEX")]
    pub header: String,
    /// First nonce to test: sha256d 0 to 4294967295; ethash a 64-bit nonce,
    /// decimal or 0x-prefixed hex (etchash too).
    #[arg(long, value_name = "NONCE", allow_negative_numbers = true)]
    pub start: Option<String>,
    /// How many nonces to test, 1 to 4294967296 (sha256d default: up to the
    /// last nonce, 2^32-1; ethash: required).
    #[arg(long, value_parser = parse_count,
          allow_negative_numbers = true)]
    pub count: Option<u64>,
    /// Target as 64 hex digits (a 256-bit number, most significant first).
    /// Default: sha256d the target encoded in the header's `bits` field;
    /// ethash all ones (every nonce is a hit).
    #[arg(long, value_name = "HEX64", conflicts_with = "share_bits")]
    pub target: Option<String>,
    /// Share target: hashes with at least N leading zero bits (1 to 255).
    #[arg(long, value_name = "N", value_parser = parse_share_bits,
          allow_negative_numbers = true)]
    pub share_bits: Option<u32>,
    /// ethash, etchash: the block number; its epoch gives the dataset
    /// (Ethash: B / 30000; Etchash from block 11,700,000: B / 60000).
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    pub block: Option<u64>,
    /// ethash, etchash: the hits as JSON into this file, or `-` for stdout.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub adapter: AdapterArgs,
    /// Load shaders from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub shader_dir: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_count(s: &str) -> Result<u64, String> {
    in_range(
        s,
        1,
        1 << 32,
        "a nonce count (at most the whole nonce space)",
    )
}

fn parse_share_bits(s: &str) -> Result<u32, String> {
    in_range(s, 1, 255, "a number of leading zero bits").map(|n| n as u32)
}
