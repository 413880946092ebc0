//! How attention over a KV cache joins the weights in a decoded token's
//! time.

/// Decode tokens/s at a context: a token reads every layer's weights and
/// every layer's cache one after the other, so their times per token add:
/// 1 / (1 / weights + 1 / attention).
pub fn decode_rate_at_context(weights_tok_s: f64, attention_tok_s: f64) -> f64 {
    1.0 / (1.0 / weights_tok_s + 1.0 / attention_tok_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_times_per_token_add() {
        assert_eq!(decode_rate_at_context(100.0, 100.0), 50.0);
        let r = decode_rate_at_context(40.0, 10.0);
        assert!((r - 8.0).abs() < 1e-12, "{r}");
        // Attention that costs nothing leaves the weights' rate.
        assert_eq!(decode_rate_at_context(30.0, f64::INFINITY), 30.0);
    }
}
