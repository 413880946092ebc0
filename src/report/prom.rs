//! Result rows as a Prometheus text exposition, for node_exporter's
//! textfile collector, which farms already scrape into Prometheus and
//! Grafana. One gauge family per metric and unit, named
//! `hashflops_<metric>_<unit>`; the labels say which host, adapter, bus,
//! suite and kernel, and whether the figure was verified.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use super::ResultRow;

type Labels = Vec<(String, String)>;
type F64Gauge = Gauge<f64, AtomicU64>;

/// `H/s` -> `hashes_per_second`, as Prometheus names units (base units,
/// spelled out).
pub fn unit_name(unit: &str) -> String {
    match unit {
        "H/s" => "hashes_per_second".into(),
        "FLOP/s" => "flop_per_second".into(),
        "OP/s" => "ops_per_second".into(),
        "B/s" => "bytes_per_second".into(),
        "tok/s" => "tokens_per_second".into(),
        "s" => "seconds".into(),
        "B" => "bytes".into(),
        "W" => "watts".into(),
        "J" => "joules".into(),
        "C" | "°C" => "celsius".into(),
        "Hz" => "hertz".into(),
        "%" => "percent".into(),
        other => sanitize(other),
    }
}

/// Keeps `[a-zA-Z0-9_]`, everything else becomes `_`.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    out.trim_matches('_').to_string()
}

/// The metric name a row is exported under.
pub fn metric_name(row: &ResultRow) -> String {
    format!(
        "hashflops_{}_{}",
        sanitize(&row.metric),
        unit_name(&row.unit)
    )
}

/// The exposition text for `rows`. The adapter's identity labels, `bus_id`
/// and `uuid`, are the rows' own columns (empty where it has none).
pub fn render(rows: &[ResultRow]) -> String {
    // Quadratic in rows, which number in the tens per adapter.
    let mut registry = Registry::default();
    let mut families: Vec<(String, Family<Labels, F64Gauge>)> = Vec::new();
    for row in rows {
        let name = metric_name(row);
        let family = match families.iter().find(|(n, _)| *n == name) {
            Some((_, f)) => f.clone(),
            None => {
                let f = Family::<Labels, F64Gauge>::default();
                // The registry's prefix is empty, so the name is kept whole.
                registry.register(
                    name.clone(),
                    format!(
                        "hashflops {} in {} (median of the timed samples)",
                        row.metric, row.unit
                    ),
                    f.clone(),
                );
                families.push((name.clone(), f.clone()));
                f
            }
        };
        let mut labels: Labels = vec![
            ("host".into(), row.host.clone()),
            ("adapter".into(), row.adapter.clone()),
            ("adapter_index".into(), row.adapter_index.to_string()),
            ("bus_id".into(), row.bus_id.clone()),
            ("uuid".into(), row.device_uuid.clone()),
            ("backend".into(), row.backend.clone()),
            ("suite".into(), row.suite.clone()),
            ("kernel".into(), row.kernel.clone()),
            ("verified".into(), row.verified.to_string()),
        ];
        // Rows that share every label (one kernel at several sizes) are
        // told apart by their parameters; a lone row keeps the stable set.
        let twins = rows
            .iter()
            .filter(|r| {
                metric_name(r) == name
                    && r.adapter_index == row.adapter_index
                    && r.adapter == row.adapter
                    && r.host == row.host
                    && r.suite == row.suite
                    && r.kernel == row.kernel
            })
            .count();
        if twins > 1 {
            // `k=v;k=v` written as `k:v k:v`: simple parsers split labels on
            // `=` and `,` even inside quotes.
            let variant = row.params.replace('=', ":").replace([';', ','], " ");
            labels.push(("variant".into(), variant));
        }
        family.get_or_create(&labels).set(row.value);
    }
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        suite: &str,
        kernel: &str,
        metric: &str,
        unit: &str,
        value: f64,
        params: &str,
    ) -> ResultRow {
        ResultRow {
            run_id: "r1".into(),
            timestamp_utc: "2026-01-01T00:00:00Z".into(),
            tool_version: "0.1.0".into(),
            host: "rig-07".into(),
            adapter_index: 0,
            adapter: "GeForce \"GTX\" 1070".into(),
            vendor_id: "0x10de".into(),
            device_id: "0x1b81".into(),
            device_type: "discrete".into(),
            backend: "vulkan".into(),
            driver: "nvidia".into(),
            driver_info: "".into(),
            suite: suite.into(),
            kernel: kernel.into(),
            params: params.into(),
            metric: metric.into(),
            unit: unit.into(),
            value,
            min: value,
            max: value,
            cv_pct: 1.0,
            samples: 5,
            timing: "gpu-timestamp".into(),
            verified: true,
            bus_id: "0000:01:00.0".into(),
            device_uuid: "deadbeef-0001-0203-0405-06070809abcd".into(),
        }
    }

    #[test]
    fn exposition_parses_with_a_real_parser() {
        let rows = vec![
            row("hash", "sha256d", "hash_rate", "H/s", 1.1e9, "x=1"),
            row("stream", "triad", "bandwidth", "B/s", 2.3e11, "x=1"),
            row(
                "transfer",
                "h2d",
                "bandwidth",
                "B/s",
                1.0e9,
                "bytes=1048576",
            ),
            row(
                "transfer",
                "h2d",
                "bandwidth",
                "B/s",
                3.0e9,
                "bytes=268435456",
            ),
            row("transfer", "round_trip", "latency", "s", 2.5e-5, ""),
        ];
        let text = render(&rows);
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("parses");
        let names: Vec<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
        assert!(
            names.contains(&"hashflops_hash_rate_hashes_per_second"),
            "{names:?}"
        );
        assert!(names.contains(&"hashflops_latency_seconds"), "{names:?}");
        assert_eq!(scrape.samples.len(), rows.len(), "{text}");
        for s in &scrape.samples {
            assert!(s.metric.starts_with("hashflops_"));
            assert_eq!(s.labels.get("host"), Some("rig-07"));
            // The quotes were escaped (the parser returns values as written),
            // so they could not end the label early.
            assert_eq!(s.labels.get("adapter"), Some(r#"GeForce \"GTX\" 1070"#));
            assert_eq!(s.labels.get("bus_id"), Some("0000:01:00.0"));
            assert_eq!(
                s.labels.get("uuid"),
                Some("deadbeef-0001-0203-0405-06070809abcd")
            );
        }
        let h2d: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.labels.get("kernel") == Some("h2d"))
            .collect();
        assert_eq!(h2d.len(), 2, "two sizes stay two series");
        assert!(h2d
            .iter()
            .any(|s| s.labels.get("variant") == Some("bytes:1048576")));
        let hash = scrape
            .samples
            .iter()
            .find(|s| s.metric == "hashflops_hash_rate_hashes_per_second")
            .unwrap();
        assert_eq!(hash.value, prometheus_parse::Value::Gauge(1.1e9));
        assert!(hash.labels.get("variant").is_none());
    }
}
