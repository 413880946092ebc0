// Element header for matmul.wgsl: A and B in f16 (SHADER_F16), read
// into f32 for the products and sums.
enable f16;
alias elem = f16;
