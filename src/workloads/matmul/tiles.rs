//! Tile shapes: how a multiplication is split between invocations (the
//! shader's override constants), and which shapes autotuning tries.

use crate::catalogue::{Fact, Params};
use crate::gpu::Gpu;

/// How the work is split between invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Square-ish tiles staged in workgroup memory (entries `main`,
    /// `main_vec4`): what GPUs want.
    Tiled,
    /// A workgroup shares rows of C and loads A uniformly, no workgroup
    /// memory (entry `rows_vec4`, needs N % 4 == 0): what CPU adapters want.
    Rows,
    /// `Rows` reading A and B through textures (entry `rows_tex`, needs
    /// K % 4 == 0 and N % 4 == 0 and the operands' textures).
    RowsTex,
    /// `RowsTex` fetching each A texel once per subgroup and broadcasting
    /// it (`matmul_subgroup.wgsl`, entry `rows_sg`; needs subgroups of
    /// exactly WG_X invocations).
    RowsSubgroup,
}

/// A tile shape: the shader's override constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileConfig {
    pub layout: Layout,
    pub wg_x: u32,
    pub wg_y: u32,
    pub bk: u32,
    /// Rows of C per invocation (4, 8 or 16).
    pub tm: u32,
    /// vec4 columns of C per invocation (1, 2 or 4).
    pub tnv: u32,
}

impl Default for TileConfig {
    fn default() -> Self {
        TileConfig {
            layout: Layout::Tiled,
            wg_x: 16,
            wg_y: 16,
            bk: 16,
            tm: 4,
            tnv: 1,
        }
    }
}

impl TileConfig {
    pub fn bm(&self) -> u32 {
        self.wg_y * self.tm
    }

    pub fn bn(&self) -> u32 {
        self.wg_x * 4 * self.tnv
    }

    /// `tile=BMxBNxBK;thread=TMxTN;wg=XxY`, the variant's name (and
    /// [`TileConfig::params`] as text).
    pub fn describe(&self) -> String {
        self.params().to_string()
    }

    /// The variant as the result's params (`layout=rows` is added for the
    /// CPU layouts, whose K step is 1).
    pub fn params(&self) -> Params {
        let p = Params::new()
            .detail("tile", format!("{}x{}x{}", self.bm(), self.bn(), self.bk))
            .detail("thread", format!("{}x{}", self.tm, self.tnv * 4))
            .detail("wg", format!("{}x{}", self.wg_x, self.wg_y));
        let layout = match self.layout {
            Layout::Tiled => return p,
            Layout::Rows => "rows",
            Layout::RowsTex => "rows_tex",
            Layout::RowsSubgroup => "rows_subgroup",
        };
        p.with(Fact::Layout(layout.into()))
    }

    /// The entry point for this shape and problem, and the bindings of A
    /// and B it reads; `None` where the shape cannot take the problem.
    pub fn entry(&self, k: u32, n: u32) -> Option<(&'static str, u32, u32)> {
        match self.layout {
            Layout::Tiled if k.is_multiple_of(4) && n.is_multiple_of(4) => {
                Some(("main_vec4", 4, 5))
            }
            Layout::Tiled => Some(("main", 0, 1)),
            Layout::Rows if n.is_multiple_of(4) => Some(("rows_vec4", 0, 5)),
            Layout::RowsTex if k.is_multiple_of(4) && n.is_multiple_of(4) => {
                Some(("rows_tex", 6, 7))
            }
            Layout::RowsSubgroup if k.is_multiple_of(4) && n.is_multiple_of(4) => {
                Some(("rows_sg", 6, 7))
            }
            Layout::Rows | Layout::RowsTex | Layout::RowsSubgroup => None,
        }
    }

    pub(super) fn constants(&self) -> Vec<(&'static str, f64)> {
        let mut c = vec![
            ("WG_X", self.wg_x as f64),
            ("TM", self.tm as f64),
            ("TNV", self.tnv as f64),
        ];
        if self.layout != Layout::RowsSubgroup {
            c.extend([("WG_Y", self.wg_y as f64), ("BK", self.bk as f64)]);
        }
        c
    }

    /// Whether the adapter can run this shape at all.
    pub fn fits(&self, gpu: &Gpu) -> bool {
        let l = &gpu.limits;
        let shared = match self.layout {
            Layout::Tiled => 4 * self.bk as u64 * (self.bm() + self.bn()) as u64,
            Layout::Rows | Layout::RowsTex | Layout::RowsSubgroup => 0,
        };
        let shape = match self.layout {
            Layout::Tiled => self.bk.is_multiple_of(4),
            Layout::Rows | Layout::RowsTex => self.wg_y == 1 && self.bk == 1,
            Layout::RowsSubgroup => {
                self.wg_y == 1
                    && self.bk == 1
                    && self.tm >= 8
                    && gpu.has(wgpu::Features::SUBGROUP)
                    && gpu.desc.subgroup_min_size == self.wg_x
                    && gpu.desc.subgroup_max_size == self.wg_x
            }
        };
        matches!(self.tm, 4 | 8 | 16)
            && matches!(self.tnv, 1 | 2 | 4)
            && shape
            && self.wg_x <= l.max_compute_workgroup_size_x
            && self.wg_y <= l.max_compute_workgroup_size_y
            && self.wg_x * self.wg_y <= l.max_compute_invocations_per_workgroup
            && shared <= l.max_compute_workgroup_storage_size as u64
    }

    /// The shapes autotuning tries on this adapter.
    pub fn candidates(gpu: &Gpu) -> Vec<TileConfig> {
        let c = |wg_x, wg_y, bk, tm, tnv| TileConfig {
            layout: Layout::Tiled,
            wg_x,
            wg_y,
            bk,
            tm,
            tnv,
        };
        let list = if gpu.desc.is_cpu() {
            // A CPU adapter runs an invocation per SIMD lane and a workgroup
            // per thread; the row layout suits it (see the shader).
            let r = |wg_x, tm, tnv| TileConfig {
                layout: Layout::Rows,
                wg_x,
                wg_y: 1,
                bk: 1,
                tm,
                tnv,
            };
            let t = |wg_x, tm, tnv| TileConfig {
                layout: Layout::RowsTex,
                ..r(wg_x, tm, tnv)
            };
            let s = |wg_x, tm, tnv| TileConfig {
                layout: Layout::RowsSubgroup,
                ..r(wg_x, tm, tnv)
            };
            vec![
                s(8, 16, 1),
                s(8, 16, 2),
                s(8, 8, 2),
                s(8, 8, 4),
                t(8, 8, 2),
                t(8, 16, 2),
                r(8, 8, 2),
                c(8, 8, 16, 4, 1),
            ]
        } else {
            vec![
                c(16, 16, 16, 4, 1),
                c(16, 16, 8, 8, 2),
                c(16, 16, 16, 8, 1),
                c(8, 8, 16, 8, 2),
                c(16, 8, 16, 8, 1),
                c(16, 16, 16, 8, 2),
                c(16, 8, 16, 16, 2),
            ]
        };
        list.into_iter().filter(|t| t.fits(gpu)).collect()
    }
}
