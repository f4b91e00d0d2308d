//! Progress on rank 0's stderr: a bar with rate and ETA on a terminal, a plain line every few
//! seconds otherwise (logs, batch jobs), nothing when quiet — or counts for the host to show in
//! its own way (the Python module's progress in a notebook).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
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

/// Spectra finished out of the run's total, for a host that shows progress itself: set by the
/// engine as it goes, read from any thread.
#[derive(Debug, Default)]
pub struct ProgressCounter {
    done: AtomicU64,
    total: AtomicU64,
}

impl ProgressCounter {
    /// Spectra finished so far in this run (every rank's, estimated between gathers).
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
    /// Spectra this run computes (fewer than the map's when it resumes); 0 until it has started.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// Rows finished so far, shared with the workers; a background thread reports them.
pub(crate) struct Progress {
    state: Arc<State>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct State {
    /// Spectra this rank finished in this run.
    local: AtomicU64,
    /// Spectra all ranks finished in this run, known exactly after each gather.
    global: AtomicU64,
    stop: AtomicBool,
    total: u64,
    ranks: u64,
    /// Where [`ProgressMode::Observed`] wants the counts.
    observer: Option<Arc<ProgressCounter>>,
}

impl State {
    /// Spectra every rank has finished: between gathers only this rank's own count is known;
    /// shares are balanced, so rank 0's count times the number of ranks is a fair estimate.
    fn done(&self) -> u64 {
        let est = self.local.load(Ordering::Relaxed).saturating_mul(self.ranks);
        est.max(self.global.load(Ordering::Relaxed)).min(self.total)
    }
    fn tell_observer(&self) {
        if let Some(o) = &self.observer {
            o.done.fetch_max(self.done(), Ordering::Relaxed);
        }
    }
}

impl Progress {
    /// Start reporting a run of `total` spectra (this run's share of work, all ranks) on `ranks` ranks.
    pub fn start(mode: ProgressMode, total: u64, ranks: usize) -> Progress {
        let observer = match &mode {
            ProgressMode::Observed(counter) => {
                counter.total.store(total, Ordering::Relaxed);
                counter.done.store(0, Ordering::Relaxed);
                Some(Arc::clone(counter))
            }
            _ => None,
        };
        let state = Arc::new(State {
            local: AtomicU64::new(0),
            global: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            total,
            ranks: ranks as u64,
            observer,
        });
        let thread = (matches!(mode, ProgressMode::Auto) && total > 0).then(|| {
            let s = Arc::clone(&state);
            std::thread::spawn(move || report(&s))
        });
        Progress { state, thread }
    }

    /// Count `rows` more spectra finished by this rank.
    pub fn add_local(&self, rows: u64) {
        self.state.local.fetch_add(rows, Ordering::Relaxed);
        self.state.tell_observer();
    }

    /// All ranks together have finished `rows` spectra in this run.
    pub fn set_global(&self, rows: u64) {
        self.state.global.store(rows, Ordering::Relaxed);
        self.state.tell_observer();
    }

    /// Stop reporting (and clear the bar).
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
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

fn report(s: &State) {
    let start = Instant::now();
    let (total, done) = (s.total, || s.done());
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
        while !s.stop.load(Ordering::Relaxed) {
            bar.set_position(done());
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    } else {
        let mut last = Instant::now();
        while !s.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() >= Duration::from_secs(5) {
                last = Instant::now();
                let d = done();
                let secs = start.elapsed().as_secs_f64();
                let rate = d as f64 / secs.max(1e-9);
                let eta = if rate > 0.0 { (total - d) as f64 / rate } else { f64::NAN };
                crate::say!(
                    "usid-peaks: {:.0}% ({d}/{total} spectra), {rate:.0} spectra/s, ETA {eta:.0} s",
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
