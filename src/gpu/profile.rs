//! Adapter profiles (`data/profiles.csv`): the features and limits of cards
//! people own, and of the WebGPU, wgpu-downlevel and GL tiers, each figure
//! with its source. `HASHFLOPS_PROFILE=<name>` holds the adapter to one: a
//! limit is the tighter of the profile's and the adapter's, a feature needs
//! both, so that every suite sizes itself as it would on that card and a
//! suite that assumes more than the card has fails here, not there.
//!
//! The file is long-format (one figure per line) so that every figure can
//! name where it comes from, as `data/reference_cards.csv` does.

use std::sync::OnceLock;

use anyhow::Result;
use serde::Deserialize;

const CSV: &str = include_str!("../../data/profiles.csv");

/// The environment variable naming the profile.
pub const PROFILE_ENV: &str = "HASHFLOPS_PROFILE";

/// The optional features hashflops asks a device for; every profile says
/// yes or no to each, by these names.
pub const FEATURES: [(&str, wgpu::Features); 6] = [
    ("TIMESTAMP_QUERY", wgpu::Features::TIMESTAMP_QUERY),
    (
        "TIMESTAMP_QUERY_INSIDE_ENCODERS",
        wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS,
    ),
    ("SHADER_F16", wgpu::Features::SHADER_F16),
    ("SHADER_F64", wgpu::Features::SHADER_F64),
    ("SHADER_INT64", wgpu::Features::SHADER_INT64),
    ("SUBGROUP", wgpu::Features::SUBGROUP),
];

/// The limits a profile sets, by wgpu's field names. Every profile names
/// each; `min_*` limits are alignments, where larger is tighter.
pub const LIMITS: [&str; 12] = [
    "max_buffer_size",
    "max_storage_buffer_binding_size",
    "max_storage_buffers_per_shader_stage",
    "max_dynamic_storage_buffers_per_pipeline_layout",
    "min_storage_buffer_offset_alignment",
    "max_compute_workgroup_storage_size",
    "max_compute_invocations_per_workgroup",
    "max_compute_workgroup_size_x",
    "max_compute_workgroup_size_y",
    "max_compute_workgroup_size_z",
    "max_compute_workgroups_per_dimension",
    "max_texture_dimension_2d",
];

/// One line of the data file.
#[derive(Clone, Debug, Deserialize)]
pub struct Figure {
    pub profile: String,
    pub field: String,
    pub value: String,
    pub source: String,
}

/// One profile, parsed.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub about: String,
    pub features: wgpu::Features,
    pub limits: Vec<(&'static str, u64)>,
    pub subgroup_sizes: (u32, u32),
    /// `None` where the profile keeps the adapter's own memory size.
    pub vram_bytes: Option<u64>,
    pub figures: Vec<Figure>,
}

/// Every figure of the data file, in its order.
pub fn figures() -> Vec<Figure> {
    csv::Reader::from_reader(CSV.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("data/profiles.csv is malformed")
}

/// Every profile, in the file's order. The file is compiled in and checked
/// by the unit tests, so a malformed one is a build defect (panic).
pub fn all() -> &'static [Profile] {
    static ALL: OnceLock<Vec<Profile>> = OnceLock::new();
    ALL.get_or_init(|| {
        let figures = figures();
        let mut names: Vec<&str> = Vec::new();
        for f in &figures {
            if !names.contains(&f.profile.as_str()) {
                names.push(&f.profile);
            }
        }
        names
            .iter()
            .map(|n| parse(n, &figures).unwrap_or_else(|e| panic!("data/profiles.csv: {e}")))
            .collect()
    })
}

/// The names, comma-separated, for messages.
pub fn names() -> String {
    all()
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse(name: &str, figures: &[Figure]) -> Result<Profile, String> {
    let mine: Vec<Figure> = figures
        .iter()
        .filter(|f| f.profile == name)
        .cloned()
        .collect();
    let get = |field: &str| -> Result<&Figure, String> {
        let hits: Vec<&Figure> = mine.iter().filter(|f| f.field == field).collect();
        match hits.as_slice() {
            [one] if !one.source.trim().is_empty() => Ok(one),
            [_] => Err(format!("{name}.{field} has no source")),
            [] => Err(format!("{name} has no {field}")),
            _ => Err(format!("{name}.{field} is given twice")),
        }
    };
    let number = |field: &str| -> Result<u64, String> {
        let v = &get(field)?.value;
        v.parse()
            .map_err(|_| format!("{name}.{field} = {v:?} is not a whole number"))
    };
    let mut features = wgpu::Features::empty();
    for (fname, flag) in FEATURES {
        match get(fname)?.value.as_str() {
            "yes" => features |= flag,
            "no" => {}
            v => return Err(format!("{name}.{fname} = {v:?}: yes or no")),
        }
    }
    let limits = LIMITS
        .iter()
        .map(|&l| number(l).map(|v| (l, v)))
        .collect::<Result<Vec<_>, _>>()?;
    let subgroup_sizes = (
        number("subgroup_min_size")? as u32,
        number("subgroup_max_size")? as u32,
    );
    let vram_bytes = match get("vram_bytes")?.value.as_str() {
        "adapter" => None,
        _ => Some(number("vram_bytes")?),
    };
    let known = |f: &str| {
        FEATURES.iter().any(|(n, _)| *n == f)
            || LIMITS.contains(&f)
            || [
                "about",
                "subgroup_min_size",
                "subgroup_max_size",
                "vram_bytes",
            ]
            .contains(&f)
    };
    if let Some(f) = mine.iter().find(|f| !known(&f.field)) {
        return Err(format!("{name}.{}: no such field", f.field));
    }
    Ok(Profile {
        name: name.to_string(),
        about: get("about")?.value.clone(),
        features,
        limits,
        subgroup_sizes,
        vram_bytes,
        figures: mine,
    })
}

/// The profile `HASHFLOPS_PROFILE` names, `None` when unset or empty; a
/// name that is no profile is the user's to fix (exit 2), one line listing
/// the names.
pub fn active() -> Result<Option<&'static Profile>> {
    let Some(v) = std::env::var_os(PROFILE_ENV) else {
        return Ok(None);
    };
    let v = v.to_string_lossy();
    if v.trim().is_empty() {
        return Ok(None);
    }
    match all().iter().find(|p| p.name == v.trim()) {
        Some(p) => Ok(Some(p)),
        None => Err(crate::usage!(
            "{PROFILE_ENV}={}: no such profile; profiles: {} (see `hashflops list --profiles`)",
            crate::cli::typed(&v),
            names()
        )),
    }
}

/// What an adapter offers, as hashflops reads it: the optional features,
/// the limits and the subgroup size range.
#[derive(Clone, Debug)]
pub struct Offer {
    pub features: wgpu::Features,
    pub limits: wgpu::Limits,
    pub subgroup_sizes: (u32, u32),
}

impl Offer {
    /// The adapter's own offer, held to the active profile where one is set
    /// (an unknown name counts as none here; [`active`] reports it).
    pub fn of(adapter: &wgpu::Adapter) -> Offer {
        let info = adapter.get_info();
        let own = Offer {
            features: adapter.features(),
            limits: adapter.limits(),
            subgroup_sizes: (info.subgroup_min_size, info.subgroup_max_size),
        };
        match active().ok().flatten() {
            Some(p) => p.hold(own),
            None => own,
        }
    }
}

/// Says on stderr when the profile has subgroups but at sizes this
/// adapter cannot run, so that they are off: the subgroup kernels the
/// profile's card would run are not measured here.
pub fn note_lost_subgroups(adapter: &wgpu::Adapter, offer: &Offer) {
    let sg = wgpu::Features::SUBGROUP;
    let Some(p) = active().ok().flatten() else {
        return;
    };
    if p.features.contains(sg) && adapter.features().contains(sg) && !offer.features.contains(sg) {
        let info = adapter.get_info();
        eprintln!(
            "hashflops: profile {}: subgroups of {}-{} lanes cannot be had on {} ({}-{}); SUBGROUP is off",
            p.name,
            p.subgroup_sizes.0,
            p.subgroup_sizes.1,
            info.name,
            info.subgroup_min_size,
            info.subgroup_max_size
        );
    }
}

impl Profile {
    /// `own` held to this profile. A subgroup size the adapter cannot run
    /// at cannot be pretended (kernels built for 64 lanes are wrong on 8),
    /// so where the two ranges do not meet, SUBGROUP is off instead.
    pub fn hold(&self, own: Offer) -> Offer {
        let mut limits = own.limits;
        for &(name, value) in &self.limits {
            set_tighter(&mut limits, name, value);
        }
        let mut features = own.features & self.features;
        let lo = own.subgroup_sizes.0.max(self.subgroup_sizes.0);
        let hi = own.subgroup_sizes.1.min(self.subgroup_sizes.1);
        let subgroup_sizes = if lo <= hi {
            (lo, hi)
        } else {
            features.remove(wgpu::Features::SUBGROUP);
            own.subgroup_sizes
        };
        Offer {
            features,
            limits,
            subgroup_sizes,
        }
    }

    /// The adapter's memory size held to the profile's; an unknown size
    /// stays unknown (memory the adapter may not have is never claimed).
    pub fn vram(&self, own: Option<u64>) -> Option<u64> {
        match (own, self.vram_bytes) {
            (Some(o), Some(p)) => Some(o.min(p)),
            (o, _) => o,
        }
    }
}

/// Sets limit `name` to `value` where that is tighter: smaller for a
/// `max_*` limit, larger for a `min_*` alignment.
fn set_tighter(l: &mut wgpu::Limits, name: &str, value: u64) {
    let v32 = value.min(u32::MAX as u64) as u32;
    let slot: &mut u32 = match name {
        "max_buffer_size" => {
            l.max_buffer_size = l.max_buffer_size.min(value);
            return;
        }
        "max_storage_buffer_binding_size" => {
            l.max_storage_buffer_binding_size = l.max_storage_buffer_binding_size.min(value);
            return;
        }
        "min_storage_buffer_offset_alignment" => {
            let a = &mut l.min_storage_buffer_offset_alignment;
            *a = (*a).max(v32);
            return;
        }
        "max_storage_buffers_per_shader_stage" => &mut l.max_storage_buffers_per_shader_stage,
        "max_dynamic_storage_buffers_per_pipeline_layout" => {
            &mut l.max_dynamic_storage_buffers_per_pipeline_layout
        }
        "max_compute_workgroup_storage_size" => &mut l.max_compute_workgroup_storage_size,
        "max_compute_invocations_per_workgroup" => &mut l.max_compute_invocations_per_workgroup,
        "max_compute_workgroup_size_x" => &mut l.max_compute_workgroup_size_x,
        "max_compute_workgroup_size_y" => &mut l.max_compute_workgroup_size_y,
        "max_compute_workgroup_size_z" => &mut l.max_compute_workgroup_size_z,
        "max_compute_workgroups_per_dimension" => &mut l.max_compute_workgroups_per_dimension,
        "max_texture_dimension_2d" => &mut l.max_texture_dimension_2d,
        other => unreachable!("limit {other} is in LIMITS but not set here"),
    };
    *slot = (*slot).min(v32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_names_every_field_with_a_source() {
        let all = all();
        for want in [
            "webgpu-default",
            "wgpu-downlevel",
            "rx580-radv",
            "gtx1060-nvidia",
            "cmp170hx-nvidia",
            "arc-a770",
            "apple-m1-metal",
            "gl",
        ] {
            assert!(all.iter().any(|p| p.name == want), "no profile {want}");
        }
        for p in all {
            assert_eq!(p.limits.len(), LIMITS.len(), "{}", p.name);
            assert!(p.subgroup_sizes.0 <= p.subgroup_sizes.1, "{}", p.name);
        }
        for f in figures() {
            assert!(!f.source.trim().is_empty(), "{f:?}");
        }
    }

    #[test]
    fn the_tiers_are_wgpus_own_figures() {
        let held = |name: &str| {
            let p = all().iter().find(|p| p.name == name).unwrap();
            let own = Offer {
                features: wgpu::Features::all(),
                limits: wgpu::Limits::unlimited(),
                subgroup_sizes: (1, 1024),
            };
            p.hold(own)
        };
        for (name, tier) in [
            ("webgpu-default", wgpu::Limits::defaults()),
            ("wgpu-downlevel", wgpu::Limits::downlevel_defaults()),
        ] {
            let got = held(name);
            assert_eq!(got.features, wgpu::Features::empty(), "{name}");
            let l = got.limits;
            assert_eq!(l.max_buffer_size, tier.max_buffer_size, "{name}");
            assert_eq!(
                l.max_storage_buffer_binding_size, tier.max_storage_buffer_binding_size,
                "{name}"
            );
            assert_eq!(
                l.max_storage_buffers_per_shader_stage, tier.max_storage_buffers_per_shader_stage,
                "{name}"
            );
            assert_eq!(
                l.max_compute_workgroup_storage_size, tier.max_compute_workgroup_storage_size,
                "{name}"
            );
            assert_eq!(
                l.max_compute_invocations_per_workgroup, tier.max_compute_invocations_per_workgroup,
                "{name}"
            );
            assert_eq!(
                l.max_compute_workgroup_size_z, tier.max_compute_workgroup_size_z,
                "{name}"
            );
            assert_eq!(
                l.max_texture_dimension_2d, tier.max_texture_dimension_2d,
                "{name}"
            );
        }
    }

    #[test]
    fn a_profile_only_tightens_and_disjoint_subgroups_turn_subgroups_off() {
        let rx = all().iter().find(|p| p.name == "rx580-radv").unwrap();
        let own = Offer {
            features: wgpu::Features::SUBGROUP | wgpu::Features::SHADER_F16,
            limits: wgpu::Limits::defaults(),
            subgroup_sizes: (8, 8),
        };
        let got = rx.hold(own);
        assert_eq!(got.features, wgpu::Features::empty());
        assert_eq!(got.subgroup_sizes, (8, 8));
        assert_eq!(got.limits.max_buffer_size, 256 << 20);
        assert_eq!(got.limits.min_storage_buffer_offset_alignment, 256);
        let arc = all().iter().find(|p| p.name == "arc-a770").unwrap();
        let got = arc.hold(Offer {
            features: wgpu::Features::SUBGROUP,
            limits: wgpu::Limits::defaults(),
            subgroup_sizes: (4, 64),
        });
        assert_eq!(got.subgroup_sizes, (8, 32));
        assert!(got.features.contains(wgpu::Features::SUBGROUP));
        assert_eq!(rx.vram(None), None);
        assert_eq!(rx.vram(Some(1 << 40)), Some(8_000_000_000));
    }
}
