use super::*;

#[test]
fn every_kernel_name_is_unique_and_reads_back() {
    let all = Kernel::all();
    for k in &all {
        let name = k.to_string();
        assert_eq!(name.parse::<Kernel>(), Ok(*k), "{name}");
        let same: Vec<_> = all.iter().filter(|x| x.to_string() == name).collect();
        assert_eq!(same.len(), 1, "{name} names {same:?}");
    }
    assert!("decode_q5_k".parse::<Kernel>().is_err());
}

#[test]
fn every_metric_reads_back_with_a_unit_and_direction() {
    let mut all: Vec<Metric> = METRICS.iter().map(|(m, _)| *m).collect();
    all.extend(Quantity::ALL.iter().map(|&q| Metric::Reading(q)));
    for m in all {
        assert_eq!(m.name().parse::<Metric>(), Ok(m));
        assert!(!Kernel::Sha256d.unit(m).is_empty() || m == Metric::Reading(Quantity::Link));
    }
    assert_eq!(Metric::Latency.direction(), Direction::Lower);
    assert!(Metric::Latency.better(1.0, 2.0));
    assert!(Metric::Bandwidth.better(2.0, 1.0));
    assert_eq!(Kernel::Peak(Peak::Int8Dot4).unit(Metric::PeakRate), "OP/s");
    assert_eq!(Kernel::Peak(Peak::Fp16Fma).unit(Metric::PeakRate), "FLOP/s");
}

#[test]
fn params_render_and_read_back_typed() {
    let p = Params::new()
        .with(Fact::Model("llama2-7b".into()))
        .with(Fact::Format(Format::Q4_0))
        .detail("activations", "f32")
        .with(Fact::Bytes(1 << 20))
        .with(Fact::CacheSized("working set 3 under 4x a 4 cache".into()))
        .with(Fact::Interval(3))
        .with(Fact::StartS(12.25));
    let text = p.to_string();
    assert_eq!(
        text,
        "model=llama2-7b;format=q4_0;activations=f32;bytes=1048576;\
         comparable=no(working set 3 under 4x a 4 cache);interval=3;t_s=12.2"
    );
    let back: Params = text.parse().unwrap();
    assert_eq!(back.model(), Some("llama2-7b"));
    assert_eq!(back.format(), Some(Format::Q4_0));
    assert_eq!(back.bytes(), Some(1 << 20));
    assert_eq!(back.cache_sized(), Some("working set 3 under 4x a 4 cache"));
    assert_eq!(back.interval(), Some(3));
    assert_eq!(back.to_string(), text);
}

#[test]
fn params_keep_what_they_cannot_type() {
    let text = "bytes=lots;odd;format=q9;x=1";
    let p: Params = text.parse().unwrap();
    assert_eq!(p.bytes(), None);
    assert_eq!(p.format(), None);
    assert_eq!(p.to_string(), text);
}
