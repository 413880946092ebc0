use super::*;

/// Little-endian f16 bytes of `v` (exact for the values used here).
fn f16(v: f32) -> [u8; 2] {
    half::f16::from_f32(v).to_bits().to_le_bytes()
}

#[test]
fn generated_blocks_are_finite_varied_and_non_zero() {
    for f in FORMATS {
        for row in 0..4 {
            let w = weight_row(f, key(&[7, row as u32]), row, 512);
            assert_eq!(w.len(), 512);
            assert!(w.iter().all(|v| v.is_finite()), "{f:?}");
            assert!(w.iter().any(|v| *v != 0.0), "{f:?}");
        }
        for unit in 0..10_000 {
            let h = half::f16::from_bits(controlled_f16(3, unit));
            assert!(h.is_normal(), "{h}");
        }
    }
    // Every f16 scale (Q6_K's d at the end of its block, Q4_K's d and dmin)
    // is a controlled one; the sub-block scales and mins take many values.
    let k = 4096;
    for (f, at) in [
        (Format::Q4_K, 0),
        (Format::Q4_K, 2),
        (Format::Q5_K, 2),
        (Format::Q6_K, 208),
    ] {
        let bytes: Vec<u8> = (0..f.row_bytes(k) as u32)
            .map(|b| weight_byte(f, 11, b))
            .collect();
        for blk in bytes.chunks_exact(f.block_bytes() as usize) {
            assert!(half::f16::from_bits(u16::from_le_bytes([blk[at], blk[at + 1]])).is_normal());
        }
        if f != Format::Q6_K {
            let mut seen = std::collections::BTreeSet::new();
            for blk in bytes.chunks_exact(f.block_bytes() as usize) {
                seen.extend((0..8).map(|j| scale_min_k4(j, &blk[4..16])));
            }
            assert!(seen.len() > 100, "{f:?}: {} scale/min pairs", seen.len());
        }
    }
    let e: std::collections::BTreeSet<u8> = (0..17 * 64)
        .step_by(17)
        .map(|b| weight_byte(Format::MXFP4, 5, b))
        .collect();
    assert_eq!(e, (119..127).collect(), "E8M0 scales 2^-9..2^-2");
}

#[test]
fn q4_0_nibbles_follow_llama_cpp_order() {
    // d = 1.0, byte i = (q_{i+16} << 4) | q_i
    let mut blk = vec![0x00, 0x3c];
    blk.extend((0..16u8).map(|i| ((15 - i) << 4) | i));
    let w = Format::Q4_0.dequantize(&blk, 32);
    assert_eq!(w[0], -8.0);
    assert_eq!(w[15], 7.0);
    assert_eq!(w[16], 7.0);
    assert_eq!(w[31], -8.0);
}

/// d = 1, dmin = 0.5; sub-block scales 1, 2, 3, 4, 21 (high bits from
/// byte 0), 0, 0, 0 and mins 5, 6, 7, 8, 34 (high bits from byte 4), 0, ..
fn k_head() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(f16(1.0));
    b.extend(f16(0.5));
    b.extend([1 | 1 << 6, 2, 3, 4, 5 | 2 << 6, 6, 7, 8, 0x25, 0, 0, 0]);
    b
}

#[test]
fn q4_k_follows_llama_cpp_order() {
    let mut blk = k_head();
    let mut qs = [0u8; 128];
    qs[0] = 0x7b; // sub-block 0 weight 0: 11, sub-block 1 weight 0: 7
    qs[64] = 0x2f; // sub-block 4 weight 0: 15, sub-block 5 weight 0: 2
    blk.extend(qs);
    let w = Format::Q4_K.dequantize(&blk, 256);
    assert_eq!(w.len(), 256);
    assert_eq!(w[0], 11.0 - 2.5);
    assert_eq!(w[1], -2.5);
    assert_eq!(w[32], 2.0 * 7.0 - 3.0);
    assert_eq!(w[128], 21.0 * 15.0 - 17.0);
    assert_eq!(w[160], 0.0);
    assert_eq!(w[255], 0.0);
}

#[test]
fn q5_k_follows_llama_cpp_order() {
    let mut blk = k_head();
    let mut qh = [0u8; 32];
    qh[0] = 0b10; // weight 0 of sub-block 1
    qh[1] = 0b1_0001; // weight 1 of sub-blocks 0 and 4
    blk.extend(qh);
    let mut qs = [0u8; 128];
    qs[0] = 0x7b;
    qs[64] = 0x2f;
    blk.extend(qs);
    let w = Format::Q5_K.dequantize(&blk, 256);
    assert_eq!(w.len(), 256);
    assert_eq!(w[0], 11.0 - 2.5);
    assert_eq!(w[1], 16.0 - 2.5);
    assert_eq!(w[32], 2.0 * 23.0 - 3.0);
    assert_eq!(w[128], 21.0 * 15.0 - 17.0);
    assert_eq!(w[129], 21.0 * 16.0 - 17.0);
}

#[test]
fn q6_k_follows_llama_cpp_order() {
    let mut ql = [0u8; 128];
    ql[0] = 0x5a; // group 0 low 10, group 2 low 5
    ql[32] = 0x0c; // group 1 low 12, group 3 low 0
    ql[64] = 0x01; // second half, group 0
    let mut qh = [0u8; 64];
    qh[0] = 0b11_10_01_00; // top bits 0, 1, 2, 3 for groups 0..3
    qh[32] = 0b11;
    let mut scales = [0u8; 16];
    scales[0] = 2;
    scales[1] = (-3i8) as u8;
    scales[2] = 4;
    scales[4] = 7;
    scales[6] = 1;
    scales[8] = (-1i8) as u8;
    let mut blk = Vec::new();
    blk.extend(ql);
    blk.extend(qh);
    blk.extend(scales);
    blk.extend(f16(0.5));
    let w = Format::Q6_K.dequantize(&blk, 256);
    assert_eq!(w.len(), 256);
    assert_eq!(w[0], 0.5 * 2.0 * (10.0 - 32.0));
    assert_eq!(w[16], 0.5 * -3.0 * -32.0);
    assert_eq!(w[32], 0.5 * 4.0 * (12.0 + 16.0 - 32.0));
    assert_eq!(w[64], 0.5 * 7.0 * (5.0 + 32.0 - 32.0));
    assert_eq!(w[96], 0.5 * (48.0 - 32.0));
    assert_eq!(w[128], -0.5 * (1.0 + 48.0 - 32.0)); // scale -1
    assert_eq!(w[200], 0.0);
}

#[test]
fn mxfp4_follows_llama_cpp_order() {
    // Two blocks: the second's fields start at odd bytes 17 and 18.
    let mut row = vec![128u8];
    row.extend((0..16u8).map(|i| (i << 4) | (15 - i)));
    row.push(127);
    row.extend([0x9f; 16]);
    let w = Format::MXFP4.dequantize(&row, 64);
    assert_eq!(w[0], -12.0); // code 15 at 2^0
    assert_eq!(w[16], 0.0); // code 0
    assert_eq!(w[1], -8.0); // code 14
    assert_eq!(w[17], 1.0); // code 1
    assert_eq!(w[23], 12.0); // code 7
    assert_eq!(w[7], 0.0); // code 8: -0
    assert_eq!(w[31], -12.0); // code 15
    assert_eq!(w[32], -6.0); // code 15 at 2^-1: E2M1 -6 at scale 1
    assert_eq!(w[48], -0.5); // code 9
}
