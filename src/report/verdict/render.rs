//! The verdict for the terminal.

use super::{AdapterVerdict, Finding, Stance};

/// The verdict for the terminal: what it is good for, what not and why,
/// where it stands.
pub fn render(v: &AdapterVerdict) -> String {
    let mut out = format!(
        "\n== Verdict: adapter {} {} ==\n",
        v.adapter_index, v.adapter
    );
    for (stance, title) in [
        (Stance::Fault, "faults"),
        (Stance::GoodFor, "good for"),
        (Stance::NotFor, "not good for, and why"),
        (Stance::Standing, "among cards people know"),
    ] {
        let lines: Vec<&Finding> = v.findings.iter().filter(|f| f.stance == stance).collect();
        if lines.is_empty() {
            continue;
        }
        out += &format!("{title}\n");
        for f in lines {
            out += &format!("  - {} [{}]\n", f.text, f.code);
        }
    }
    if v.findings.is_empty() {
        out += "  nothing verified to judge from: run more suites\n";
    }
    out
}
