//! What the world defines, each fact once: the published model shapes, the
//! llama.cpp weight formats, the PCIe generations and the integer hash the
//! data generators share with their shaders. Suites, reports and commands
//! read these from here, so a figure for "Llama-2-7B Q4_0" or "PCIe 3.0"
//! cannot mean two things in two places.

pub mod attention;
pub mod formats;
pub mod hash;
pub mod llama_cpp;
pub mod models;
pub mod pcie;
pub mod quant;
