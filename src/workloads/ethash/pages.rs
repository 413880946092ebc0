//! How many dataset pages the search binds: up to 24 where the adapter
//! allows that many storage buffers per stage, fewer where it does not
//! (WebGPU's default limits allow 8 in all, the lowest tiers 4), so the
//! search runs on every tier with a dataset those pages hold.

use anyhow::{bail, Result};

use super::kernel::PAGES;

/// Storage buffers the search binds besides the pages: the job, the folds,
/// and the hits of `mine`'s search (kept free so both searches share one
/// shader and one set of bindings).
const OTHER_BUFFERS: u32 = 3;

/// Pages the search binds on an adapter allowing `per_stage` storage
/// buffers per shader stage; none where even one page does not fit.
pub fn bound_pages(per_stage: u32) -> Option<u32> {
    let n = per_stage.saturating_sub(OTHER_BUFFERS).min(PAGES);
    (n > 0).then_some(n)
}

/// The page's number of a declaration `… var<storage, read> dK: array…`.
fn declared(line: &str) -> Option<u32> {
    let rest = line.split_once("var<storage, read> d")?.1;
    rest.split_once(':')?.0.parse().ok()
}

/// The page's number of a `case Ku: { return dK[at]; }` of `fetch`.
fn case(line: &str) -> Option<u32> {
    let rest = line.trim_start().strip_prefix("case ")?;
    let k: u32 = rest.split_once("u:")?.0.parse().ok()?;
    line.contains(&format!("return d{k}[at]")).then_some(k)
}

/// `wgsl` with only pages `0..bound` declared and read: the declarations
/// of the others go, and `fetch`'s last case reads page `bound - 1`. A
/// shader whose pages are not declared and read as the built-in one's is
/// refused, naming what was not found.
pub fn fit_pages(wgsl: &str, bound: u32) -> Result<String> {
    if bound >= PAGES {
        return Ok(wgsl.to_string());
    }
    let (mut dropped, mut defaults) = (0, 0);
    let mut out = String::with_capacity(wgsl.len());
    for line in wgsl.lines() {
        if declared(line).is_some_and(|k| k >= bound) || case(line).is_some_and(|k| k + 1 >= bound)
        {
            dropped += 1;
            continue;
        }
        if line.trim_start().starts_with("default: { return d") {
            let indent = &line[..line.len() - line.trim_start().len()];
            out += &format!("{indent}default: {{ return d{}[at]; }}\n", bound - 1);
            defaults += 1;
            continue;
        }
        out += line;
        out.push('\n');
    }
    // Declarations of pages bound..PAGES and cases bound-1..PAGES-1.
    let want = 2 * (PAGES - bound);
    if dropped != want || defaults != 1 {
        bail!(
            "the ethash shader's dataset pages are not declared and read as expected \
             (d0..d{} and fetch's switch over them): cannot bind {bound} pages",
            PAGES - 1
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::ethash::kernel::WGSL;

    #[test]
    fn pages_fit_every_tier() {
        assert_eq!(bound_pages(31), Some(PAGES));
        assert_eq!(bound_pages(12), Some(9));
        assert_eq!(bound_pages(8), Some(5));
        assert_eq!(bound_pages(4), Some(1));
        assert_eq!(bound_pages(3), None);
    }

    #[test]
    fn fewer_pages_are_declared_and_read_and_the_shader_still_validates() {
        for bound in 1..=PAGES {
            let src = fit_pages(WGSL, bound).unwrap();
            for k in 0..PAGES {
                let declared = src.contains(&format!("var<storage, read> d{k}:"));
                assert_eq!(declared, k < bound, "d{k} with {bound} pages");
            }
            naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{bound} pages: {}", e.emit_to_string(&src)));
        }
        assert!(fit_pages("fn main() {}", 4).is_err());
    }
}
