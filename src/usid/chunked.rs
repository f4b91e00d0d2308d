//! Rows of a compressed, chunked main dataset, decompressed on the caller's threads.
//!
//! HDF5 runs a dataset's filter pipeline (inflate, unshuffle) inside `H5Dread`, on the one thread
//! that calls it — HDF5 is not thread-safe, and MPI is initialised FUNNELED — so a gzip-chunked
//! map is read at one core's inflate speed whatever the thread count. [`ChunkedRows`] splits the
//! work: the calling thread only looks each chunk up in HDF5's index, and the rayon pool reads
//! its stored bytes, undoes the filters and copies the wanted rows out. The pool reads a chunk by
//! its file address where that is what HDF5 would do (a file open read-only, no user block);
//! otherwise the calling thread fetches it with HDF5's direct chunk read (`H5Dread_chunk`).
//!
//! Only what can be undone exactly takes this path: pipelines made of deflate and shuffle, on a
//! 2-D dataset whose stored element type is bit for bit the in-memory one (native byte order, the
//! complex compound laid out as `{r, i}`). For anything else [`ChunkedRows::open`] says `None`
//! and the caller reads through the library as before. Results are the library's, bit for bit:
//! the same bytes come out of the filters, and integers become `f64` by the same rounding cast
//! HDF5's hard conversion uses.
//!
//! Needs HDF5 1.10.5 or newer (`H5Dread_chunk`, `H5Dget_chunk_info_by_coord`); HDF5 2.x's
//! `H5Dread_chunk` takes the buffer's size too (`direct_read`, chosen by build.rs).
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use hdf5::filters::Filter;
use hdf5::{Dataset, H5Type};
use hdf5_sys::h5::{haddr_t, hsize_t, HADDR_UNDEF};
use hdf5_sys::h5d::{H5Dget_chunk_info_by_coord, H5Dread_chunk};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::H5P_DEFAULT;
use num_complex::{Complex32, Complex64};

use super::reader::ReadError;
use super::{ElementType, UsidError};
use crate::error::one_line;

#[cfg(test)]
mod tests;

/// One stage of the filter pipeline this reader undoes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Deflate,
    Shuffle,
}

/// The decoded chunks of one chunk-row (all its column chunks), as the stored element bytes.
struct DecodedRow {
    /// The chunk-row: rows `index * chunk_rows ..` of the dataset.
    index: u64,
    chunks: Vec<Vec<u8>>,
}

/// A chunked, deflate/shuffle-filtered 2-D dataset read row-wise with decompression on a rayon
/// pool. Made once per run by [`ChunkedRows::open`]; every [`ChunkedRows::read`] is called from
/// the one thread that talks to HDF5.
pub(super) struct ChunkedRows {
    dataset: Dataset,
    n_rows: u64,
    n_cols: usize,
    chunk_rows: u64,
    chunk_cols: usize,
    elem: ElementType,
    elem_size: usize,
    /// The filters in the order the writer applied them.
    pipeline: Vec<Stage>,
    /// The last chunk-row decoded by the previous read, when that read ended inside it: the next
    /// batch starts there, so the chunk is neither fetched nor inflated twice.
    kept: Mutex<Option<DecodedRow>>,
    /// Chunks fetched from the file so far.
    fetched: AtomicU64,
    /// Read chunk bytes on the pool rather than through HDF5 on the calling thread.
    direct: Option<DirectFile>,
}

impl ChunkedRows {
    /// The fast reader for `dataset` (2-D, element type `elem` as validated by
    /// [`super::MainDataset::open`]), or `None` when the library's own path must read it: not
    /// chunked, no filters, a filter other than deflate and shuffle, partial edge chunks stored
    /// unfiltered, or a stored type that differs from the in-memory one (e.g. big-endian).
    pub(super) fn open(dataset: &Dataset, elem: ElementType) -> Option<ChunkedRows> {
        let shape = dataset.shape();
        let chunk = dataset.chunk()?;
        if shape.len() != 2 || chunk.len() != 2 || chunk.contains(&0) {
            return None;
        }
        let dcpl = dataset.dcpl().ok()?;
        // H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS stores edge chunks unfiltered without saying so
        // in the chunk's filter mask: leave such files to the library.
        if dcpl.chunk_opts().is_some_and(|o| !o.is_empty()) {
            return None;
        }
        let pipeline: Option<Vec<Stage>> = dcpl
            .filters()
            .iter()
            .map(|f| match f {
                Filter::Deflate(_) => Some(Stage::Deflate),
                Filter::Shuffle => Some(Stage::Shuffle),
                _ => None,
            })
            .collect();
        let pipeline = pipeline?;
        if pipeline.is_empty() {
            // Unfiltered chunks cost the library nothing to decode.
            return None;
        }
        let stored = dataset.dtype().ok()?;
        if stored != elem.memory_type().ok()? || stored.size() != elem.stored_bytes() {
            return None;
        }
        Some(ChunkedRows {
            dataset: dataset.clone(),
            n_rows: shape[0] as u64,
            n_cols: shape[1],
            chunk_rows: chunk[0] as u64,
            chunk_cols: chunk[1],
            elem,
            elem_size: elem.stored_bytes(),
            pipeline,
            kept: Mutex::new(None),
            fetched: AtomicU64::new(0),
            direct: DirectFile::open(dataset),
        })
    }

    /// The chunk shape (rows, columns).
    pub(super) fn chunk_shape(&self) -> (u64, usize) {
        (self.chunk_rows, self.chunk_cols)
    }

    /// How many chunks this reader has fetched from the file (each chunk once per pass when the
    /// rows are read in order).
    #[cfg(test)]
    fn chunks_fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// Bytes of one decoded chunk: a chunk is stored whole even where it overhangs the dataset.
    fn chunk_bytes(&self) -> usize {
        self.chunk_rows as usize * self.chunk_cols * self.elem_size
    }

    fn n_chunk_cols(&self) -> usize {
        self.n_cols.div_ceil(self.chunk_cols)
    }

    /// The rows `rows` (sorted, disjoint ranges, as a batch's `RowSet` holds them) one after the
    /// other, `n_cols` values each, as `T` — what the library's hyperslab read with hard
    /// conversion gives. Chunks are looked up on this thread and read and decoded on `pool`; a chunk-row
    /// shared by two ranges, or by this call's end and the next call's start, is decoded once.
    /// Chunks never written (a partly written file) are read through the library, which knows
    /// the fill value.
    pub(super) fn read<T: RowValue>(
        &self,
        rows: &[Range<u64>],
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<T>, ReadError> {
        self.check_request::<T>(rows)?;
        let groups = chunk_row_groups(rows, self.chunk_rows);
        let n_out: u64 = rows.iter().map(|r| r.end - r.start).sum();
        // Filled by the tasks without being zeroed first: zeroing a batch on this thread would
        // cost as much as fetching its chunks. Every element is written once; `written` checks it.
        let total = n_out as usize * self.n_cols;
        let mut out: Vec<T> = Vec::with_capacity(total);
        let written = AtomicUsize::new(0);
        // Keep the last chunk-row for the next call when this call stops inside it.
        let keep_index = groups.last().and_then(|(k, segs)| {
            let end = segs.last().map_or(0, |s| s.end);
            (end < ((k + 1) * self.chunk_rows).min(self.n_rows)).then_some(*k)
        });
        let mut kept_before = self.lock_kept().take();
        let failure: Mutex<Option<UsidError>> = Mutex::new(None);
        let kept_after: Mutex<Option<DecodedRow>> = Mutex::new(None);

        let mut rest = &mut out.spare_capacity_mut()[..total];
        pool.in_place_scope(|scope| {
            for (k, segs) in groups {
                let len: u64 = segs.iter().map(|s| s.end - s.start).sum();
                let (dst, tail) = std::mem::take(&mut rest).split_at_mut(len as usize * self.n_cols);
                rest = tail;
                let source = match kept_before.take() {
                    Some(d) if d.index == k => Source::Decoded(d.chunks),
                    _ => match self.fetch_row(k) {
                        Ok(Some(stored)) => Source::Stored(stored),
                        Ok(None) => {
                            // A chunk never written: the library fills it in.
                            match self.read_through_library(&segs, dst) {
                                Ok(n) => written.fetch_add(n, Ordering::Relaxed),
                                Err(e) => return set_first(&failure, e),
                            };
                            continue;
                        }
                        Err(e) => {
                            set_first(&failure, e);
                            return;
                        }
                    },
                };
                let keep = keep_index == Some(k);
                let (failure, kept_after, written) = (&failure, &kept_after, &written);
                scope.spawn(move |_| {
                    let chunks = match source {
                        Source::Decoded(chunks) => chunks,
                        Source::Stored(stored) => match self.decode_row(k, stored) {
                            Ok(c) => c,
                            Err(e) => return set_first(failure, e),
                        },
                    };
                    written.fetch_add(self.copy_rows(k, &segs, &chunks, dst), Ordering::Relaxed);
                    if keep {
                        *lock(kept_after) = Some(DecodedRow { index: k, chunks });
                    }
                });
            }
        });
        if let Some(e) = lock(&failure).take() {
            return Err(e.into());
        }
        if written.load(Ordering::Relaxed) != total {
            return Err(ReadError::internal(format!(
                "{}: {} of {total} values read",
                self.dataset.name(),
                written.load(Ordering::Relaxed)
            )));
        }
        // SAFETY: the tasks wrote disjoint parts of the first `total` elements of the spare
        // capacity (split_at_mut), each element once, `total` writes in all.
        unsafe { out.set_len(total) };
        *self.lock_kept() = lock(&kept_after).take();
        Ok(out)
    }

    /// A read of `rows` as `T` is one this reader can answer: anything else is a bug of the caller.
    fn check_request<T: RowValue>(&self, rows: &[Range<u64>]) -> Result<(), ReadError> {
        if !T::reads(self.elem) {
            return Err(ReadError::internal(format!(
                "{}: {} elements asked for as another type",
                self.dataset.name(),
                self.elem.name()
            )));
        }
        match rows.iter().find(|r| r.start > r.end || r.end > self.n_rows) {
            Some(r) => Err(ReadError::internal(format!(
                "{}: rows {}..{} are outside the dataset's {} rows",
                self.dataset.name(),
                r.start,
                r.end,
                self.n_rows
            ))),
            None => Ok(()),
        }
    }

    fn lock_kept(&self) -> std::sync::MutexGuard<'_, Option<DecodedRow>> {
        lock(&self.kept)
    }

    /// The stored bytes and filter masks of every column chunk of chunk-row `k`, or `None` when
    /// one of them was never written.
    fn fetch_row(&self, k: u64) -> Result<Option<Vec<StoredChunk>>, UsidError> {
        let mut row = Vec::with_capacity(self.n_chunk_cols());
        for j in 0..self.n_chunk_cols() {
            let offset = [k * self.chunk_rows, (j * self.chunk_cols) as u64];
            let Some(at) = locate_chunk(&self.dataset, offset)? else {
                return Ok(None);
            };
            let limit = self.stored_limit();
            if at.size > limit {
                return Err(UsidError(format!(
                    "{}: chunk at row {}, column {} is corrupt ({} bytes stored, at most {limit} expected)",
                    self.dataset.name(),
                    offset[0],
                    offset[1],
                    at.size
                )));
            }
            let bytes = match &self.direct {
                Some(_) => ChunkBytes::At(at),
                None => ChunkBytes::Read(read_chunk(&self.dataset, offset, at)?),
            };
            self.fetched.fetch_add(1, Ordering::Relaxed);
            row.push(StoredChunk { mask: at.mask, bytes });
        }
        Ok(Some(row))
    }

    /// The most bytes a stored chunk may take: deflate can grow incompressible data by a few
    /// bytes per 16 KiB block. A larger size in the file is corruption, refused before allocating.
    fn stored_limit(&self) -> usize {
        let raw = self.chunk_bytes();
        raw + raw / 256 + 1024
    }

    /// Undo the filters of every column chunk of chunk-row `k` (on a pool thread).
    fn decode_row(&self, k: u64, stored: Vec<StoredChunk>) -> Result<Vec<Vec<u8>>, UsidError> {
        let mut inflater = libdeflater::Decompressor::new();
        stored
            .into_iter()
            .enumerate()
            .map(|(j, chunk)| {
                let offset = [k * self.chunk_rows, (j * self.chunk_cols) as u64];
                let bytes = match (chunk.bytes, &self.direct) {
                    (ChunkBytes::Read(bytes), _) => bytes,
                    (ChunkBytes::At(at), Some(direct)) => direct.read(at).map_err(|e| {
                        let UsidError(m) = chunk_error(&self.dataset, offset, "read");
                        UsidError(format!("{m} ({})", one_line(e)))
                    })?,
                    (ChunkBytes::At(_), None) => return Err(chunk_error(&self.dataset, offset, "read")),
                };
                self.decode_chunk(&mut inflater, chunk.mask, bytes).map_err(|why| {
                    UsidError(format!(
                        "{}: chunk at row {}, column {} is corrupt ({why})",
                        self.dataset.name(),
                        offset[0],
                        offset[1]
                    ))
                })
            })
            .collect()
    }

    /// One chunk's element bytes from its stored bytes: the pipeline's stages undone last to
    /// first, skipping those the chunk's filter mask says were not applied.
    fn decode_chunk(
        &self,
        inflater: &mut libdeflater::Decompressor,
        mask: u32,
        mut data: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        let want = self.chunk_bytes();
        for (i, stage) in self.pipeline.iter().enumerate().rev() {
            if i < 32 && mask & (1 << i) != 0 {
                continue;
            }
            data = match stage {
                Stage::Deflate => {
                    let mut out = vec![0u8; want];
                    let n = inflater.zlib_decompress(&data, &mut out).map_err(|e| match e {
                        libdeflater::DecompressionError::InsufficientSpace => {
                            format!("it inflates to more than a chunk's {want} bytes")
                        }
                        _ => "not valid zlib data".to_string(),
                    })?;
                    out.truncate(n);
                    out
                }
                Stage::Shuffle => unshuffle(&data, self.elem_size),
            };
        }
        if data.len() != want {
            return Err(format!("{} bytes decoded, a chunk holds {want}", data.len()));
        }
        Ok(data)
    }

    /// Copy the rows `segs` of chunk-row `k` from its decoded chunks into `dst` (one after the
    /// other, `n_cols` values each); returns the values written.
    fn copy_rows<T: RowValue>(
        &self,
        k: u64,
        segs: &[Range<u64>],
        chunks: &[Vec<u8>],
        dst: &mut [MaybeUninit<T>],
    ) -> usize {
        let mut written = 0;
        let first = k * self.chunk_rows;
        let rows = segs.iter().flat_map(|s| s.clone());
        for (r, out) in rows.zip(dst.chunks_exact_mut(self.n_cols)) {
            let in_chunk = (r - first) as usize;
            for (j, chunk) in chunks.iter().enumerate() {
                let col = j * self.chunk_cols;
                let width = self.chunk_cols.min(self.n_cols - col);
                let at = in_chunk * self.chunk_cols * self.elem_size;
                let bytes = &chunk[at..at + width * self.elem_size];
                T::convert(self.elem, bytes, &mut out[col..col + width]);
                written += width;
            }
        }
        written
    }

    /// The rows `segs` through the library's own read (hyperslab, hard conversion) into `dst`;
    /// returns the values written.
    fn read_through_library<T: RowValue>(
        &self,
        segs: &[Range<u64>],
        dst: &mut [MaybeUninit<T>],
    ) -> Result<usize, UsidError> {
        let mut slots = dst.iter_mut();
        let mut written = 0;
        let mut part: Vec<T> = Vec::new();
        for s in segs {
            part.clear();
            super::reader::read_rows_into(&self.dataset, s.start as usize..s.end as usize, &mut part)?;
            for (slot, v) in slots.by_ref().zip(&part) {
                slot.write(*v);
                written += 1;
            }
        }
        Ok(written)
    }
}

/// A chunk as the file stores it: its filter mask (bit `i` set: stage `i` was not applied) and
/// its bytes, read already or still to read from [`DirectFile`].
struct StoredChunk {
    mask: u32,
    bytes: ChunkBytes,
}

enum ChunkBytes {
    Read(Vec<u8>),
    At(Location),
}

/// Where a chunk-row's element bytes come from.
enum Source {
    /// Kept, decoded, from the previous read.
    Decoded(Vec<Vec<u8>>),
    /// Fetched from the file, still filtered: (filter mask, bytes) per column chunk.
    Stored(Vec<StoredChunk>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Record `e` unless an earlier failure was recorded.
fn set_first(slot: &Mutex<Option<UsidError>>, e: UsidError) {
    lock(slot).get_or_insert(e);
}

/// The chunk-rows `rows` touch, each with the parts of `rows` inside it, in row order.
#[allow(clippy::single_range_in_vec_init)] // a list of row ranges that starts with one
fn chunk_row_groups(rows: &[Range<u64>], chunk_rows: u64) -> Vec<(u64, Vec<Range<u64>>)> {
    let mut groups: Vec<(u64, Vec<Range<u64>>)> = Vec::new();
    for r in rows {
        let mut a = r.start;
        while a < r.end {
            let k = a / chunk_rows;
            let b = r.end.min((k + 1) * chunk_rows);
            match groups.last_mut() {
                Some((last, segs)) if *last == k => segs.push(a..b),
                _ => groups.push((k, vec![a..b])),
            }
            a = b;
        }
    }
    groups
}

/// Where the file stores a chunk: its filter mask, file address and stored size.
#[derive(Debug, Clone, Copy)]
struct Location {
    mask: u32,
    addr: u64,
    size: usize,
}

/// The message for a chunk that cannot be located or read.
fn chunk_error(ds: &Dataset, offset: [u64; 2], what: &str) -> UsidError {
    UsidError(format!("{}: cannot {what} the chunk at row {}, column {}", ds.name(), offset[0], offset[1]))
}

/// Where the chunk whose first element is at `offset` is stored, or `None` when it was never
/// written. Runs under the HDF5 crate's lock, like every HDF5 call.
fn locate_chunk(ds: &Dataset, offset: [u64; 2]) -> Result<Option<Location>, UsidError> {
    let coords: [hsize_t; 2] = [offset[0] as hsize_t, offset[1] as hsize_t];
    let (mut mask, mut addr, mut size): (std::os::raw::c_uint, haddr_t, hsize_t) = (0, 0, 0);
    // SAFETY: the dataset handle is open for the call (`ds` is borrowed); `coords` has one entry
    // per dimension of the 2-D dataset; the out-parameters are valid locals.
    let found = hdf5::sync::sync(|| unsafe {
        H5Dget_chunk_info_by_coord(ds.id(), coords.as_ptr(), &mut mask, &mut addr, &mut size)
    });
    if found < 0 {
        return Err(chunk_error(ds, offset, "locate"));
    }
    if addr == HADDR_UNDEF {
        return Ok(None);
    }
    Ok(Some(Location { mask, addr, size: usize::try_from(size).unwrap_or(usize::MAX) }))
}

/// The stored bytes of the chunk at `offset` (located at `at`) through HDF5's direct chunk read.
fn read_chunk(ds: &Dataset, offset: [u64; 2], at: Location) -> Result<Vec<u8>, UsidError> {
    let coords: [hsize_t; 2] = [offset[0] as hsize_t, offset[1] as hsize_t];
    // Not zeroed first: on the one thread that reads, that would cost as much as the read.
    let mut buf: Vec<u8> = Vec::with_capacity(at.size);
    let mut mask: u32 = 0;
    // SAFETY: as in `locate_chunk`; `buf` has room for `at.size` bytes, the chunk's stored size.
    let read =
        hdf5::sync::sync(|| unsafe { direct_read(ds.id(), &coords, &mut mask, buf.as_mut_ptr(), at.size) });
    if read != Some(at.size) {
        return Err(chunk_error(ds, offset, "read"));
    }
    // SAFETY: the successful read filled the chunk's `at.size` stored bytes.
    unsafe { buf.set_len(at.size) };
    Ok(buf)
}

/// HDF5's direct chunk read of the chunk at `coords` into `room` bytes at `buf`: the bytes read,
/// or `None` when HDF5 fails. HDF5 1.x's `H5Dread_chunk` writes the chunk's stored size unchecked
/// (the caller's `room`, from the chunk index, is that size); HDF5 2.x's (`H5Dread_chunk2`) takes
/// the buffer's size and says the chunk's, and reads nothing into a buffer too small.
///
/// # Safety
/// `id` is an open dataset of rank 2 and `buf` is valid for `room` bytes of writes.
unsafe fn direct_read(
    id: hid_t,
    coords: &[hsize_t; 2],
    mask: &mut u32,
    buf: *mut u8,
    room: usize,
) -> Option<usize> {
    #[cfg(hdf5_2)]
    let (rc, size) = {
        let mut size = room;
        // SAFETY: the caller's contract; HDF5 writes at most `size` bytes.
        (unsafe { H5Dread_chunk(id, H5P_DEFAULT, coords.as_ptr(), mask, buf.cast(), &mut size) }, size)
    };
    // SAFETY: the caller's contract.
    #[cfg(not(hdf5_2))]
    let (rc, size) = (unsafe { H5Dread_chunk(id, H5P_DEFAULT, coords.as_ptr(), mask, buf.cast()) }, room);
    (rc >= 0 && size <= room).then_some(size)
}

/// Chunk bytes straight from the file by their HDF5 address, on any thread: for a file this
/// process only reads, HDF5's direct chunk read is a `pread` at that address, and doing it on the
/// pool keeps the one HDF5 thread to index look-ups.
struct DirectFile {
    file: std::fs::File,
}

impl DirectFile {
    /// The direct reader for `ds`'s file, or `None` where its bytes are not simply at their HDF5
    /// address in one file: opened for writing (dirty chunks live in HDF5's cache), a user block
    /// (addresses are relative to the superblock), or a first chunk that reads differently.
    fn open(ds: &Dataset) -> Option<DirectFile> {
        let h5 = ds.file().ok()?;
        if !h5.is_read_only() || h5.userblock() != 0 {
            return None;
        }
        let direct = DirectFile { file: std::fs::File::open(ds.filename()).ok()? };
        let first = locate_chunk(ds, [0, 0]).ok()??;
        let same = read_chunk(ds, [0, 0], first).ok()? == direct.read(first).ok()?;
        same.then_some(direct)
    }

    fn read(&self, at: Location) -> std::io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; at.size];
        self.file.read_exact_at(&mut buf, at.addr)?;
        Ok(buf)
    }
}

/// HDF5's shuffle filter undone: the stored bytes are every element's byte 0, then every
/// element's byte 1, …; trailing bytes that make no whole element are stored as they are.
fn unshuffle(data: &[u8], size: usize) -> Vec<u8> {
    let n = data.len() / size.max(1);
    if size <= 1 || n <= 1 {
        return data.to_vec();
    }
    let mut out = vec![0u8; data.len()];
    // The element sizes of the types read here get a loop the compiler unrolls.
    match size {
        2 => unshuffle_fixed::<2>(data, n, &mut out),
        4 => unshuffle_fixed::<4>(data, n, &mut out),
        8 => unshuffle_fixed::<8>(data, n, &mut out),
        16 => unshuffle_fixed::<16>(data, n, &mut out),
        _ => {
            for (i, element) in out.chunks_exact_mut(size).enumerate() {
                for (j, byte) in element.iter_mut().enumerate() {
                    *byte = data[j * n + i];
                }
            }
        }
    }
    out[n * size..].copy_from_slice(&data[n * size..]);
    out
}

/// [`unshuffle`] of `n` elements of `N` bytes.
fn unshuffle_fixed<const N: usize>(data: &[u8], n: usize, out: &mut [u8]) {
    let planes: [&[u8]; N] = std::array::from_fn(|j| &data[j * n..(j + 1) * n]);
    for (i, element) in out[..n * N].chunks_exact_mut(N).enumerate() {
        for (byte, plane) in element.iter_mut().zip(&planes) {
            *byte = plane[i];
        }
    }
}

/// A type the engine reads rows as, filled from the stored element bytes.
pub(super) trait RowValue: H5Type + Copy + Default + Send + Sync {
    /// Whether elements of `t` are read as this type (floats and complex as themselves, integers
    /// as `f64`).
    fn reads(t: ElementType) -> bool;
    /// Fill `out` from `bytes`, elements of `t` in native byte order (`reads(t)` holds).
    fn convert(t: ElementType, bytes: &[u8], out: &mut [MaybeUninit<Self>]);
}

/// `out[i] = f(element i of bytes)`, elements of `N` bytes.
fn decode<const N: usize, O>(bytes: &[u8], out: &mut [MaybeUninit<O>], f: impl Fn([u8; N]) -> O) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(N)) {
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        o.write(f(a));
    }
}

/// The two halves of an element of `2 N` bytes.
fn halves<const N: usize, const M: usize>(b: [u8; M]) -> ([u8; N], [u8; N]) {
    let (mut r, mut i) = ([0u8; N], [0u8; N]);
    r.copy_from_slice(&b[..N]);
    i.copy_from_slice(&b[N..]);
    (r, i)
}

impl RowValue for f32 {
    fn reads(t: ElementType) -> bool {
        t == ElementType::Float32
    }
    fn convert(_: ElementType, bytes: &[u8], out: &mut [MaybeUninit<f32>]) {
        decode::<4, _>(bytes, out, f32::from_ne_bytes);
    }
}

impl RowValue for f64 {
    fn reads(t: ElementType) -> bool {
        !matches!(t, ElementType::Float32 | ElementType::Complex64 | ElementType::Complex128)
    }
    /// Integers by Rust's `as f64`, round to nearest like the C cast of HDF5's hard conversion.
    fn convert(t: ElementType, bytes: &[u8], out: &mut [MaybeUninit<f64>]) {
        use ElementType::*;
        match t {
            Int8 => decode::<1, _>(bytes, out, |b| i8::from_ne_bytes(b) as f64),
            Int16 => decode::<2, _>(bytes, out, |b| i16::from_ne_bytes(b) as f64),
            Int32 => decode::<4, _>(bytes, out, |b| i32::from_ne_bytes(b) as f64),
            Int64 => decode::<8, _>(bytes, out, |b| i64::from_ne_bytes(b) as f64),
            UInt8 => decode::<1, _>(bytes, out, |b| u8::from_ne_bytes(b) as f64),
            UInt16 => decode::<2, _>(bytes, out, |b| u16::from_ne_bytes(b) as f64),
            UInt32 => decode::<4, _>(bytes, out, |b| u32::from_ne_bytes(b) as f64),
            UInt64 => decode::<8, _>(bytes, out, |b| u64::from_ne_bytes(b) as f64),
            // Exactly; a NaN keeps its sign, its payload as the CPU converts it (HDF5's own
            // conversion, hardware or software by version, may write another NaN).
            Float16 => decode::<2, _>(bytes, out, |b| half::f16::from_ne_bytes(b).to_f64()),
            _ => decode::<8, _>(bytes, out, f64::from_ne_bytes),
        }
    }
}

impl RowValue for Complex32 {
    fn reads(t: ElementType) -> bool {
        t == ElementType::Complex64
    }
    fn convert(_: ElementType, bytes: &[u8], out: &mut [MaybeUninit<Complex32>]) {
        decode::<8, _>(bytes, out, |b| {
            let (r, i) = halves::<4, 8>(b);
            Complex32::new(f32::from_ne_bytes(r), f32::from_ne_bytes(i))
        });
    }
}

impl RowValue for Complex64 {
    fn reads(t: ElementType) -> bool {
        t == ElementType::Complex128
    }
    fn convert(_: ElementType, bytes: &[u8], out: &mut [MaybeUninit<Complex64>]) {
        decode::<16, _>(bytes, out, |b| {
            let (r, i) = halves::<8, 16>(b);
            Complex64::new(f64::from_ne_bytes(r), f64::from_ne_bytes(i))
        });
    }
}
