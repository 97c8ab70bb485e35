//! Handing freed memory back to the system.
//!
//! glibc keeps what a thread freed in that thread's arena for reuse, and gives pages back
//! only from the top of a heap; so after a burst (a large result, many cursors) the freed
//! pages stay resident until the runtime's blocking threads retire, or for good when a live
//! allocation sits above them. `dbx serve` asks glibc every [`TRIM_INTERVAL`] to return the
//! free pages of every arena (`malloc_trim(0)`), which bounds how long a burst's memory is
//! held after it ends. The call walks each arena under its lock, a few milliseconds at most
//! even for a large heap, which once every ten seconds costs nothing measurable. Other
//! allocators (musl, macOS, Windows) return memory themselves; there it does nothing.

use std::time::Duration;

/// How often freed memory is handed back.
pub(crate) const TRIM_INTERVAL: Duration = Duration::from_secs(10);

/// Trims the allocator every [`TRIM_INTERVAL`] until the runtime stops.
pub(crate) fn spawn_trimmer() {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(TRIM_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Off the reactor: the walk takes arena locks that allocating threads wait on.
            let _ = tokio::task::spawn_blocking(release_freed_memory).await;
        }
    });
}

/// Asks glibc to return every arena's free pages to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: malloc_trim takes no pointers and touches only glibc's own free lists, under
    // the same locks every allocation takes.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}
