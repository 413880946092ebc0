// Accumulators and store shared by every matmul entry point (composed after
// matmul.wgsl or matmul_subgroup.wgsl, which declare `c` and the overrides
// TM and TNV).

// Accumulators: TM x TNV vec4s of C per invocation, in named variables so
// that no driver has to promote an array to registers (an array indexed in
// a loop may end up in local memory). TM is 4, 8 or 16 and TNV 1, 2 or 4;
// the branches on them are constant once the overrides are set.

var<private> acc000: vec4<f32>;
var<private> acc001: vec4<f32>;
var<private> acc002: vec4<f32>;
var<private> acc003: vec4<f32>;
var<private> acc010: vec4<f32>;
var<private> acc011: vec4<f32>;
var<private> acc012: vec4<f32>;
var<private> acc013: vec4<f32>;
var<private> acc020: vec4<f32>;
var<private> acc021: vec4<f32>;
var<private> acc022: vec4<f32>;
var<private> acc023: vec4<f32>;
var<private> acc030: vec4<f32>;
var<private> acc031: vec4<f32>;
var<private> acc032: vec4<f32>;
var<private> acc033: vec4<f32>;
var<private> acc040: vec4<f32>;
var<private> acc041: vec4<f32>;
var<private> acc042: vec4<f32>;
var<private> acc043: vec4<f32>;
var<private> acc050: vec4<f32>;
var<private> acc051: vec4<f32>;
var<private> acc052: vec4<f32>;
var<private> acc053: vec4<f32>;
var<private> acc060: vec4<f32>;
var<private> acc061: vec4<f32>;
var<private> acc062: vec4<f32>;
var<private> acc063: vec4<f32>;
var<private> acc070: vec4<f32>;
var<private> acc071: vec4<f32>;
var<private> acc072: vec4<f32>;
var<private> acc073: vec4<f32>;
var<private> acc080: vec4<f32>;
var<private> acc081: vec4<f32>;
var<private> acc082: vec4<f32>;
var<private> acc083: vec4<f32>;
var<private> acc090: vec4<f32>;
var<private> acc091: vec4<f32>;
var<private> acc092: vec4<f32>;
var<private> acc093: vec4<f32>;
var<private> acc100: vec4<f32>;
var<private> acc101: vec4<f32>;
var<private> acc102: vec4<f32>;
var<private> acc103: vec4<f32>;
var<private> acc110: vec4<f32>;
var<private> acc111: vec4<f32>;
var<private> acc112: vec4<f32>;
var<private> acc113: vec4<f32>;
var<private> acc120: vec4<f32>;
var<private> acc121: vec4<f32>;
var<private> acc122: vec4<f32>;
var<private> acc123: vec4<f32>;
var<private> acc130: vec4<f32>;
var<private> acc131: vec4<f32>;
var<private> acc132: vec4<f32>;
var<private> acc133: vec4<f32>;
var<private> acc140: vec4<f32>;
var<private> acc141: vec4<f32>;
var<private> acc142: vec4<f32>;
var<private> acc143: vec4<f32>;
var<private> acc150: vec4<f32>;
var<private> acc151: vec4<f32>;
var<private> acc152: vec4<f32>;
var<private> acc153: vec4<f32>;

fn clear_acc() {
    acc000 = vec4<f32>(0.0);
    acc001 = vec4<f32>(0.0);
    acc002 = vec4<f32>(0.0);
    acc003 = vec4<f32>(0.0);
    acc010 = vec4<f32>(0.0);
    acc011 = vec4<f32>(0.0);
    acc012 = vec4<f32>(0.0);
    acc013 = vec4<f32>(0.0);
    acc020 = vec4<f32>(0.0);
    acc021 = vec4<f32>(0.0);
    acc022 = vec4<f32>(0.0);
    acc023 = vec4<f32>(0.0);
    acc030 = vec4<f32>(0.0);
    acc031 = vec4<f32>(0.0);
    acc032 = vec4<f32>(0.0);
    acc033 = vec4<f32>(0.0);
    acc040 = vec4<f32>(0.0);
    acc041 = vec4<f32>(0.0);
    acc042 = vec4<f32>(0.0);
    acc043 = vec4<f32>(0.0);
    acc050 = vec4<f32>(0.0);
    acc051 = vec4<f32>(0.0);
    acc052 = vec4<f32>(0.0);
    acc053 = vec4<f32>(0.0);
    acc060 = vec4<f32>(0.0);
    acc061 = vec4<f32>(0.0);
    acc062 = vec4<f32>(0.0);
    acc063 = vec4<f32>(0.0);
    acc070 = vec4<f32>(0.0);
    acc071 = vec4<f32>(0.0);
    acc072 = vec4<f32>(0.0);
    acc073 = vec4<f32>(0.0);
    acc080 = vec4<f32>(0.0);
    acc081 = vec4<f32>(0.0);
    acc082 = vec4<f32>(0.0);
    acc083 = vec4<f32>(0.0);
    acc090 = vec4<f32>(0.0);
    acc091 = vec4<f32>(0.0);
    acc092 = vec4<f32>(0.0);
    acc093 = vec4<f32>(0.0);
    acc100 = vec4<f32>(0.0);
    acc101 = vec4<f32>(0.0);
    acc102 = vec4<f32>(0.0);
    acc103 = vec4<f32>(0.0);
    acc110 = vec4<f32>(0.0);
    acc111 = vec4<f32>(0.0);
    acc112 = vec4<f32>(0.0);
    acc113 = vec4<f32>(0.0);
    acc120 = vec4<f32>(0.0);
    acc121 = vec4<f32>(0.0);
    acc122 = vec4<f32>(0.0);
    acc123 = vec4<f32>(0.0);
    acc130 = vec4<f32>(0.0);
    acc131 = vec4<f32>(0.0);
    acc132 = vec4<f32>(0.0);
    acc133 = vec4<f32>(0.0);
    acc140 = vec4<f32>(0.0);
    acc141 = vec4<f32>(0.0);
    acc142 = vec4<f32>(0.0);
    acc143 = vec4<f32>(0.0);
    acc150 = vec4<f32>(0.0);
    acc151 = vec4<f32>(0.0);
    acc152 = vec4<f32>(0.0);
    acc153 = vec4<f32>(0.0);
}

// Rows 0..3: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows0(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc000 = fma(vec4<f32>(a.x), b0, acc000);
    acc010 = fma(vec4<f32>(a.y), b0, acc010);
    acc020 = fma(vec4<f32>(a.z), b0, acc020);
    acc030 = fma(vec4<f32>(a.w), b0, acc030);
    if (TNV > 1u) {
        acc001 = fma(vec4<f32>(a.x), b1, acc001);
        acc011 = fma(vec4<f32>(a.y), b1, acc011);
        acc021 = fma(vec4<f32>(a.z), b1, acc021);
        acc031 = fma(vec4<f32>(a.w), b1, acc031);
    }
    if (TNV > 2u) {
        acc002 = fma(vec4<f32>(a.x), b2, acc002);
        acc012 = fma(vec4<f32>(a.y), b2, acc012);
        acc022 = fma(vec4<f32>(a.z), b2, acc022);
        acc032 = fma(vec4<f32>(a.w), b2, acc032);
        acc003 = fma(vec4<f32>(a.x), b3, acc003);
        acc013 = fma(vec4<f32>(a.y), b3, acc013);
        acc023 = fma(vec4<f32>(a.z), b3, acc023);
        acc033 = fma(vec4<f32>(a.w), b3, acc033);
    }
}

// Rows 4..7: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows1(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc040 = fma(vec4<f32>(a.x), b0, acc040);
    acc050 = fma(vec4<f32>(a.y), b0, acc050);
    acc060 = fma(vec4<f32>(a.z), b0, acc060);
    acc070 = fma(vec4<f32>(a.w), b0, acc070);
    if (TNV > 1u) {
        acc041 = fma(vec4<f32>(a.x), b1, acc041);
        acc051 = fma(vec4<f32>(a.y), b1, acc051);
        acc061 = fma(vec4<f32>(a.z), b1, acc061);
        acc071 = fma(vec4<f32>(a.w), b1, acc071);
    }
    if (TNV > 2u) {
        acc042 = fma(vec4<f32>(a.x), b2, acc042);
        acc052 = fma(vec4<f32>(a.y), b2, acc052);
        acc062 = fma(vec4<f32>(a.z), b2, acc062);
        acc072 = fma(vec4<f32>(a.w), b2, acc072);
        acc043 = fma(vec4<f32>(a.x), b3, acc043);
        acc053 = fma(vec4<f32>(a.y), b3, acc053);
        acc063 = fma(vec4<f32>(a.z), b3, acc063);
        acc073 = fma(vec4<f32>(a.w), b3, acc073);
    }
}

// Rows 8..11: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows2(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc080 = fma(vec4<f32>(a.x), b0, acc080);
    acc090 = fma(vec4<f32>(a.y), b0, acc090);
    acc100 = fma(vec4<f32>(a.z), b0, acc100);
    acc110 = fma(vec4<f32>(a.w), b0, acc110);
    if (TNV > 1u) {
        acc081 = fma(vec4<f32>(a.x), b1, acc081);
        acc091 = fma(vec4<f32>(a.y), b1, acc091);
        acc101 = fma(vec4<f32>(a.z), b1, acc101);
        acc111 = fma(vec4<f32>(a.w), b1, acc111);
    }
    if (TNV > 2u) {
        acc082 = fma(vec4<f32>(a.x), b2, acc082);
        acc092 = fma(vec4<f32>(a.y), b2, acc092);
        acc102 = fma(vec4<f32>(a.z), b2, acc102);
        acc112 = fma(vec4<f32>(a.w), b2, acc112);
        acc083 = fma(vec4<f32>(a.x), b3, acc083);
        acc093 = fma(vec4<f32>(a.y), b3, acc093);
        acc103 = fma(vec4<f32>(a.z), b3, acc103);
        acc113 = fma(vec4<f32>(a.w), b3, acc113);
    }
}

// Rows 12..15: acc[i][j] += a_i * b_j for the columns this shape has.
fn fma_rows3(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    acc120 = fma(vec4<f32>(a.x), b0, acc120);
    acc130 = fma(vec4<f32>(a.y), b0, acc130);
    acc140 = fma(vec4<f32>(a.z), b0, acc140);
    acc150 = fma(vec4<f32>(a.w), b0, acc150);
    if (TNV > 1u) {
        acc121 = fma(vec4<f32>(a.x), b1, acc121);
        acc131 = fma(vec4<f32>(a.y), b1, acc131);
        acc141 = fma(vec4<f32>(a.z), b1, acc141);
        acc151 = fma(vec4<f32>(a.w), b1, acc151);
    }
    if (TNV > 2u) {
        acc122 = fma(vec4<f32>(a.x), b2, acc122);
        acc132 = fma(vec4<f32>(a.y), b2, acc132);
        acc142 = fma(vec4<f32>(a.z), b2, acc142);
        acc152 = fma(vec4<f32>(a.w), b2, acc152);
        acc123 = fma(vec4<f32>(a.x), b3, acc123);
        acc133 = fma(vec4<f32>(a.y), b3, acc133);
        acc143 = fma(vec4<f32>(a.z), b3, acc143);
        acc153 = fma(vec4<f32>(a.w), b3, acc153);
    }
}

// One K step: `a` holds the A values of rows 4g..4g+3, `b` the B vec4s.
fn fma_step(a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
    fma_rows0(a0, b0, b1, b2, b3);
    if (TM > 4u) {
        fma_rows1(a1, b0, b1, b2, b3);
    }
    if (TM > 8u) {
        fma_rows2(a2, b0, b1, b2, b3);
        fma_rows3(a3, b0, b1, b2, b3);
    }
}

fn get_acc(i: u32, j: u32) -> vec4<f32> {
    switch (i * 4u + j) {
        case 0u: { return acc000; }
        case 1u: { return acc001; }
        case 2u: { return acc002; }
        case 3u: { return acc003; }
        case 4u: { return acc010; }
        case 5u: { return acc011; }
        case 6u: { return acc012; }
        case 7u: { return acc013; }
        case 8u: { return acc020; }
        case 9u: { return acc021; }
        case 10u: { return acc022; }
        case 11u: { return acc023; }
        case 12u: { return acc030; }
        case 13u: { return acc031; }
        case 14u: { return acc032; }
        case 15u: { return acc033; }
        case 16u: { return acc040; }
        case 17u: { return acc041; }
        case 18u: { return acc042; }
        case 19u: { return acc043; }
        case 20u: { return acc050; }
        case 21u: { return acc051; }
        case 22u: { return acc052; }
        case 23u: { return acc053; }
        case 24u: { return acc060; }
        case 25u: { return acc061; }
        case 26u: { return acc062; }
        case 27u: { return acc063; }
        case 28u: { return acc070; }
        case 29u: { return acc071; }
        case 30u: { return acc072; }
        case 31u: { return acc073; }
        case 32u: { return acc080; }
        case 33u: { return acc081; }
        case 34u: { return acc082; }
        case 35u: { return acc083; }
        case 36u: { return acc090; }
        case 37u: { return acc091; }
        case 38u: { return acc092; }
        case 39u: { return acc093; }
        case 40u: { return acc100; }
        case 41u: { return acc101; }
        case 42u: { return acc102; }
        case 43u: { return acc103; }
        case 44u: { return acc110; }
        case 45u: { return acc111; }
        case 46u: { return acc112; }
        case 47u: { return acc113; }
        case 48u: { return acc120; }
        case 49u: { return acc121; }
        case 50u: { return acc122; }
        case 51u: { return acc123; }
        case 52u: { return acc130; }
        case 53u: { return acc131; }
        case 54u: { return acc132; }
        case 55u: { return acc133; }
        case 56u: { return acc140; }
        case 57u: { return acc141; }
        case 58u: { return acc142; }
        case 59u: { return acc143; }
        case 60u: { return acc150; }
        case 61u: { return acc151; }
        case 62u: { return acc152; }
        case 63u: { return acc153; }
        default: { return vec4<f32>(0.0); }
    }
}

// Adds the accumulators of the invocation whose first row and first vec4
// column of C are `row` and `col4`, rows `row_step` and vec4 columns
// `col4_step` apart, to C: every timed repetition adds its product (of
// its own input window of A) to what the repetitions before it left.
fn store_c(row: u32, row_step: u32, col4: u32, col4_step: u32, m: u32, n: u32) {
    for (var i = 0u; i < TM; i += 1u) {
        let r = row + i * row_step;
        if (r >= m) {
            continue;
        }
        for (var j = 0u; j < TNV; j += 1u) {
            let col = (col4 + j * col4_step) * 4u;
            let v = get_acc(i, j);
            for (var q = 0u; q < 4u; q += 1u) {
                if (col + q < n) {
                    c[r * n + col + q] = c[r * n + col + q] + v[q];
                }
            }
        }
    }
}
