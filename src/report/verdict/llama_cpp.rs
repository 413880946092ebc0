//! `llm.llama_cpp_int8`: where FMA is throttled as on NVIDIA's CMP cards,
//! which throttle the int8 dot product (dp4a) llama.cpp's quantized
//! kernels use as well, the verdict names llama.cpp's own switches that
//! keep it off that path.
//!
//! The switches are quoted from llama.cpp's source (github.com/ggml-org/
//! llama.cpp), not guessed:
//! - `ggml/src/ggml-vulkan/ggml-vulkan.cpp` at commit
//!   000651caaa5b97364a481345863770c2b898d2e7, `ggml_vk_get_device`: the
//!   extension `VK_KHR_shader_integer_dot_product` is used only when
//!   `!getenv("GGML_VK_DISABLE_INTEGER_DOT_PRODUCT")`, so setting it keeps
//!   the Vulkan backend off the integer dot product; beside it
//!   `GGML_VK_DISABLE_COOPMAT` and `GGML_VK_DISABLE_COOPMAT2` do the same
//!   for cooperative matrices.
//! - `docs/build.md` at commit 00fd518151fe962fe5d7ad7892b6cf1b38d971ae,
//!   "Performance Tuning": the CUDA build option `GGML_CUDA_FORCE_CUBLAS`
//!   forces "FP16 cuBLAS instead of custom matrix multiplication kernels
//!   for quantized models" (the int8 MMQ kernels), which covers batched
//!   prompt processing only.
//!
//! For CUDA single-stream decode (the MMVQ kernels, dp4a) no upstream
//! setting was found: a `GGML_CUDA_DISABLE_DP4A` build option is proposed
//! in ggml-org/llama.cpp pull request 25834 (issue 24616), not merged, so
//! it is not named as a setting.

use super::figure::{Draft, Figure, Unit};
use super::{Finding, Stance};
use crate::catalogue::{Kernel, Peak};
use crate::report::facts::Facts;

/// A llama.cpp setting, as its source spells it.
pub struct Setting {
    pub name: &'static str,
    /// How it is set: an environment variable or a build option.
    pub how: &'static str,
    /// What the source says it does.
    pub effect: &'static str,
}

/// The settings the finding names, in the order it names them.
pub const SETTINGS: [Setting; 2] = [
    Setting {
        name: "GGML_VK_DISABLE_INTEGER_DOT_PRODUCT",
        how: "environment variable, Vulkan backend",
        effect: "keeps the integer dot product off for every kernel",
    },
    Setting {
        name: "GGML_CUDA_FORCE_CUBLAS",
        how: "CUDA build option",
        effect: "FP16 cuBLAS instead of the int8 kernels, for prompt processing only",
    },
];

/// What the finding says of CUDA decode.
pub const CUDA_DECODE: &str = "no llama.cpp setting found for CUDA decode's dp4a kernels";

/// `llm.llama_cpp_int8`, where the FMA judgment finds FMA throttled.
pub fn int8_throttled(facts: &Facts) -> Option<Finding> {
    let j = facts.fma.filter(|j| j.throttled)?;
    let mut d = Draft::new();
    let fma = d.put(Figure::measured(
        "fma",
        j.fma,
        Unit::FlopPerS,
        Kernel::Peak(Peak::Fp32Fma),
    ));
    let unfused = d.put(Figure::measured(
        "unfused",
        j.unfused,
        Unit::FlopPerS,
        Kernel::Peak(Peak::Fp32MulAdd),
    ));
    let settings: Vec<String> = SETTINGS
        .iter()
        .map(|s| format!("{} ({}: {})", s.name, s.how, s.effect))
        .collect();
    let text = format!(
        "LLM inference with llama.cpp: NVIDIA's CMP cards hold back the int8 dot product llama.cpp's quantized kernels use as they hold back FMA (here {fma} against {unfused} unfused); llama.cpp's switches off that path: {}; {CUDA_DECODE}",
        settings.join(", ")
    );
    Some(d.finish("llm.llama_cpp_int8", Stance::NotFor, text))
}
