//! The llm suite's kernels run in-process on tiny models, and sabotaged
//! copies of their shaders, for tests/llm.rs and tests/llm_kquant.rs.

use super::{ctx, gpu, mutate};
use hashflops::gpu::Gpu;
use hashflops::harness::measure;
use hashflops::workloads::llm::decode::Decode;
use hashflops::workloads::llm::formats::Format;
use hashflops::workloads::llm::layout::Layout;
use hashflops::workloads::llm::prefill::Prefill;
use hashflops::workloads::llm::shapes::{Model, Residency};
use hashflops::workloads::{Shaders, SizeOptions};

/// Rows 1184, 30 and 416 (Q: 592 heads of 2, K and V: 15 of 2): not multiples of 4 (decode) or 64 (prefill);
/// K 1184 and 416: 37 and 13 blocks, not multiples of the 32 lanes (and an
/// odd number of bytes a row in MXFP4).
pub const TINY: Model = Model::dense("tiny", 3, 1184, 592, 15, 2, 416, 32);
/// For the K-quants, whose rows are whole 256-weight super-blocks: K 1280
/// and 768 (5 and 3 super-blocks, 40 and 24 blocks: not multiples of the
/// 32 lanes), 30 K and V rows (not a multiple of 4 or 64).
pub const TINY_K: Model = Model::dense("tiny-k", 3, 1280, 640, 15, 2, 768, 32);
/// Two layers per repetition from one resident: the repeat check runs too.
pub const RES: Residency = Residency {
    resident: 1,
    per_rep: 2,
    per_token: 3,
};
/// Prompt tokens: not a multiple of the 64-token tile.
pub const TOKENS: u64 = 70;

/// [`TINY`] where the format stores its rows, else [`TINY_K`].
pub fn tiny_for(f: Format) -> Model {
    let fits = f.check_row(TINY.hidden).is_ok() && f.check_row(TINY.ffn).is_ok();
    if fits {
        TINY
    } else {
        TINY_K
    }
}

pub fn with_shaders(replaced: &[(&str, String)]) -> (tempfile::TempDir, Shaders) {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in replaced {
        std::fs::write(dir.path().join(format!("{name}.wgsl")), src).unwrap();
    }
    let shaders = Shaders::from_dir(Some(dir.path().to_path_buf())).unwrap();
    (dir, shaders)
}

/// The kernel layouts this adapter runs (on lavapipe: both).
pub fn layouts(gpu: &Gpu) -> Vec<Layout> {
    let all = [Layout::LanesPerRow, Layout::RowPerLane];
    all.into_iter().filter(|l| l.runs_on(gpu)).collect()
}

/// (verified, problems) of the decode row for `format`.
pub fn decode(gpu: &Gpu, shaders: &Shaders, format: Format, layout: Layout) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let model = tiny_for(format);
    let w = Decode::with_layout(gpu, shaders, format, model, RES, layout).expect("decode setup");
    let rows = measure(&c, w).expect("decode measures");
    assert_eq!(rows.len(), 2, "token_rate and bandwidth rows");
    (rows[0].verified, rows[0].problems.clone())
}

pub fn prefill(
    gpu: &Gpu,
    shaders: &Shaders,
    format: Format,
    layout: Layout,
) -> (bool, Vec<String>) {
    let sizes = SizeOptions::default();
    let c = ctx(gpu, shaders, &sizes);
    let model = tiny_for(format);
    let w = Prefill::with_layout(gpu, shaders, format, model, &["k", "down"], TOKENS, layout)
        .expect("prefill setup");
    let rows = measure(&c, w).expect("prefill measures");
    assert_eq!(rows.len(), 2, "token_rate and flops rows");
    (rows[0].verified, rows[0].problems.clone())
}

#[derive(Clone, Copy)]
pub enum Kind {
    Decode,
    Prefill,
}

/// The decode or prefill body a layout runs, and its built-in source.
pub fn body(kind: &Kind, layout: Layout) -> (&'static str, &'static str) {
    match kind {
        Kind::Decode => layout.decode().0,
        Kind::Prefill => layout.prefill().0,
    }
}

/// A sabotaged shader for a layout: (its name, its text).
pub type Sabotage = Box<dyn Fn(Layout) -> (String, String)>;

/// `from` replaced by `to` in the body `kind` runs.
pub fn in_body(kind: Kind, from: &'static str, to: &'static str) -> (Kind, Sabotage) {
    (
        kind,
        Box::new(move |layout| {
            let (name, src) = body(&kind, layout);
            (name.to_string(), mutate(src, from, to))
        }),
    )
}

/// A whole format header replaced, for `kind`.
pub fn header(kind: Kind, name: &'static str, src: String) -> (Kind, Sabotage) {
    (kind, Box::new(move |_| (name.to_string(), src.clone())))
}

/// `header` for `format`'s own header, with `from` replaced by `to`.
pub fn in_header(kind: Kind, format: Format, from: &str, to: &str) -> (Kind, Sabotage) {
    let (name, src) = format.header();
    header(kind, name, mutate(src, from, to))
}

/// Each sabotage, applied to the real shader each layout runs, must leave
/// the row unverified with a problem named.
pub fn assert_all_caught(cases: &[(&str, Format, (Kind, Sabotage))]) {
    let gpu = gpu();
    for layout in layouts(&gpu) {
        for (what, format, (kind, sabotage)) in cases {
            let (name, src) = sabotage(layout);
            let (_dir, shaders) = with_shaders(&[(name.as_str(), src)]);
            let (ok, problems) = match kind {
                Kind::Decode => decode(&gpu, &shaders, *format, layout),
                Kind::Prefill => prefill(&gpu, &shaders, *format, layout),
            };
            assert!(!ok, "{what} ({layout:?}): passed the check");
            assert!(
                !problems.is_empty(),
                "{what} ({layout:?}): no problem named"
            );
        }
    }
}
