// Element header for matmul.wgsl: A and B in f32.
alias elem = f32;
