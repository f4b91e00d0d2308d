//! Spectra per second of the CWT kernel on one thread, for the seed analysis: 119 samples,
//! widths `linspace(20, 60, 30)`. `fast` is the batched `PeakFinder`, `reference` the
//! per-spectrum transcription of scipy's algorithm.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use usid_peaks::cwt::{find_peaks_cwt, CwtParams, PeakFinder};

/// Band-excitation-like spectra: a few resonances over noise, always positive (`np.abs`).
fn spectra(n: usize, len: usize) -> Vec<f64> {
    let mut state = 0x853c49e6748fea9bu64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .flat_map(|_| {
            let centre = 20.0 + 80.0 * uniform();
            let q = 5.0 + 50.0 * uniform();
            let noise: Vec<f64> = (0..len).map(|_| 0.2 * uniform()).collect();
            (0..len).map(move |i| {
                let f = i as f64 / centre;
                1.0 / ((1.0 - f * f).powi(2) + (f / q).powi(2)).sqrt() + noise[i]
            })
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let len = 119;
    let params = CwtParams::default();
    let finder = PeakFinder::new(len, &params).expect("valid parameters");
    let mut scratch = finder.new_scratch();

    let n = 2048;
    let data = spectra(n, len);
    let mut group = c.benchmark_group("cwt_119x30");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("fast", |b| {
        b.iter(|| {
            let mut found = 0;
            finder.find_batch(black_box(&data), &mut scratch, |_, p| found += p.len());
            found
        })
    });

    let n = 16;
    let few = spectra(n, len);
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function("reference", |b| {
        b.iter(|| {
            few.chunks_exact(len)
                .map(|x| find_peaks_cwt(black_box(x), &params).map_or(0, |p| p.len()))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
