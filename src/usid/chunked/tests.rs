//! The chunk reader against the library's own read: bit for bit, for every element type the
//! engine reads, many shapes and chunkings, shuffle on and off, shuffle alone, chunks stored
//! unfiltered (incompressible data), chunks never written, and row sets that straddle chunks the
//! way consecutive batches and ranks' slices do.
// Row sets are lists of ranges; many hold one.
#![allow(clippy::single_range_in_vec_init)]
use std::ops::Range;

use hdf5::filters::Filter;
use hdf5::H5Type;
use ndarray::Array2;
use num_complex::{Complex32, Complex64};

use super::{chunk_row_groups, unshuffle, ChunkedRows, RowValue};
use crate::usid::ElementType;

/// A value compared by its bits, so NaN payloads and signed zeros count.
trait Bits {
    fn bits(&self) -> Vec<u64>;
}
impl Bits for f32 {
    fn bits(&self) -> Vec<u64> {
        vec![u64::from(self.to_bits())]
    }
}
impl Bits for f64 {
    fn bits(&self) -> Vec<u64> {
        vec![self.to_bits()]
    }
}
impl Bits for Complex32 {
    fn bits(&self) -> Vec<u64> {
        vec![u64::from(self.re.to_bits()), u64::from(self.im.to_bits())]
    }
}
impl Bits for Complex64 {
    fn bits(&self) -> Vec<u64> {
        vec![self.re.to_bits(), self.im.to_bits()]
    }
}

/// A small deterministic generator (the tests need no statistical quality).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 ^ (self.0 >> 29)
    }
}

/// Stored element types, made from 64 random bits: rows with `r % 3 == 0` get full random bits
/// (incompressible: HDF5 then stores their chunks unfiltered and says so in the filter mask),
/// the others small smooth values (compressible).
trait Stored: H5Type + Copy {
    fn make(bits: u64, smooth: bool) -> Self;
}
macro_rules! stored_int {
    ($($t:ty),*) => {$(
        impl Stored for $t {
            fn make(bits: u64, smooth: bool) -> Self {
                if smooth { (bits % 7) as $t } else { bits as $t }
            }
        }
    )*};
}
stored_int!(i8, i16, i32, i64, u8, u16, u32, u64);
impl Stored for f32 {
    fn make(bits: u64, smooth: bool) -> Self {
        if smooth {
            (bits % 100) as f32 * 0.25
        } else {
            f32::from_bits(bits as u32)
        }
    }
}
impl Stored for f64 {
    fn make(bits: u64, smooth: bool) -> Self {
        if smooth {
            (bits % 100) as f64 * 0.25
        } else {
            f64::from_bits(bits)
        }
    }
}
impl Stored for half::f16 {
    fn make(bits: u64, smooth: bool) -> Self {
        if smooth {
            half::f16::from_f64((bits % 100) as f64 * 0.25)
        } else {
            half::f16::from_bits(bits as u16)
        }
    }
}
impl Stored for Complex32 {
    fn make(bits: u64, smooth: bool) -> Self {
        Complex32::new(f32::make(bits, smooth), f32::make(bits.rotate_left(32), smooth))
    }
}
impl Stored for Complex64 {
    fn make(bits: u64, smooth: bool) -> Self {
        Complex64::new(f64::make(bits, smooth), f64::make(bits.rotate_left(17), smooth))
    }
}

fn data<S: Stored>(rows: usize, cols: usize, seed: u64) -> Array2<S> {
    let mut g = Lcg(seed);
    Array2::from_shape_fn((rows, cols), |(r, _)| S::make(g.next(), r % 3 != 0))
}

/// How a test dataset is filtered.
#[derive(Debug, Clone, Copy)]
enum Pipeline {
    Gzip,
    ShuffleGzip,
    /// Shuffle alone: size-preserving, decoded without inflating.
    Shuffle,
}

fn create<S: Stored>(
    file: &hdf5::File,
    name: &str,
    values: &Array2<S>,
    chunk: (usize, usize),
    pipeline: Pipeline,
) -> hdf5::Dataset {
    let filters = match pipeline {
        Pipeline::Gzip => vec![Filter::Deflate(4)],
        Pipeline::ShuffleGzip => vec![Filter::Shuffle, Filter::Deflate(4)],
        Pipeline::Shuffle => vec![Filter::Shuffle],
    };
    file.new_dataset_builder().with_data(values).chunk(chunk).set_filters(&filters).create(name).unwrap()
}

/// The library's read of `rows`, as the engine does it.
fn library<T: H5Type + Copy>(ds: &hdf5::Dataset, rows: &[Range<u64>]) -> Vec<T> {
    let mut out = Vec::new();
    for r in rows {
        crate::usid::reader::read_rows_into(ds, r.start as usize..r.end as usize, &mut out).unwrap();
    }
    out
}

fn bits<T: Bits>(v: &[T]) -> Vec<u64> {
    v.iter().flat_map(Bits::bits).collect()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

/// Row sets for one dataset of `n` rows: consecutive batches of several sizes (each call
/// continues where the last one stopped, as the engine's batches do), the whole dataset, and
/// (last) a resumed run's scattered ranges.
fn batch_plans(n: u64) -> Vec<Vec<Vec<Range<u64>>>> {
    let mut plans = Vec::new();
    for size in [3, 16, n.max(1)] {
        let batches = (0..n).step_by(size as usize).map(|a| vec![a..(a + size).min(n)]).collect();
        plans.push(batches);
    }
    // Ranges with holes, two of them inside one chunk-row, one batch.
    let scattered: Vec<Range<u64>> =
        [0..2, 3..5, 9..10, n / 2..n / 2 + 1, n - 1..n].into_iter().filter(|r| r.end <= n).collect();
    let mut merged: Vec<Range<u64>> = Vec::new();
    for r in scattered {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    plans.push(vec![merged]);
    plans
}

/// Write `S` data, read it back through [`ChunkedRows`] as `T` at 1 and 3 threads and every
/// batch plan, and compare with the library bit for bit: in a file open for writing (chunks
/// through HDF5's direct chunk read) and in the same file reopened read-only (chunk bytes read
/// on the pool by address).
fn check_type<S: Stored, T: RowValue + Bits>(elem: ElementType) {
    check_type_by::<S, T>(elem, bits::<T>);
}

/// [`check_type`] comparing the values by `key` (their bits, or less).
fn check_type_by<S: Stored, T: RowValue>(elem: ElementType, key: fn(&[T]) -> Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.h5");
    let file = hdf5::File::create(&path).unwrap();
    let shapes = [(1, 1), (13, 5), (40, 17), (64, 119)];
    let chunks = [(1, 1), (4, 5), (5, 3), (16, 119), (7, 200)];
    let mut written = Vec::new();
    for (si, &(rows, cols)) in shapes.iter().enumerate() {
        let values = data::<S>(rows, cols, si as u64 + 1);
        for &(cr, cc) in &chunks {
            // Single-element chunks on the large shapes test nothing new, slowly.
            if cr * cc == 1 && rows * cols > 100 {
                continue;
            }
            for pipeline in [Pipeline::Gzip, Pipeline::ShuffleGzip, Pipeline::Shuffle] {
                let name = format!("d{}", written.len());
                // HDF5 wants a chunk no larger than a fixed-size dataset.
                create(&file, &name, &values, (cr.min(rows), cc.min(cols)), pipeline);
                written.push((name, format!("shape ({rows}, {cols}) chunk ({cr}, {cc}) {pipeline:?}")));
            }
        }
    }
    let check = |file: &hdf5::File, direct: bool| {
        for (name, what) in &written {
            let ds = file.dataset(name).unwrap();
            let reader =
                ChunkedRows::open(&ds, elem).unwrap_or_else(|| panic!("{elem:?} {what}: no fast path"));
            assert_eq!(reader.direct.is_some(), direct, "{elem:?} {what}");
            let rows = ds.shape()[0] as u64;
            for (threads, plans) in [(1, 1), (3, usize::MAX)] {
                let pool = pool(threads);
                for plan in batch_plans(rows).into_iter().rev().take(plans) {
                    for batch in &plan {
                        let fast: Vec<T> = reader.read(batch, &pool).unwrap();
                        let slow: Vec<T> = library(&ds, batch);
                        assert_eq!(key(&fast), key(&slow), "{elem:?} {what} rows {batch:?} direct {direct}");
                    }
                }
            }
        }
    };
    check(&file, false);
    drop(file);
    check(&hdf5::File::open(&path).unwrap(), true);
}

#[test]
fn floats_and_complex_read_bit_for_bit_like_the_library() {
    check_type::<f32, f32>(ElementType::Float32);
    check_type::<f64, f64>(ElementType::Float64);
    check_type::<Complex32, Complex32>(ElementType::Complex64);
    check_type::<Complex64, Complex64>(ElementType::Complex128);
}

/// float16 (h5py writes numpy's, pyUSID accepts it) decodes as f64 bit for bit as HDF5 converts
/// it, infinities and subnormals included; a NaN stays a NaN of the same sign (HDF5 1.10's
/// software conversion writes one NaN for all, 1.14's hardware one keeps the payload).
#[test]
fn float16_reads_as_f64_bit_for_bit_like_the_library() {
    fn key(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| if x.is_nan() { f64::NAN.copysign(*x).to_bits() } else { x.to_bits() }).collect()
    }
    check_type_by::<half::f16, f64>(ElementType::Float16, key);
}

#[test]
fn integers_read_as_f64_bit_for_bit_like_the_library() {
    check_type::<i8, f64>(ElementType::Int8);
    check_type::<i16, f64>(ElementType::Int16);
    check_type::<i32, f64>(ElementType::Int32);
    check_type::<i64, f64>(ElementType::Int64);
    check_type::<u8, f64>(ElementType::UInt8);
    check_type::<u16, f64>(ElementType::UInt16);
    check_type::<u32, f64>(ElementType::UInt32);
    check_type::<u64, f64>(ElementType::UInt64);
}

#[test]
fn large_64_bit_integers_round_like_hdf5() {
    // Values that f64 cannot hold exactly, around the points where rounding changes.
    let vals: Vec<u64> = vec![u64::MAX, u64::MAX - 1, (1 << 63) + 1, (1 << 53) + 1, (1 << 54) + 3, 12345];
    let dir = tempfile::tempdir().unwrap();
    let file = hdf5::File::create(dir.path().join("t.h5")).unwrap();
    let u = Array2::from_shape_vec((2, 3), vals.clone()).unwrap();
    let i = u.mapv(|v| v as i64);
    let du = create(&file, "u", &u, (1, 2), Pipeline::ShuffleGzip);
    let di = create(&file, "i", &i, (1, 2), Pipeline::ShuffleGzip);
    let pool = pool(2);
    for (ds, elem) in [(du, ElementType::UInt64), (di, ElementType::Int64)] {
        let reader = ChunkedRows::open(&ds, elem).unwrap();
        let rows = [0..2];
        let fast: Vec<f64> = reader.read(&rows, &pool).unwrap();
        assert_eq!(bits(&fast), bits(&library::<f64>(&ds, &rows)), "{elem:?}");
    }
}

#[test]
fn consecutive_batches_fetch_every_chunk_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = hdf5::File::create(dir.path().join("t.h5")).unwrap();
    let values = data::<f32>(50, 12, 9);
    let ds = create(&file, "d", &values, (8, 5), Pipeline::ShuffleGzip);
    let reader = ChunkedRows::open(&ds, ElementType::Float32).unwrap();
    let pool = pool(2);
    // Batches of 3 rows: most chunk-rows straddle two or three batches.
    for a in (0..50).step_by(3) {
        let _: Vec<f32> = reader.read(&[a..(a + 3).min(50)], &pool).unwrap();
    }
    // 7 chunk-rows × 3 column chunks.
    assert_eq!(reader.chunks_fetched(), 21);
}

#[test]
fn chunks_never_written_come_from_the_library_with_the_fill_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = hdf5::File::create(dir.path().join("t.h5")).unwrap();
    let ds = file
        .new_dataset::<f32>()
        .shape((30, 6))
        .chunk((4, 3))
        .shuffle()
        .deflate(4)
        .fill_value(-7.5f32)
        .create("partial")
        .unwrap();
    ds.write_slice(&data::<f32>(5, 6, 3), ndarray::s![8..13, ..]).unwrap();
    let reader = ChunkedRows::open(&ds, ElementType::Float32).unwrap();
    let pool = pool(2);
    for rows in [vec![0..30], vec![6..14], vec![0..3, 9..11, 20..30]] {
        let fast: Vec<f32> = reader.read(&rows, &pool).unwrap();
        assert_eq!(bits(&fast), bits(&library::<f32>(&ds, &rows)), "rows {rows:?}");
    }
    let all: Vec<f32> = reader.read(&[0..30], &pool).unwrap();
    assert_eq!(all[0], -7.5);
    // Read-only, whose first chunk was never written: no direct reads, the same values.
    drop((reader, ds, file));
    let file = hdf5::File::open(dir.path().join("t.h5")).unwrap();
    let ds = file.dataset("partial").unwrap();
    let reader = ChunkedRows::open(&ds, ElementType::Float32).unwrap();
    assert!(reader.direct.is_none());
    let again: Vec<f32> = reader.read(&[0..30], &pool).unwrap();
    assert_eq!(bits(&again), bits(&all));
}

#[test]
fn datasets_the_library_must_read_get_no_fast_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = hdf5::File::create(dir.path().join("t.h5")).unwrap();
    let values = data::<f32>(10, 4, 1);
    let plain = file.new_dataset_builder().with_data(&values).create("plain").unwrap();
    let unfiltered =
        file.new_dataset_builder().with_data(&values).chunk((2, 2)).create("unfiltered").unwrap();
    let checksummed = file
        .new_dataset_builder()
        .with_data(&values)
        .chunk((2, 2))
        .shuffle()
        .deflate(4)
        .fletcher32()
        .create("checksummed")
        .unwrap();
    let edges_raw = file
        .new_dataset_builder()
        .with_data(&values)
        .chunk((3, 3))
        .deflate(4)
        .chunk_opts(hdf5::dataset::ChunkOpts::DONT_FILTER_PARTIAL_CHUNKS)
        .create("edges_raw")
        .unwrap();
    for ds in [&plain, &unfiltered, &checksummed, &edges_raw] {
        assert!(ChunkedRows::open(ds, ElementType::Float32).is_none(), "{}", ds.name());
    }
    // Stored as f32 but declared as another type: the stored bytes are not that type's.
    let gz = create(&file, "gz", &values, (2, 2), Pipeline::Gzip);
    assert!(ChunkedRows::open(&gz, ElementType::Float64).is_none());
    assert!(ChunkedRows::open(&gz, ElementType::Float32).is_some());
}

#[test]
fn asking_for_the_wrong_type_or_rows_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = hdf5::File::create(dir.path().join("t.h5")).unwrap();
    let ds = create(&file, "d", &data::<f32>(10, 4, 1), (2, 2), Pipeline::Gzip);
    let reader = ChunkedRows::open(&ds, ElementType::Float32).unwrap();
    let pool = pool(1);
    assert!(reader.read::<f64>(&[0..2], &pool).is_err());
    let e = reader.read::<f32>(&[8..11], &pool).unwrap_err().to_string();
    assert!(e.contains("outside the dataset's 10 rows"), "{e}");
}

#[test]
fn a_corrupt_chunk_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.h5");
    let values = data::<f32>(8, 4, 2);
    {
        let file = hdf5::File::create(&path).unwrap();
        let ds = create(&file, "d", &values, (4, 4), Pipeline::ShuffleGzip);
        // Overwrite the second chunk's stored bytes with a valid zlib header and garbage.
        let junk = [0x78u8, 0x9c, 0xff, 0xff, 0x00, 0x13, 0x37];
        let offset: [hdf5_sys::h5::hsize_t; 2] = [4, 0];
        let rc = hdf5::sync::sync(|| unsafe {
            hdf5_sys::h5d::H5Dwrite_chunk(
                ds.id(),
                hdf5_sys::h5p::H5P_DEFAULT,
                0,
                offset.as_ptr(),
                junk.len(),
                junk.as_ptr().cast(),
            )
        });
        assert!(rc >= 0);
    }
    let file = hdf5::File::open(&path).unwrap();
    let ds = file.dataset("d").unwrap();
    let reader = ChunkedRows::open(&ds, ElementType::Float32).unwrap();
    let first: Vec<f32> = reader.read(&[0..4], &pool(2)).unwrap();
    assert_eq!(bits(&first), bits(&library::<f32>(&ds, &[0..4])));
    let e = reader.read::<f32>(&[2..8], &pool(2)).unwrap_err().to_string();
    assert!(e.contains("chunk at row 4, column 0 is corrupt"), "{e}");
}

#[test]
fn unshuffle_inverts_hdf5s_byte_shuffle() {
    // Three 4-byte elements and two trailing bytes, shuffled the HDF5 way.
    let elements: Vec<u8> = (0..12).collect();
    let mut shuffled = Vec::new();
    for j in 0..4 {
        shuffled.extend((0..3).map(|i| elements[i * 4 + j]));
    }
    shuffled.extend([100, 101]);
    let mut want = elements.clone();
    want.extend([100, 101]);
    assert_eq!(unshuffle(&shuffled, 4), want);
    assert_eq!(unshuffle(&[1, 2, 3], 1), vec![1, 2, 3]);
}

#[test]
fn row_groups_follow_chunk_rows() {
    let g = chunk_row_groups(&[0..3, 5..9, 12..13], 4);
    assert_eq!(g, vec![(0, vec![0..3]), (1, vec![5..8]), (2, vec![8..9]), (3, vec![12..13])]);
    let g = chunk_row_groups(&[1..2, 3..4], 4);
    assert_eq!(g, vec![(0, vec![1..2, 3..4])]);
}
