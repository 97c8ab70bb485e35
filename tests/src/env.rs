//! Where the suites find their servers.

/// The URL in `var`, or a panic that says how to provide one. Suites never skip silently.
pub fn server_url(var: &str, what: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set, so the {what} suite has no server. Run the tests with `cargo xtask test`, \
             which starts a throwaway {what} server, or set {var} to an existing one"
        )
    })
}

/// A name no other test of this run uses: lower-case letters and digits, starting with a letter.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}{:x}{n:x}",
        (u64::from(std::process::id()) << 20) ^ u64::from(nanos)
    )
}
