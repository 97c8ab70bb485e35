//! The results as Markdown: the tables of `docs/benchmarks.md`, between markers, so that the
//! hand-written parts of that page survive a new run and the previous run's tables move
//! below the new ones.

use std::fmt::Write as _;

use crate::Results;
use crate::hrana::{HranaResult, LEVELS};
use crate::overhead::BackendResult;

const LATEST_BEGIN: &str = "<!-- bench:latest:begin -->";
const LATEST_END: &str = "<!-- bench:latest:end -->";
const PREVIOUS_BEGIN: &str = "<!-- bench:previous:begin -->";
const PREVIOUS_END: &str = "<!-- bench:previous:end -->";
const LATEST_TITLE: &str = "## Latest run";
const PREVIOUS_TITLE: &str = "## Previous run";

/// Microseconds, with the precision that matters at their size.
fn us(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn ratio(v: f64) -> String {
    format!("{v:.2}")
}

/// Writes a line (or an empty one) to a `String`, which cannot fail.
macro_rules! out {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {
        let _ = writeln!($out, $($arg)*);
    };
}

/// The generated block: the run's machine, commit and every table.
pub(crate) fn render(results: &Results, command: &str) -> String {
    let mut out = String::new();
    let m = &results.machine;
    out!(out, "{LATEST_TITLE}\n");
    out!(
        out,
        "- Machine: {} ({} cores), {:.0} GiB, Linux {}, {}",
        m.cpu,
        m.cores,
        m.memory_gib,
        m.kernel,
        m.rustc
    );
    out!(out, "- Commit: `{}`, {}", m.commit, m.date);
    out!(out, "- Reproduce: `{command}`\n");
    if let Some(overhead) = &results.overhead {
        render_overhead(&mut out, overhead);
    }
    if let Some(hrana) = &results.hrana {
        render_hrana(&mut out, hrana);
    }
    if let Some(tenants) = &results.tenants {
        render_tenants(&mut out, tenants);
    }
    if let Some(runs) = &results.migrations {
        render_migrations(&mut out, runs);
    }
    if let Some(f) = &results.footprint {
        render_footprint(&mut out, f);
    }
    if let Some(isolation) = &results.isolation {
        render_isolation(&mut out, isolation);
    }
    out
}

fn render_overhead(out: &mut String, backends: &[BackendResult]) {
    out!(out, "### 1. Adapter overhead against the raw driver\n");
    out!(
        out,
        "Median time per operation (µs). Each round runs every side once, in rotating order; \
         the ratio is the median over rounds of dbx's median divided by the other side's, with \
         the 10th–90th percentile of those per-round ratios beside it.\n"
    );
    for b in backends {
        out!(out, "**{}**: {}\n", b.backend, b.setup);
        let others: Vec<&str> = b
            .workloads
            .iter()
            .flat_map(|w| w.ratios.iter().map(|r| r.against))
            .fold(Vec::new(), |mut seen, label| {
                if !seen.contains(&label) {
                    seen.push(label);
                }
                seen
            });
        let mut header = "| workload | dbx p50 | dbx p99 |".to_owned();
        let mut rule = "| --- | ---: | ---: |".to_owned();
        for other in &others {
            let _ = write!(header, " {other} p50 | dbx ÷ {other} | rounds p10–p90 |");
            rule.push_str(" ---: | ---: | ---: |");
        }
        out!(out, "{header}\n{rule}");
        for w in &b.workloads {
            let dbx = &w.sides[0].summary;
            let mut row = format!(
                "| {} | {} | {} |",
                w.workload.title(),
                us(dbx.p50_us),
                us(dbx.p99_us)
            );
            for other in &others {
                let side = w.sides.iter().find(|s| s.label == *other);
                let r = w.ratios.iter().find(|r| r.against == *other);
                match (side, r) {
                    (Some(side), Some(r)) => {
                        let _ = write!(
                            row,
                            " {} | **{}** | {}–{} |",
                            us(side.summary.p50_us),
                            ratio(r.ratio),
                            ratio(r.round_p10),
                            ratio(r.round_p90)
                        );
                    }
                    _ => row.push_str(" – | – | – |"),
                }
            }
            out!(out, "{row}");
        }
        out!(out);
    }
}

fn render_hrana(out: &mut String, h: &HranaResult) {
    out!(out, "### 2. Hrana over `dbx serve`\n");
    out!(
        out,
        "Each cell: {:.0} s of requests after {:.0} s of warm-up; every client holds one \
         connection and sends its next request when the last is answered. The load generator \
         shares the machine's cores with the server.\n",
        h.measure_s,
        h.warmup_s
    );
    let mut header = "| request | clients |".to_owned();
    let mut rule = "| --- | ---: |".to_owned();
    for b in &h.backends {
        let _ = write!(header, " {0} req/s | {0} p50 µs | {0} p99 µs |", b.backend);
        rule.push_str(" ---: | ---: | ---: |");
    }
    out!(out, "{header}\n{rule}");
    for kind in crate::hrana::Kind::ALL {
        for clients in LEVELS {
            let mut row = format!("| {} | {clients} |", kind.title());
            for b in &h.backends {
                match b
                    .cells
                    .iter()
                    .find(|c| c.kind == kind && c.clients == clients)
                {
                    Some(c) => {
                        let _ = write!(
                            row,
                            " {:.0} | {} | {} |",
                            c.per_second,
                            us(c.p50_us),
                            us(c.p99_us)
                        );
                    }
                    None => row.push_str(" – | – | – |"),
                }
            }
            out!(out, "{row}");
        }
    }
    out!(out);
    for b in &h.backends {
        out!(out, "- {}: {}", b.backend, b.setup);
    }
    out!(
        out,
        "\n**The protocol's own cost per request** (one client, one point select, interleaved):\n"
    );
    out!(out, "| path | p50 µs | p99 µs | over the direct call, µs |");
    out!(out, "| --- | ---: | ---: | ---: |");
    for p in &h.cost.paths {
        out!(
            out,
            "| {} | {} | {} | {} |",
            p.label,
            us(p.summary.p50_us),
            us(p.summary.p99_us),
            us(p.over_direct_us)
        );
    }
    out!(out);
}

fn render_tenants(out: &mut String, t: &crate::tenants::TenantsResult) {
    out!(out, "### 3. Tenants (SQLite, file per tenant)\n");
    out!(
        out,
        "| tenants | create, s | creates/s | disk, MiB | accesses | cold p50 / p99 µs | \
         warm p50 / p99 µs | open after (cache) | tenant files open (fds) | \
         RSS MiB: before → after → closed | fds: before → after → closed |"
    );
    out!(
        out,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in &t.runs {
        out!(
            out,
            "| {} | {:.1} | {:.0} | {:.0} | {} ({} cold) | {} / {} | {} / {} | {} ({}) | {} ({}) | \
             {:.0} → {:.0} → {:.0} | {} → {} → {} |",
            r.tenants,
            r.create_s,
            r.creates_per_s,
            r.disk_mib,
            r.accesses,
            r.cold.n,
            us(r.cold.p50_us),
            us(r.cold.p99_us),
            us(r.warm.p50_us),
            us(r.warm.p99_us),
            r.open_after,
            r.cache_capacity,
            r.tenant_files_open,
            r.tenant_fds,
            r.before.rss_mib,
            r.after_access.rss_mib,
            r.after_close.rss_mib,
            r.before.fds,
            r.after_access.fds,
            r.after_close.fds
        );
    }
    if let Some(why) = &t.skipped {
        out!(out, "\nNot run at a larger count: {why}.");
    }
    out!(out);
}

fn render_migrations(out: &mut String, runs: &[crate::migrations::JobsRun]) {
    out!(out, "### 4. Migrating every tenant\n");
    out!(
        out,
        "`dbx migrate up --all-tenants --jobs N`, fresh SQLite tenants each time; every tenant's ledger checked after.\n"
    );
    out!(
        out,
        "| --jobs | tenants | migrations | wall, s | tenants/s | speed-up over --jobs 1 |"
    );
    out!(out, "| ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in runs {
        out!(
            out,
            "| {} | {} | {} | {:.2} | {:.0} | {:.2} |",
            r.jobs,
            r.tenants,
            r.migrations,
            r.wall_s,
            r.tenants_per_s,
            r.speedup
        );
    }
    out!(out);
}

fn render_footprint(out: &mut String, f: &crate::footprint::Footprint) {
    out!(out, "### 5. Footprint of `dbx serve` (embedded SQLite)\n");
    out!(
        out,
        "| binary, MiB (as built / stripped) | idle RSS, MiB | RSS after {} Hrana requests, MiB (peak) | fds idle → after | requests/s |",
        f.requests
    );
    out!(out, "| ---: | ---: | ---: | ---: | ---: |");
    out!(
        out,
        "| {:.1} / {:.1} | {:.1} | {:.1} ({:.1}) | {} → {} | {:.0} |",
        f.binary_mib,
        f.stripped_mib,
        f.idle.rss_mib,
        f.after.rss_mib,
        f.after.peak_rss_mib,
        f.idle.fds,
        f.after.fds,
        f.requests as f64 / f.requests_s
    );
    out!(out);
}

fn render_isolation(out: &mut String, results: &[crate::isolation::IsolationResult]) {
    out!(out, "### 6. What tenant isolation costs\n");
    out!(
        out,
        "One `SELECT count(*)` at a time, round-robin over 8 tenants, mean µs; ratios against always the same tenant. A shared login resets each connection before another tenant uses it; per-tenant logins keep a connection per tenant while the budget allows.\n"
    );
    out!(
        out,
        "| backend | same tenant | shared login, switching (ratio) | per-tenant logins, budget 16 (ratio) | per-tenant logins, budget 2 (ratio) |"
    );
    out!(out, "| --- | ---: | ---: | ---: | ---: |");
    for r in results {
        out!(
            out,
            "| {} | {} | {} ({}) | {} ({}) | {} ({}) |",
            r.backend,
            us(r.same_tenant.mean_us),
            us(r.switching_shared.mean_us),
            ratio(r.reset_ratio),
            us(r.switching_per_tenant.mean_us),
            ratio(r.per_tenant_ratio),
            us(r.switching_per_tenant_tight.mean_us),
            ratio(r.per_tenant_tight_ratio)
        );
    }
    out!(out);
}

/// The soak's table, for `docs/reliability.md`.
pub(crate) fn render_soak(results: &[crate::soak::SoakResult], m: &crate::sys::Machine) -> String {
    let mut out = String::new();
    out!(
        out,
        "Soak: commit `{}`, {}, {} ({} cores)\n",
        m.commit,
        m.date,
        m.cpu,
        m.cores
    );
    out!(
        out,
        "| backend | seconds | clients | requests | req/s | answers by status | 503 + Retry-After | failures | RSS MiB, middle → end | growth | fds, middle → end |"
    );
    out!(
        out,
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in results {
        let statuses: Vec<String> = r
            .by_status
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        out!(
            out,
            "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {:.1} → {:.1} | {:+.1}% | {} → {} |",
            r.backend,
            r.seconds,
            r.clients,
            r.requests,
            r.per_second,
            statuses.join(", "),
            r.overload,
            r.failures,
            r.rss_mid_mib,
            r.rss_end_mib,
            r.rss_growth_pct,
            r.fds_mid,
            r.fds_end
        );
    }
    out
}

/// `page` with `latest` as the new latest block; the old latest block becomes the previous
/// one, replacing the older. A page without markers gets them appended.
pub(crate) fn splice(page: &str, latest: &str) -> String {
    let block = |begin: &str, end: &str| -> Option<(usize, usize)> {
        let start = page.find(begin)?;
        let stop = page[start..].find(end)? + start + end.len();
        Some((start, stop))
    };
    let previous = block(LATEST_BEGIN, LATEST_END).map(|(s, e)| {
        page[s + LATEST_BEGIN.len()..e - LATEST_END.len()]
            .trim()
            .replacen(LATEST_TITLE, PREVIOUS_TITLE, 1)
    });
    let new_blocks = format!(
        "{LATEST_BEGIN}\n{}\n{LATEST_END}\n\n{PREVIOUS_BEGIN}\n{}\n{PREVIOUS_END}",
        latest.trim(),
        previous.unwrap_or_else(|| format!("{PREVIOUS_TITLE}\n\nNone yet."))
    );
    // Everything from the first marker to the last is regenerated; the rest is kept.
    let first = [LATEST_BEGIN, PREVIOUS_BEGIN]
        .iter()
        .filter_map(|m| page.find(m))
        .min();
    let last = [LATEST_END, PREVIOUS_END]
        .iter()
        .filter_map(|m| page.rfind(m).map(|i| i + m.len()))
        .max();
    match (first, last) {
        (Some(first), Some(last)) if first < last => {
            format!("{}{new_blocks}{}", &page[..first], &page[last..])
        }
        _ => format!("{}\n\n{new_blocks}\n", page.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_run_moves_the_latest_block_below_and_keeps_the_prose() {
        let first = splice(
            "# Benchmarks\n\nHow to read them.\n",
            "## Latest run\n\nA: 1\n",
        );
        assert!(
            first.starts_with("# Benchmarks\n\nHow to read them."),
            "{first}"
        );
        assert!(first.contains("A: 1"), "{first}");
        assert!(first.contains("## Previous run\n\nNone yet."), "{first}");

        let page = format!("{first}\n## Where the time goes\n\nProse.\n");
        let second = splice(&page, "## Latest run\n\nA: 2\n");
        let latest = second.find("A: 2").unwrap();
        let previous = second.find("## Previous run\n\nA: 1").unwrap();
        assert!(latest < previous, "{second}");
        assert!(!second.contains("None yet."), "{second}");
        assert!(second.contains("How to read them."));
        assert!(
            second.ends_with("## Where the time goes\n\nProse.\n"),
            "{second}"
        );

        let third = splice(&second, "## Latest run\n\nA: 3\n");
        assert!(third.contains("A: 3") && third.contains("A: 2"));
        assert!(
            !third.contains("A: 1"),
            "only one previous run is kept: {third}"
        );
    }

    #[test]
    fn numbers_keep_the_precision_that_matters() {
        assert_eq!(us(1.234), "1.23");
        assert_eq!(us(12.34), "12.3");
        assert_eq!(us(123.4), "123");
        assert_eq!(ratio(1.0449), "1.04");
    }
}
