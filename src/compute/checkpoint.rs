//! The checkpoint: an append-only side file of finished batches, so a killed run resumes without
//! redoing them.
//!
//! Why a side file and not the results group itself: HDF5 1.10 has no journal, so a process killed
//! while it changes a file's metadata can leave the whole file unreadable. The user's file is
//! therefore only ever changed by one short final write (see `output.rs`); until then progress
//! lives here, in records that are each framed and checksummed and synced before the next batch
//! starts. A record cut short by a kill fails its checksum and is dropped, with everything after it.
//!
//! Layout: records of `magic "UPCK" | kind u8 | payload length u64 | crc32 u32 | payload`, all
//! little-endian. The first record (kind 0) holds the run's fingerprint (dataset, analysis and
//! parameters); each later record (kind 1) holds one batch: its row ranges, the number of result
//! rows (spectra) and the item count of each, and the items' bytes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::analysis::RowItems;
use super::plan::RowSet;

const MAGIC: &[u8; 4] = b"UPCK";
const KIND_HEADER: u8 = 0;
const KIND_BATCH: u8 = 1;
const FRAME: usize = 4 + 1 + 8 + 4;

/// One finished batch, as read back from a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    pub rows: RowSet,
    pub items: RowItems<T>,
}

impl<T> Batch<T> {
    /// Whether the batch's rows lie within a dataset of `n_rows` rows: a batch from another shape
    /// cannot be trusted (the fingerprint makes it all but impossible), and every reader of the
    /// records skips it alike.
    pub(crate) fn fits(&self, n_rows: u64) -> bool {
        self.rows.ranges().last().is_none_or(|r| r.end <= n_rows)
    }
}

/// An open checkpoint, appending finished batches.
pub struct Checkpoint {
    path: PathBuf,
    file: File,
    last_sync: std::time::Instant,
}

/// How often finished batches are forced to the disk. Every record is written at once, so a
/// killed process loses nothing already appended (the kernel holds it); the sync only bounds what
/// a crash of the whole machine can take, without paying a disk flush for every small batch.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// What a checkpoint file held for this run: which rows it has, not their results (those are
/// read again, record by record, by [`Records`] where they are written), so that resuming a
/// nearly finished run of any size needs memory for one batch only.
pub struct Loaded {
    /// The rows (pixels) of every batch, as recorded.
    pub rows: Vec<std::ops::Range<u64>>,
    /// Bytes of valid records; anything after (a record cut short by a kill) is dropped.
    pub(crate) valid_len: u64,
}

/// The batches of a checkpoint, read one record at a time, up to a length known valid.
pub(crate) struct Records {
    file: std::io::BufReader<File>,
    at: u64,
    limit: u64,
}

impl Records {
    /// The records of the checkpoint at `path` after its header, if it belongs to the run with
    /// `fingerprint`, read no further than `limit` bytes (`u64::MAX`: to the first damaged one).
    pub(crate) fn open(path: &Path, fingerprint: &str, limit: u64) -> std::io::Result<Option<Records>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut records = Records { file: std::io::BufReader::new(file), at: 0, limit };
        match records.next_record()? {
            Some((KIND_HEADER, payload)) if payload == fingerprint.as_bytes() => Ok(Some(records)),
            _ => Ok(None),
        }
    }

    /// The next batch, `None` at the end or at the first record that is damaged or cut short.
    pub(crate) fn next_batch<T: bytemuck::Pod>(&mut self) -> std::io::Result<Option<Batch<T>>> {
        match self.next_record()? {
            Some((KIND_BATCH, payload)) => Ok(decode_batch(&payload)),
            _ => Ok(None),
        }
    }

    /// Bytes of valid records read so far (the header's included).
    pub(crate) fn valid_len(&self) -> u64 {
        self.at
    }

    fn next_record(&mut self) -> std::io::Result<Option<(u8, Vec<u8>)>> {
        let mut head = [0u8; FRAME];
        if self.at.saturating_add(FRAME as u64) > self.limit || !read_all(&mut self.file, &mut head)? {
            return Ok(None);
        }
        if &head[..4] != MAGIC {
            return Ok(None);
        }
        let len = u64::from_le_bytes(head[5..13].try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(head[13..17].try_into().unwrap_or_default());
        let end = self.at.saturating_add(FRAME as u64).saturating_add(len);
        if end > self.limit {
            return Ok(None);
        }
        // A length no record can have (a damaged header) is not allocated: the file must hold it.
        let left = self.file.get_ref().metadata()?.len().saturating_sub(self.at + FRAME as u64);
        if len > left {
            return Ok(None);
        }
        let mut payload = vec![0u8; len as usize];
        if !read_all(&mut self.file, &mut payload)? || crc32fast::hash(&payload) != crc {
            return Ok(None);
        }
        self.at = end;
        Ok(Some((head[4], payload)))
    }
}

/// Fill `buf` from `r`; `false` if the file ends first.
fn read_all(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

impl Checkpoint {
    /// Read which rows the checkpoint at `path` holds, if it belongs to the run with
    /// `fingerprint`, one record at a time.
    ///
    /// A missing file, another run's file, or a damaged header all mean "nothing to resume".
    pub fn load<T: bytemuck::Pod>(
        path: &Path,
        fingerprint: &str,
        n_rows: u64,
    ) -> std::io::Result<Option<Loaded>> {
        let Some(mut records) = Records::open(path, fingerprint, u64::MAX)? else { return Ok(None) };
        let mut rows = Vec::new();
        while let Some(b) = records.next_batch::<T>()? {
            if b.fits(n_rows) {
                rows.extend(b.rows.ranges().iter().cloned());
            }
        }
        Ok(Some(Loaded { rows, valid_len: records.valid_len() }))
    }

    /// Start a new checkpoint for `fingerprint` (replacing any file at `path`), or continue a
    /// loaded one after its last valid record.
    pub fn open(path: &Path, fingerprint: &str, loaded: Option<&Loaded>) -> std::io::Result<Self> {
        let file = match loaded {
            Some(l) => {
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(l.valid_len)?;
                f.sync_data()?;
                let mut f = f;
                use std::io::Seek;
                f.seek(std::io::SeekFrom::End(0))?;
                f
            }
            None => {
                let mut f = File::create(path)?;
                write_record(&mut f, KIND_HEADER, fingerprint.as_bytes())?;
                f.sync_all()?;
                sync_parent(path);
                f
            }
        };
        Ok(Checkpoint { path: path.to_owned(), file, last_sync: std::time::Instant::now() })
    }

    /// Append one finished batch: it survives the process being killed as soon as this returns,
    /// and a crash of the machine once the next periodic sync has run.
    pub fn append<T: bytemuck::Pod>(&mut self, rows: &RowSet, items: &RowItems<T>) -> std::io::Result<()> {
        let payload = encode_batch(rows, items);
        write_record(&mut self.file, KIND_BATCH, &payload)?;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.file.sync_data()?;
            self.last_sync = std::time::Instant::now();
        }
        Ok(())
    }

    /// Delete the checkpoint: the results are safely in the HDF5 file.
    pub fn remove(self) -> std::io::Result<()> {
        drop(self.file);
        std::fs::remove_file(&self.path)
    }
}

fn write_record(f: &mut File, kind: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut rec = Vec::with_capacity(FRAME + payload.len());
    rec.extend_from_slice(MAGIC);
    rec.push(kind);
    rec.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    rec.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    rec.extend_from_slice(payload);
    f.write_all(&rec)
}

pub(crate) fn encode_batch<T: bytemuck::Pod>(rows: &RowSet, items: &RowItems<T>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(rows.ranges().len() as u32).to_le_bytes());
    for r in rows.ranges() {
        out.extend_from_slice(&r.start.to_le_bytes());
        out.extend_from_slice(&r.end.to_le_bytes());
    }
    // The results may hold several spectra per row (pixel), so their number travels too.
    out.extend_from_slice(&(items.counts.len() as u64).to_le_bytes());
    out.extend_from_slice(bytemuck::cast_slice(&items.counts));
    out.extend_from_slice(bytemuck::cast_slice(&items.items));
    out
}

pub(crate) fn decode_batch<T: bytemuck::Pod>(p: &[u8]) -> Option<Batch<T>> {
    let mut r = Reader { p, at: 0 };
    let n_ranges = r.u32()? as usize;
    let mut ranges = Vec::with_capacity(n_ranges.min(p.len() / 16));
    for _ in 0..n_ranges {
        let (a, b) = (r.u64()?, r.u64()?);
        if a >= b {
            return None;
        }
        ranges.push(a..b);
    }
    let rows = RowSet::from_ranges(ranges);
    let n_counts = usize::try_from(r.u64()?).ok()?;
    let counts: Vec<u32> = bytemuck::pod_collect_to_vec(r.take(n_counts.checked_mul(4)?)?);
    let n_items: usize = counts.iter().map(|&c| c as usize).sum();
    let items: Vec<T> = bytemuck::pod_collect_to_vec(r.take(n_items.checked_mul(std::mem::size_of::<T>())?)?);
    if r.at != p.len() {
        return None;
    }
    Some(Batch { rows, items: RowItems { counts, items } })
}

struct Reader<'a> {
    p: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.p.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Make a newly created file's directory entry durable too.
pub(crate) fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // vectors of row ranges
mod tests {
    use super::*;

    fn batches(path: &Path, fingerprint: &str) -> Vec<Batch<u32>> {
        let mut records = Records::open(path, fingerprint, u64::MAX).unwrap().unwrap();
        std::iter::from_fn(|| records.next_batch().unwrap()).collect()
    }

    fn items(rows: &[&[u32]]) -> RowItems<u32> {
        let mut out = RowItems::default();
        for r in rows {
            out.push_row(r);
        }
        out
    }

    #[test]
    fn batches_round_trip_and_belong_to_their_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        let mut ck = Checkpoint::open(&path, "run A", None).unwrap();
        let rows = RowSet::from_ranges(vec![0..2, 5..6]);
        let it = items(&[&[1, 2], &[], &[7]]);
        ck.append(&rows, &it).unwrap();
        drop(ck);
        let loaded = Checkpoint::load::<u32>(&path, "run A", 100).unwrap().unwrap();
        assert_eq!(loaded.rows, rows.ranges().to_vec());
        assert_eq!(batches(&path, "run A"), vec![Batch { rows, items: it }]);
        assert!(Checkpoint::load::<u32>(&path, "run B", 100).unwrap().is_none());
    }

    #[test]
    fn a_record_cut_short_by_a_kill_is_dropped_and_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        let mut ck = Checkpoint::open(&path, "fp", None).unwrap();
        ck.append(&RowSet::all(1), &items(&[&[3]])).unwrap();
        ck.append(&RowSet::from_ranges(vec![1..3]), &items(&[&[4], &[5, 6]])).unwrap();
        drop(ck);
        let full = std::fs::read(&path).unwrap();
        for cut in 1..20 {
            std::fs::write(&path, &full[..full.len() - cut]).unwrap();
            let loaded = Checkpoint::load::<u32>(&path, "fp", 100).unwrap().unwrap();
            assert_eq!(loaded.rows, vec![0..1], "cut {cut}");
            assert_eq!(batches(&path, "fp").len(), 1, "cut {cut}");
            let mut ck = Checkpoint::open(&path, "fp", Some(&loaded)).unwrap();
            ck.append(&RowSet::from_ranges(vec![1..3]), &items(&[&[4], &[5, 6]])).unwrap();
            drop(ck);
            assert_eq!(std::fs::read(&path).unwrap(), full);
        }
    }

    #[test]
    fn flipped_byte_invalidates_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        let mut ck = Checkpoint::open(&path, "fp", None).unwrap();
        ck.append(&RowSet::all(2), &items(&[&[3], &[9]])).unwrap();
        drop(ck);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 2] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let loaded = Checkpoint::load::<u32>(&path, "fp", 100).unwrap().unwrap();
        assert!(loaded.rows.is_empty());
        assert!(batches(&path, "fp").is_empty());
    }
}
