//! Which rows each rank computes, and in which batches.
//!
//! The rows still to do (all of them, or what a resumed run has left) are laid end to end and cut
//! into `ranks` contiguous, balanced shares; each share is cut into the same number of batches on
//! every rank, so every rank takes part in every per-batch collective (an empty batch is fine).

use std::ops::Range;

/// A set of rows as sorted, disjoint, non-empty ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowSet {
    ranges: Vec<Range<u64>>,
}

impl RowSet {
    /// All rows `0..n` (the tests' shorthand).
    #[cfg(test)]
    #[allow(clippy::single_range_in_vec_init)] // one range of rows, not a vector of numbers
    pub fn all(n: u64) -> Self {
        Self::from_ranges(vec![0..n])
    }
    /// From ranges in any order, overlapping or empty ones allowed.
    pub fn from_ranges(mut ranges: Vec<Range<u64>>) -> Self {
        ranges.retain(|r| r.start < r.end);
        ranges.sort_by_key(|r| r.start);
        let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match out.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => out.push(r),
            }
        }
        RowSet { ranges: out }
    }
    /// The rows where `done[i]` is false.
    pub fn missing(done: &[bool]) -> Self {
        let mut ranges = Vec::new();
        let mut start = None;
        for (i, &d) in done.iter().enumerate() {
            match (d, start) {
                (false, None) => start = Some(i as u64),
                (true, Some(s)) => {
                    ranges.push(s..i as u64);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            ranges.push(s..done.len() as u64);
        }
        RowSet { ranges }
    }
    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }
    /// Number of rows.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    /// The rows at positions `from..to` of this set, counted in order.
    pub fn sub(&self, from: u64, to: u64) -> RowSet {
        let mut out = Vec::new();
        let mut seen = 0u64;
        for r in &self.ranges {
            let len = r.end - r.start;
            let (a, b) = (from.max(seen), to.min(seen + len));
            if a < b {
                out.push(r.start + (a - seen)..r.start + (b - seen));
            }
            seen += len;
            if seen >= to {
                break;
            }
        }
        RowSet { ranges: out }
    }
}

/// Rank `rank`'s share of `n` items cut into `ranks` contiguous parts whose sizes differ by at most
/// one (the first `n % ranks` parts get the extra item).
pub fn share(n: u64, ranks: usize, rank: usize) -> Range<u64> {
    let ranks = ranks.max(1) as u64;
    let rank = rank as u64;
    let base = n / ranks;
    let extra = n % ranks;
    let start = rank * base + rank.min(extra);
    let len = base + u64::from(rank < extra);
    start..start + len
}

/// One rank's work: its rows, cut into batches.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// This rank's batches, in order; all ranks have the same number of batches.
    pub batches: Vec<RowSet>,
    /// Rows per batch at most, from the memory bound.
    pub batch_rows: u64,
    /// Rows every rank together computes in this run.
    pub total_rows: u64,
}

impl Plan {
    /// Plan `todo` over `ranks` ranks for `rank`, with at most `batch_rows` rows per batch.
    pub fn new(todo: &RowSet, ranks: usize, rank: usize, batch_rows: u64) -> Plan {
        let batch_rows = batch_rows.max(1);
        let total = todo.len();
        let mine = share(total, ranks, rank);
        // Every rank must run the same number of batches (one collective each): take the count
        // the largest share needs. Share 0 is the largest.
        let largest = share(total, ranks, 0);
        let n_batches = (largest.end - largest.start).div_ceil(batch_rows).max(1);
        let my_len = mine.end - mine.start;
        let batches = (0..n_batches)
            .map(|b| {
                let part = share(my_len, n_batches as usize, b as usize);
                todo.sub(mine.start + part.start, mine.start + part.end)
            })
            .collect();
        Plan { batches, batch_rows, total_rows: total }
    }
}

/// Rows per batch so that the rows in flight fit in `max_mem_bytes`.
///
/// `bytes_per_row` is what one row costs while in flight (the batch being computed and the next
/// one being read, and the row's results); half the budget is left for the HDF5 chunk cache, per-thread scratch and the
/// results. Batches are also capped at a fraction of a second of work per thread, so a checkpoint
/// is written often and reading the next batch has a computation to hide behind.
pub fn batch_rows_for(max_mem_bytes: u64, bytes_per_row: u64, threads: usize) -> u64 {
    let by_memory = (max_mem_bytes / 2) / bytes_per_row.max(1);
    let by_time = 4096 * threads.max(1) as u64;
    by_memory.min(by_time).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_contiguous_balanced_and_cover_everything() {
        for n in [0u64, 1, 2, 7, 100, 16384] {
            for ranks in 1..=9 {
                let mut next = 0;
                for r in 0..ranks {
                    let s = share(n, ranks, r);
                    assert_eq!(s.start, next);
                    let len = s.end - s.start;
                    assert!(len == n / ranks as u64 || len == n / ranks as u64 + 1);
                    next = s.end;
                }
                assert_eq!(next, n);
            }
        }
    }

    #[test]
    fn more_ranks_than_rows_leaves_some_ranks_empty_but_same_batch_count() {
        let todo = RowSet::all(3);
        let plans: Vec<Plan> = (0..5).map(|r| Plan::new(&todo, 5, r, 10)).collect();
        let n = plans[0].batches.len();
        assert!(plans.iter().all(|p| p.batches.len() == n));
        let covered: u64 = plans.iter().flat_map(|p| &p.batches).map(|b| b.len()).sum();
        assert_eq!(covered, 3);
        assert!(plans[4].batches.iter().all(|b| b.is_empty()));
    }

    #[test]
    fn plan_covers_a_fragmented_todo_exactly_once() {
        let done: Vec<bool> = (0..1000).map(|i| (i / 37) % 3 == 0).collect();
        let todo = RowSet::missing(&done);
        let mut seen = vec![0u8; 1000];
        for rank in 0..3 {
            let plan = Plan::new(&todo, 3, rank, 64);
            for b in &plan.batches {
                assert!(b.len() <= 64);
                for r in b.ranges() {
                    for i in r.clone() {
                        seen[i as usize] += 1;
                    }
                }
            }
        }
        for (i, &d) in done.iter().enumerate() {
            assert_eq!(seen[i], u8::from(!d), "row {i}");
        }
    }

    #[test]
    fn rowset_merges_overlaps_and_drops_empty_ranges() {
        let s = RowSet::from_ranges(vec![5..9, 0..2, 1..3, 7..7, 9..10]);
        assert_eq!(s.ranges(), &[0..3, 5..10]);
        assert_eq!(s.len(), 8);
        assert_eq!(s.sub(2, 5).ranges(), &[2..3, 5..7]);
    }

    #[test]
    fn batch_rows_respect_memory_bound() {
        assert_eq!(batch_rows_for(1 << 20, 1 << 10, 1), 512);
        assert_eq!(batch_rows_for(1 << 40, 100, 2), 8192);
        assert_eq!(batch_rows_for(10, 1000, 1), 1);
    }
}
