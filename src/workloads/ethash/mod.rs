//! Ethash, the hash GPUs actually mined until 2022: a memory-hard hash
//! whose every nonce reads 64 random 128-byte rows of a dataset (the DAG)
//! of a gigabyte or more, generated from a light cache.

pub mod check;
pub mod epoch;
pub mod generate;
pub mod hits;
pub mod kernel;
pub mod measure;
pub mod pages;
pub mod plan;
pub mod reference;
