use super::*;
use crate::reference_cards;

const HEADER: &str = "backend,vendor,card,model,bytes_per_token,tg_tok_s,rate_bs,rate_basis,pp_tokens,pp_tok_s,flop_per_token,prefill_flops,source\n";

fn line(card: &str) -> &'static Share {
    shares()
        .iter()
        .find(|s| s.card == card && s.backend == Backend::Cuda)
        .unwrap_or_else(|| panic!("no CUDA line for {card}"))
}

#[test]
fn every_kind_the_brief_names_has_a_line() {
    for (b, v) in [
        (Backend::Cuda, Vendor::Nvidia),
        (Backend::Vulkan, Vendor::Amd),
        (Backend::Vulkan, Vendor::Nvidia),
        (Backend::Vulkan, Vendor::Cpu),
        (Backend::Rocm, Vendor::Amd),
    ] {
        assert!(
            shares().iter().any(|s| s.backend == b && s.vendor == v),
            "{b:?} {v:?}"
        );
    }
}

/// The shares REFERENCE.md's table states (tg × bytes ÷ spec bandwidth).
#[test]
fn decode_share_is_tg_times_bytes_over_rate() {
    assert!((line("RTX 3090").decode() - 0.50).abs() < 0.005);
    assert!((line("A100 80GB").decode() - 0.26).abs() < 0.005);
    assert!((line("RTX 3070").decode() - 0.80).abs() < 0.005);
}

/// A card in both data files has one bandwidth and one tg figure.
#[test]
fn spec_lines_agree_with_the_reference_cards() {
    let cards = reference_cards::cards();
    let mut compared = 0;
    for s in shares().iter().filter(|s| s.rate_basis == RateBasis::Spec) {
        let Some(card) = cards.iter().find(|c| c.card == s.card) else {
            continue;
        };
        if let Some(bw) = card.bandwidth_bs {
            assert!((s.rate_bs / bw - 1.0).abs() < 0.01, "{}", s.card);
            compared += 1;
        }
        let same_run = s.backend == Backend::Cuda && s.model == "Llama-2-7B Q4_0";
        if let (true, Some(tg)) = (same_run, card.llama7b_q4_0_tg) {
            assert_eq!(s.tg_tok_s, tg, "{}", s.card);
        }
    }
    assert!(compared >= 3, "only {compared} cards in both files");
}

#[test]
fn the_software_line_is_against_hashflops_with_a_prefill_share() {
    let sw: Vec<_> = shares()
        .iter()
        .filter(|s| s.vendor == Vendor::Cpu)
        .collect();
    assert!(!sw.is_empty());
    for s in sw {
        assert_eq!(s.rate_basis, RateBasis::Hashflops);
        assert!(s.prefill().is_some_and(|p| p > 0.0), "{}", s.card);
    }
}

#[test]
fn malformed_lines_are_refused() {
    let good = "CUDA,NVIDIA,X,M,4e9,100,1000e9,spec,512,3000,,,somewhere\n";
    assert!(parse(&format!("{HEADER}{good}")).is_ok());
    let bad = [
        "CUDA,NVIDIA,X,M,4e9,fast,1000e9,spec,512,3000,,,somewhere\n",
        "OpenCL,NVIDIA,X,M,4e9,100,1000e9,spec,512,3000,,,somewhere\n",
        "CUDA,NVIDIA,X,M,4e9,100,1000e9,guess,512,3000,,,somewhere\n",
        "CUDA,NVIDIA,X,M,4e9,300,1000e9,spec,512,3000,,,somewhere\n",
        "CUDA,NVIDIA,X,M,4e9,100,0,spec,512,3000,,,somewhere\n",
        "CUDA,NVIDIA,X,M,4e9,100,1000e9,spec,,3000,,,somewhere\n",
        "CUDA,NVIDIA,X,M,4e9,100,1000e9,hashflops,512,3000,1e9,,somewhere\n",
        "CUDA,NVIDIA,X,M,4e9,100,1000e9,spec,512,3000,,, \n",
        "CUDA,NVIDIA,X,M,4e9,100,1000e9,spec,512\n",
    ];
    for b in bad {
        assert!(parse(&format!("{HEADER}{b}")).is_err(), "{b}");
    }
}

#[test]
fn the_estimate_takes_the_share_of_the_nearest_rate() {
    let bytes = 3.64e9;
    // Near an A100's spec bandwidth: the A100's 26 %, not a 3090's 50 %.
    let (tok_s, basis) = llama_cpp_estimate(Backend::Cuda, Vendor::Nvidia, 2.1e12, bytes).unwrap();
    let a100 = line("A100 80GB");
    assert_eq!(tok_s, a100.decode() * 2.1e12 / bytes);
    assert!(
        basis.contains("A100 80GB") && basis.contains("spec bandwidth"),
        "{basis}"
    );
    let (tok_s, basis) = llama_cpp_estimate(Backend::Cuda, Vendor::Nvidia, 0.9e12, bytes).unwrap();
    assert_eq!(tok_s, line("RTX 3090").decode() * 0.9e12 / bytes);
    assert!(basis.contains("RTX 3090"), "{basis}");
    assert!(llama_cpp_estimate(Backend::Rocm, Vendor::Nvidia, 0.9e12, bytes).is_none());
    assert!(llama_cpp_estimate(Backend::Cuda, Vendor::Nvidia, 0.0, bytes).is_none());
    assert!(llama_cpp_estimate(Backend::Cuda, Vendor::Nvidia, 1e12, f64::NAN).is_none());
}

#[test]
fn adapters_map_to_vendors() {
    assert_eq!(Vendor::from_adapter(0x10de, false), Some(Vendor::Nvidia));
    assert_eq!(Vendor::from_adapter(0x1002, false), Some(Vendor::Amd));
    assert_eq!(Vendor::from_adapter(0x10005, true), Some(Vendor::Cpu));
    assert_eq!(Vendor::from_adapter(0x10005, false), None);
}
