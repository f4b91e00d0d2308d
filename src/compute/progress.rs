//! Progress on rank 0's stderr: a bar with rate and ETA on a terminal, a plain line every few
//! seconds otherwise (logs, batch jobs), nothing when quiet — or counts for the host to show in
//! its own way (the Python module's progress in a notebook).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much to say while running.
#[derive(Debug, Clone)]
pub enum ProgressMode {
    /// Nothing.
    Quiet,
    /// A bar on a terminal, periodic lines otherwise.
    Auto,
    /// Nothing on stderr: the counts go to the counter, which the host reads when it likes.
    Observed(Arc<ProgressCounter>),
}

/// Spectra finished out of the run's total: set by the engine as it goes, read from any thread —
/// by the progress line, or by a host that shows progress itself.
#[derive(Debug, Default)]
pub struct ProgressCounter {
    /// Spectra this rank finished in this run.
    local: AtomicU64,
    /// Spectra all ranks finished in this run, known exactly after each gather.
    global: AtomicU64,
    total: AtomicU64,
    ranks: AtomicU64,
}

impl ProgressCounter {
    /// Spectra finished so far in this run, every rank's: between gathers only this rank's own
    /// count is known; shares are balanced, so rank 0's count times the number of ranks is a
    /// fair estimate. Never more than the total; never less than before (both counts only grow).
    pub fn done(&self) -> u64 {
        let est = self.local.load(Ordering::Relaxed).saturating_mul(self.ranks.load(Ordering::Relaxed));
        est.max(self.global.load(Ordering::Relaxed)).min(self.total())
    }
    /// Spectra this run computes (fewer than the map's when it resumes); 0 until it has started.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// Rows finished so far, shared with the workers; a background thread reports them.
pub(crate) struct Progress {
    counter: Arc<ProgressCounter>,
    /// Whom the job waits for, since when: while set, the line says so instead of an ETA.
    waiting: Arc<Mutex<Option<Waiting>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Start reporting a run of `total` spectra (this run's share of work, all ranks) on `ranks` ranks.
    pub fn start(mode: ProgressMode, total: u64, ranks: usize) -> Progress {
        let counter = match &mode {
            ProgressMode::Observed(counter) => Arc::clone(counter),
            _ => Arc::default(),
        };
        counter.local.store(0, Ordering::Relaxed);
        counter.global.store(0, Ordering::Relaxed);
        counter.ranks.store(ranks as u64, Ordering::Relaxed);
        counter.total.store(total, Ordering::Relaxed);
        let stop = Arc::new(AtomicBool::new(false));
        let waiting = Arc::default();
        let thread = (matches!(mode, ProgressMode::Auto) && total > 0).then(|| {
            let (counter, stop, waiting) = (Arc::clone(&counter), Arc::clone(&stop), Arc::clone(&waiting));
            std::thread::spawn(move || report(&counter, &stop, &waiting))
        });
        Progress { counter, waiting, stop, thread }
    }

    /// The job waits for `whom` (e.g. `rank 3 on node7`) since a while, or (`None`) no longer.
    pub fn waiting(&self, whom: Option<String>) {
        if let Ok(mut w) = self.waiting.lock() {
            *w = whom.map(|whom| Waiting { whom, since: Instant::now() });
        }
    }

    /// Count `rows` more spectra finished by this rank.
    pub fn add_local(&self, rows: u64) {
        self.counter.local.fetch_add(rows, Ordering::Relaxed);
    }

    /// All ranks together have finished `rows` spectra in this run.
    pub fn set_global(&self, rows: u64) {
        self.counter.global.fetch_max(rows, Ordering::Relaxed);
    }

    /// Stop reporting (and clear the bar).
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// A wait on another rank that outlasts the batches before it.
struct Waiting {
    whom: String,
    since: Instant,
}

/// What to say instead of the rate and ETA while the job waits, if it does.
fn waiting_note(waiting: &Mutex<Option<Waiting>>) -> Option<String> {
    let w = waiting.lock().ok()?;
    w.as_ref().map(|w| format!("waiting for {} ({:.0} s)", w.whom, w.since.elapsed().as_secs_f64()))
}

fn report(counter: &ProgressCounter, stop: &AtomicBool, waiting: &Mutex<Option<Waiting>>) {
    let start = Instant::now();
    let (total, done) = (counter.total(), || counter.done());
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} spectra  {rate}  ETA {eta}",
            )
            // Whole spectra per second, as the summary line gives it (indicatif's own per_sec
            // prints `41,593.7103/s`).
            .map(|style| {
                style.with_key("rate", |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} spectra/s", st.per_sec());
                })
            })
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let normal = bar.style();
        let stalled =
            indicatif::ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} spectra  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let mut was_waiting = false;
        while !stop.load(Ordering::Relaxed) {
            bar.set_position(done());
            let note = waiting_note(waiting);
            if note.is_some() != was_waiting {
                was_waiting = note.is_some();
                bar.set_style(if was_waiting { stalled.clone() } else { normal.clone() });
            }
            if let Some(note) = note {
                bar.set_message(note);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    } else {
        let mut last = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() >= Duration::from_secs(5) {
                last = Instant::now();
                let d = done();
                let secs = start.elapsed().as_secs_f64();
                let rate = d as f64 / secs.max(1e-9);
                let eta = if rate > 0.0 { (total - d) as f64 / rate } else { f64::NAN };
                let pace =
                    waiting_note(waiting).unwrap_or_else(|| format!("{rate:.0} spectra/s, ETA {eta:.0} s"));
                crate::say!(
                    "usid-peaks: {:.0}% ({d}/{total} spectra), {pace}",
                    100.0 * d as f64 / total as f64
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observed_run_counts_into_the_hosts_counter() {
        let counter = Arc::new(ProgressCounter::default());
        let progress = Progress::start(ProgressMode::Observed(Arc::clone(&counter)), 100, 2);
        assert_eq!((counter.done(), counter.total()), (0, 100));
        // Two ranks: this rank's 10 stand for 20 until a gather says more.
        progress.add_local(10);
        assert_eq!(counter.done(), 20);
        progress.set_global(70);
        assert_eq!(counter.done(), 70);
        // Never more than the total, never backwards.
        progress.add_local(60);
        assert_eq!(counter.done(), 100);
        progress.set_global(90);
        assert_eq!(counter.done(), 100);
        progress.finish();
    }
}
