//! `fp32_mul_add` must stay unfused in the shader actually loaded (the
//! built-in one or a `--shader-dir` replacement): the module is parsed with
//! naga and an `fma` call in the entry point, or in any function it calls,
//! refuses the row.

use std::collections::BTreeSet;

use naga::{Block, Expression, Function, Handle, MathFunction, Module, Statement};

/// Why `entry` of `wgsl` may not be reported as unfused, if it may not.
pub fn refusal(wgsl: &str, entry: &str) -> Option<String> {
    let module = match naga::front::wgsl::parse_str(wgsl) {
        Ok(m) => m,
        Err(e) => {
            return Some(format!(
                "{entry}: the loaded shader could not be inspected for fma ({})",
                e.message()
            ))
        }
    };
    let Some(ep) = module.entry_points.iter().find(|ep| ep.name == entry) else {
        return Some(format!("{entry}: no such entry point in the loaded shader"));
    };
    let mut called = BTreeSet::new();
    let mut todo = Vec::new();
    calls(&ep.function.body, &mut todo);
    let mut fused = Vec::new();
    if has_fma(&ep.function) {
        fused.push(entry.to_string());
    }
    while let Some(f) = todo.pop() {
        if !called.insert(f) {
            continue;
        }
        let func = &module.functions[f];
        if has_fma(func) {
            fused.push(name(&module, f));
        }
        calls(&func.body, &mut todo);
    }
    if fused.is_empty() {
        None
    } else {
        Some(format!(
            "refused: the unfused kernel calls fma in the shader as loaded (in {})",
            fused.join(", ")
        ))
    }
}

fn name(module: &Module, f: Handle<Function>) -> String {
    module.functions[f]
        .name
        .clone()
        .unwrap_or_else(|| format!("{f:?}"))
}

fn has_fma(f: &Function) -> bool {
    f.expressions.iter().any(|(_, e)| {
        matches!(
            e,
            Expression::Math {
                fun: MathFunction::Fma,
                ..
            }
        )
    })
}

/// Every function a block calls, at any depth.
fn calls(block: &Block, out: &mut Vec<Handle<Function>>) {
    for s in block.iter() {
        match s {
            Statement::Call { function, .. } => out.push(*function),
            Statement::Block(b) => calls(b, out),
            Statement::If { accept, reject, .. } => {
                calls(accept, out);
                calls(reject, out);
            }
            Statement::Switch { cases, .. } => {
                for c in cases {
                    calls(&c.body, out);
                }
            }
            Statement::Loop {
                body, continuing, ..
            } => {
                calls(body, out);
                calls(continuing, out);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::peak::{compose, BODY, HEAD_F32};

    #[test]
    fn the_shipped_unfused_kernel_is_not_refused_and_fma_anywhere_it_calls_is() {
        let src = compose(HEAD_F32, BODY);
        assert_eq!(refusal(&src, "fp32_mul_add"), None);
        assert!(refusal(&src, "fma_chain").is_some());
        let helper = "@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n\
                      fn h(x: f32) -> f32 { return fma(x, 2.0, o[1]); }\n\
                      @compute @workgroup_size(1) fn p() { if (o[0] > 0.0) { o[2] = h(o[0]); } }";
        let why = refusal(helper, "p").expect("an fma in a called function");
        assert!(why.contains("in h"), "{why}");
    }
}
