//! hashflops: what a GPU can really do, mining hash rate beside AI FLOPS and
//! bandwidth, every number verified against a CPU reference.

pub mod error;

pub mod app;
pub mod card_names;
pub mod catalogue;
pub mod cli;
pub mod domain;
pub mod gpu;
pub mod harness;
pub mod mining_records;
pub mod reference;
pub mod reference_cards;
pub mod report;
pub mod sha;
pub mod stats;
pub mod telemetry;
pub mod timing;
pub mod units;
pub mod workloads;
