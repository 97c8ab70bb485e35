//! What reaches into a running statement from outside: its deadline, its caller going away,
//! and the adapter closing.
//!
//! rusqlite calls are blocking and run on tokio's blocking pool, where dropping the future
//! that waits for one does not stop it. So each connection has a [`Watch`] that its
//! progress handler consults every few hundred virtual-machine steps: a runaway statement
//! (an endless recursive CTE, say) stops at its deadline, when nobody waits for its answer
//! any more, or when the adapter closes, on a reader and on the writer alike. Runs are
//! numbered, so a late cancellation never stops the next caller's statement.
//!
//! The watch also carries one fact the authorizer notes: that a statement left state on the
//! connection (a temporary object, an attached database, a pragma setting), which the pool
//! must clear before anyone else uses the connection.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// The instant deadlines are counted from, so that they fit an atomic.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

const NO_DEADLINE: u64 = u64::MAX;

fn nanos_since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(*EPOCH).as_nanos()).unwrap_or(NO_DEADLINE - 1)
}

/// Why a statement was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// It was not.
    No,
    /// It passed its deadline.
    Deadline,
    /// Its caller went away.
    Abandoned,
    /// The adapter is closing.
    Closing,
}

/// The controls of one connection.
#[derive(Debug)]
pub(crate) struct Watch {
    /// The run in progress; 0 when idle.
    run: AtomicU64,
    /// A run whose caller went away.
    abandoned: AtomicU64,
    /// When the current statement must stop, as nanoseconds since [`EPOCH`].
    deadline: AtomicU64,
    /// Shared by every connection of one adapter.
    closing: Arc<AtomicBool>,
    /// Why the last statement was stopped (a [`Stop`] as a number).
    stopped: AtomicU8,
    /// A statement left state on the connection.
    session_state: AtomicBool,
}

impl Watch {
    pub(crate) fn new(closing: Arc<AtomicBool>) -> Arc<Self> {
        Arc::new(Self {
            run: AtomicU64::new(0),
            abandoned: AtomicU64::new(0),
            deadline: AtomicU64::new(NO_DEADLINE),
            closing,
            stopped: AtomicU8::new(0),
            session_state: AtomicBool::new(false),
        })
    }

    /// A new run number.
    pub(crate) fn next_run() -> u64 {
        NEXT_RUN.fetch_add(1, Ordering::Relaxed)
    }

    /// Called by the progress handler: whether the running statement must stop.
    pub(crate) fn should_stop(&self) -> bool {
        let stop = if self.closing.load(Ordering::Relaxed) {
            Stop::Closing
        } else if self.run.load(Ordering::Relaxed) != 0
            && self.run.load(Ordering::Relaxed) == self.abandoned.load(Ordering::Relaxed)
        {
            Stop::Abandoned
        } else {
            let deadline = self.deadline.load(Ordering::Relaxed);
            if deadline != NO_DEADLINE && nanos_since_epoch(Instant::now()) >= deadline {
                Stop::Deadline
            } else {
                return false;
            }
        };
        self.stopped.store(stop as u8, Ordering::Relaxed);
        true
    }

    /// A run begins on this connection.
    pub(crate) fn start(&self, run: u64) {
        self.stopped.store(Stop::No as u8, Ordering::Relaxed);
        self.deadline.store(NO_DEADLINE, Ordering::Relaxed);
        self.run.store(run, Ordering::Release);
    }

    /// The run ended.
    pub(crate) fn finish(&self) {
        self.run.store(0, Ordering::Release);
        self.deadline.store(NO_DEADLINE, Ordering::Relaxed);
    }

    /// Sets the deadline of the statement about to run: `timeout` from now, or none.
    pub(crate) fn arm(&self, timeout: Option<Duration>) {
        let deadline = timeout.map_or(NO_DEADLINE, |t| nanos_since_epoch(Instant::now() + t));
        self.stopped.store(Stop::No as u8, Ordering::Relaxed);
        self.deadline.store(deadline, Ordering::Relaxed);
    }

    /// Why the last statement was stopped.
    pub(crate) fn stopped(&self) -> Stop {
        match self.stopped.load(Ordering::Relaxed) {
            1 => Stop::Deadline,
            2 => Stop::Abandoned,
            3 => Stop::Closing,
            _ => Stop::No,
        }
    }

    /// Marks run `run` as abandoned by its caller.
    fn abandon(&self, run: u64) {
        self.abandoned.store(run, Ordering::Release);
    }

    /// Notes that a statement left state on the connection.
    pub(crate) fn mark_session_state(&self) {
        self.session_state.store(true, Ordering::Relaxed);
    }

    /// Whether a statement left state on the connection.
    pub(crate) fn has_session_state(&self) -> bool {
        self.session_state.load(Ordering::Relaxed)
    }

    /// Clears the note, returning whether it was set.
    pub(crate) fn take_session_state(&self) -> bool {
        self.session_state.swap(false, Ordering::Relaxed)
    }
}

/// Stops run `run` if it is dropped before [`disarm`](Abandon::disarm): the future that
/// waited for the run went away, so nobody wants its answer.
#[derive(Debug)]
pub(crate) struct Abandon {
    watch: Arc<Watch>,
    run: u64,
    armed: bool,
}

impl Abandon {
    pub(crate) fn new(watch: Arc<Watch>, run: u64) -> Self {
        Self {
            watch,
            run,
            armed: true,
        }
    }

    /// The run finished; dropping no longer stops anything.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if self.armed {
            self.watch.abandon(self.run);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_cancellation_does_not_stop_the_next_run() {
        let watch = Watch::new(Arc::default());
        let first = Watch::next_run();
        watch.start(first);
        let abandon = Abandon::new(watch.clone(), first);
        watch.finish();
        let second = Watch::next_run();
        watch.start(second);
        drop(abandon);
        assert!(!watch.should_stop());
        watch.finish();
        watch.start(first);
        assert!(watch.should_stop());
        assert_eq!(watch.stopped(), Stop::Abandoned);
    }

    #[test]
    fn deadlines_and_closing_stop_a_statement() {
        let closing = Arc::new(AtomicBool::new(false));
        let watch = Watch::new(closing.clone());
        watch.start(Watch::next_run());
        watch.arm(Some(Duration::ZERO));
        assert!(watch.should_stop());
        assert_eq!(watch.stopped(), Stop::Deadline);
        watch.arm(None);
        assert!(!watch.should_stop());
        closing.store(true, Ordering::Relaxed);
        assert!(watch.should_stop());
        assert_eq!(watch.stopped(), Stop::Closing);
    }
}
