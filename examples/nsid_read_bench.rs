//! How fast the NSID reader hands out spectra against the USID reader on the same values: the
//! read half of `find`, for issue 24's target (an NSID map within 10 % of the same data as USID).
//!
//! `nsid_read_bench MAP.h5 [--repeat 5] [--batch 8192]`
//!
//! MAP.h5 is a complex64 USID map with one main dataset of two position dimensions (e.g.
//! `usid-peaks generate MAP.h5 --rows 512 --cols 512`). Beside it the bench writes, once, the
//! same values as two contiguous NSID datasets with the library's writer: `MAP-nsid.h5`
//! (rows, cols, bins), the layout instruments write, and `MAP-nsid-bins-first.h5`
//! (bins, rows, cols), where every spectrum is strided. Each pass reads every spectrum in batches
//! of `--batch` positions (8192: `find`'s batch for 2 threads at the default --max-mem, whole map
//! rows for 512 columns; an odd size cuts rows), through `usid::SpectraReader` and
//! `nsid::Spectra::read`. One warm-up pass each, then `--repeat` rounds of the three in turn;
//! prints a markdown table with the median seconds, the rate and the ratio to USID. Run it on
//! files in the page cache to time the readers, not the disk.
use std::path::{Path, PathBuf};
use std::time::Instant;

use num_complex::Complex32;
use usid_peaks::nsid::{self, Dimension, DimensionType, NsidDataset, NsidSpec, Spectra};
use usid_peaks::usid::{self, ElementType, MainDataset, SpectraLayout, SpectraReader};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (mut map, mut repeat, mut batch) = (None, 5usize, 8192usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repeat" => repeat = args.next().ok_or("--repeat needs a number")?.parse()?,
            "--batch" => batch = args.next().ok_or("--batch needs a number")?.parse()?,
            _ if a.starts_with('-') => return Err(format!("unknown option {a}").into()),
            _ => map = Some(PathBuf::from(a)),
        }
    }
    let map = map.ok_or("usage: nsid_read_bench MAP.h5 [--repeat 5] [--batch 8192]")?;
    if repeat == 0 || batch == 0 {
        return Err("--repeat and --batch must be positive".into());
    }
    let file = usid::open_file(&map)?;
    let path = match usid::find_main_datasets(&file)?.as_slice() {
        [one] => one.clone(),
        found => return Err(format!("{}: {} main datasets, want one", map.display(), found.len()).into()),
    };
    let main = MainDataset::open(&file, &path)?;
    if main.dtype != ElementType::Complex64 || main.position_dims.len() != 2 {
        return Err("the bench wants a complex64 map with two position dimensions".into());
    }
    let layout = SpectraLayout::new(&main, None)?;
    let reader = SpectraReader::new(&main, &layout);
    // Contiguous data: HDF5 reads on this thread, the pool stays idle.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let sibling = |suffix: &str| map.with_file_name(format!("{}-{suffix}.h5", stem(&map)));
    let (leading, bins_first) = (sibling("nsid"), sibling("nsid-bins-first"));
    for (target, bins_first) in [(&leading, false), (&bins_first, true)] {
        if !target.exists() {
            write_nsid(&main, &layout, &reader, &pool, target, bins_first)?;
        }
    }
    let nsid_spectra = |p: &Path| -> Result<(NsidDataset, Spectra), Error> {
        let f = usid::open_file(p)?;
        let ds = NsidDataset::open(&f, "/Measurement_000/Channel_000/Raw_Data/Raw_Data")?;
        let s = Spectra::new(&ds, None)?;
        Ok((ds, s))
    };
    let (a, b) = (nsid_spectra(&leading)?, nsid_spectra(&bins_first)?);
    let n = main.n_positions;
    let runs: Vec<std::ops::Range<usize>> = (0..n).step_by(batch).map(|s| s..(s + batch).min(n)).collect();
    let sides = [
        ("USID (positions, bins)", Side::Usid(&reader, &pool)),
        ("NSID (rows, cols, bins)", Side::Nsid(&a.0, &a.1)),
        ("NSID (bins, rows, cols)", Side::Nsid(&b.0, &b.1)),
    ];
    let mut seconds = vec![Vec::new(); sides.len()];
    for round in 0..=repeat {
        for (k, (_, side)) in sides.iter().enumerate() {
            let t = Instant::now();
            let values = pass(side, &runs)?;
            if values != n * main.n_bins {
                return Err(format!("read {values} values, the map has {}", n * main.n_bins).into());
            }
            if round > 0 {
                seconds[k].push(t.elapsed().as_secs_f64());
            }
        }
    }
    let mb = (n * main.n_bins * 8) as f64 / 1e6;
    println!("| layout | batch | seconds (median of {repeat}) | MB/s in memory | / USID |");
    println!("| --- | --: | --: | --: | --: |");
    let medians: Vec<f64> = seconds.into_iter().map(median).collect();
    for ((name, _), s) in sides.iter().zip(&medians) {
        println!("| {name} | {batch} | {s:.3} | {:.0} | {:.2} |", mb / s, s / medians[0]);
    }
    Ok(())
}

fn stem(p: &Path) -> String {
    p.file_stem().map_or_else(|| "map".into(), |s| s.to_string_lossy().into_owned())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What a pass reads through: the USID reader or the NSID reader.
enum Side<'a> {
    Usid(&'a SpectraReader, &'a rayon::ThreadPool),
    Nsid(&'a NsidDataset, &'a Spectra),
}

/// Every spectrum, batch by batch, as the engine reads them; the number of values read.
fn pass(side: &Side<'_>, runs: &[std::ops::Range<usize>]) -> Result<usize, Error> {
    let mut values = 0;
    for r in runs {
        values += match side {
            Side::Usid(reader, pool) => {
                let block = reader.read(std::slice::from_ref(r), pool)?;
                std::hint::black_box(block).rows().len()
            }
            Side::Nsid(ds, s) => {
                let block: Vec<Complex32> = s.read(ds.dataset(), std::slice::from_ref(r))?;
                std::hint::black_box(block).len()
            }
        };
    }
    Ok(values)
}

/// The map's values as a contiguous NSID dataset at `target`: (rows, cols, bins), or
/// (bins, rows, cols) with `bins_first`.
fn write_nsid(
    main: &MainDataset,
    layout: &SpectraLayout,
    reader: &SpectraReader,
    pool: &rayon::ThreadPool,
    target: &Path,
    bins_first: bool,
) -> Result<(), Error> {
    let fast = main.fastest_position_dim()?;
    let (rows, cols) = (main.position_dims[1 - fast].size, main.position_dims[fast].size);
    let axis = |name: &str, n: usize| {
        Dimension::new(name, "Length", "m", DimensionType::Spatial, (0..n).map(|i| i as f64).collect())
    };
    let bins = Dimension::new(
        &layout.along_dim.name,
        "Frequency",
        &layout.along_dim.units,
        DimensionType::Spectral,
        layout.axis.clone(),
    );
    let dims = if bins_first {
        vec![bins, axis("y", rows), axis("x", cols)]
    } else {
        vec![axis("y", rows), axis("x", cols), bins]
    };
    let f = hdf5::File::create(target)?;
    let g = f.create_group("Measurement_000")?.create_group("Channel_000")?;
    let spec = NsidSpec {
        name: "Raw_Data",
        quantity: "Amplitude",
        units: "V",
        data_type: "SPECTRAL_IMAGE",
        modality: "Band Excitation",
        source: "nsid_read_bench",
        dims: &dims,
        chunk: None,
    };
    let ds = nsid::create_nsid_dataset::<Complex32>(&g, &spec)?;
    let n_bins = main.n_bins;
    for y in 0..rows {
        let block = reader.read(std::slice::from_ref(&(y * cols..(y + 1) * cols)), pool)?;
        let usid::Rows::Complex32(v) = block.rows() else { return Err("not complex64".into()) };
        if bins_first {
            let t = ndarray::Array2::from_shape_fn((n_bins, cols), |(f, x)| v[x * n_bins + f]);
            ds.write_slice(t.view(), ndarray::s![.., y, ..])?;
        } else {
            nsid::write_positions(&ds, &[rows, cols], y * cols..(y + 1) * cols, v)?;
        }
    }
    Ok(())
}
