//! `cargo bench -p kneepath-core --bench assess`: full assessments (triage,
//! evidence, contributing factors and plan) over the shared dev cases, and
//! the same with the owned report (all texts copied, as stored or printed).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kneepath_core::cases::Case;
use kneepath_core::{KnowledgeBase, assess};

fn load_cases(kb: &KnowledgeBase) -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases/dev");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            Case::parse(kb, &text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let kb = KnowledgeBase::bundled().unwrap_or_else(|e| panic!("{e}"));
    let cases = load_cases(&kb);
    let mut g = c.benchmark_group("dev_cases");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("assess", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(assess(&kb, black_box(&case.facts)));
            }
        })
    });
    g.bench_function("assess_and_report", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(assess(&kb, black_box(&case.facts)).report());
            }
        })
    });
    g.finish();
    c.bench_function("load_and_validate_bundled_kb", |b| {
        b.iter(|| black_box(KnowledgeBase::bundled()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
