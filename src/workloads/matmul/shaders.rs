//! The matmul shader pieces and their compositions. One body serves both
//! precisions: a short header names the element type of A and B (and
//! enables f16 where it is f16). The subgroup layout has a body of its own,
//! since adapters without subgroups must never compile it. Both bodies end
//! with the shared Dims struct, accumulators and store.
//!
//! Every piece is fetched by its own name through [`Shaders::get`], so
//! `--shader-dir` can replace any one of them (the mutation tests do).

use anyhow::Result;

use super::Precision;
use crate::workloads::Shaders;

/// The tiled and row layouts, over the element type `elem`.
pub const BODY: &str = include_str!("../../../shaders/matmul.wgsl");
/// The subgroup row layout for CPU adapters (operands read as f32
/// textures, so one source serves both precisions).
pub const SUBGROUP: &str = include_str!("../../../shaders/matmul_subgroup.wgsl");
/// The Dims struct, appended to either body.
pub const DIMS: &str = include_str!("../../../shaders/matmul_dims.wgsl");
/// Accumulators and the store of C, appended to either body.
pub const ACC: &str = include_str!("../../../shaders/matmul_acc.wgsl");
pub const HEADER_F32: &str = include_str!("../../../shaders/matmul_f32.wgsl");
pub const HEADER_F16: &str = include_str!("../../../shaders/matmul_f16.wgsl");

fn header(precision: Precision) -> (&'static str, &'static str) {
    match precision {
        Precision::F32 => ("matmul_f32", HEADER_F32),
        Precision::F16 => ("matmul_f16", HEADER_F16),
    }
}

/// The two sources one precision compiles.
#[derive(Clone, Debug)]
pub struct Kernels {
    /// Header, body, Dims and accumulators: entries `main`, `main_vec4`,
    /// `rows_vec4`, `rows_tex`.
    pub main: String,
    /// Subgroup body, Dims and accumulators: entry `rows_sg`.
    pub subgroup: String,
}

impl Kernels {
    /// The built-in pieces.
    pub fn builtin(precision: Precision) -> Kernels {
        compose(header(precision).1, BODY, SUBGROUP, DIMS, ACC)
    }

    /// The pieces as this run uses them: each from `--shader-dir` where it
    /// has one.
    pub fn load(shaders: &Shaders, precision: Precision) -> Result<Kernels> {
        let (name, text) = header(precision);
        Ok(compose(
            &shaders.get(name, text)?,
            &shaders.get("matmul", BODY)?,
            &shaders.get("matmul_subgroup", SUBGROUP)?,
            &shaders.get("matmul_dims", DIMS)?,
            &shaders.get("matmul_acc", ACC)?,
        ))
    }
}

fn compose(header: &str, body: &str, subgroup: &str, dims: &str, acc: &str) -> Kernels {
    Kernels {
        main: format!("{header}\n{body}\n{dims}\n{acc}"),
        subgroup: format!("{subgroup}\n{dims}\n{acc}"),
    }
}

/// Every composition the suite can compile, for validation without a GPU.
pub fn shader_sources() -> Vec<(String, String)> {
    let f32 = Kernels::builtin(Precision::F32);
    let f16 = Kernels::builtin(Precision::F16);
    vec![
        ("matmul_f32+matmul+matmul_dims+matmul_acc".into(), f32.main),
        ("matmul_f16+matmul+matmul_dims+matmul_acc".into(), f16.main),
        (
            "matmul_subgroup+matmul_dims+matmul_acc".into(),
            f32.subgroup,
        ),
    ]
}
