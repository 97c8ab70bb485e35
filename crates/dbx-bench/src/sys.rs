//! Readings of this machine and of processes on it, from `/proc` (Linux only).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde::Serialize;

/// Resident memory and open files of one process at one moment.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ProcessUse {
    /// Resident set size, MiB.
    pub(crate) rss_mib: f64,
    /// The most the resident set has been, MiB.
    pub(crate) peak_rss_mib: f64,
    /// Open file descriptors.
    pub(crate) fds: usize,
}

/// The resident memory and descriptors of `pid` ("self" for this process).
pub(crate) fn process_use(pid: &str) -> Result<ProcessUse> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status (the bench needs Linux)"))?;
    let kib = |field: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(field))
            .with_context(|| format!("/proc/{pid}/status has no {field}"))?;
        let n: f64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("unreadable {line:?}"))?;
        Ok(n)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("listing /proc/{pid}/fd"))?
        .count();
    Ok(ProcessUse {
        rss_mib: kib("VmRSS:")? / 1024.0,
        peak_rss_mib: kib("VmHWM:")? / 1024.0,
        fds,
    })
}

/// The descriptors of this process open on files under `dir`: how many, and on how many
/// distinct `.db` files.
pub(crate) fn open_under(dir: &Path) -> Result<(usize, usize)> {
    let mut descriptors = 0;
    let mut databases = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir("/proc/self/fd").context("listing /proc/self/fd")? {
        // A descriptor may close between the listing and the read; it is simply not counted.
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        if target.starts_with(dir) {
            descriptors += 1;
            if target.extension().is_some_and(|e| e == "db") {
                databases.insert(target);
            }
        }
    }
    Ok((descriptors, databases.len()))
}

/// What the results were measured on.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) memory_gib: f64,
    pub(crate) kernel: String,
    pub(crate) rustc: String,
    pub(crate) commit: String,
    pub(crate) date: String,
}

impl Machine {
    pub(crate) fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
        let commit = output("git", &["rev-parse", "--short=12", "HEAD"]);
        // Nothing printed means a clean tree; `output` would call that "unknown".
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib,
            kernel: output("uname", &["-r"]),
            rustc: output("rustc", &["--version"]),
            commit: if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            },
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        }
    }
}

/// A command's trimmed standard output, or "unknown".
fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Free bytes on the file system holding `dir`, from `df` (std has no portable call).
pub(crate) fn free_bytes(dir: &Path) -> Result<u64> {
    let out = Command::new("df")
        .args(["-Pk"])
        .arg(dir)
        .output()
        .context("running df")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: u64 = text
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("unreadable df output {text:?}"))?;
    Ok(kib * 1024)
}

/// Bytes used by the files under `dir`, from `du` (allocated blocks, as the disk sees them).
pub(crate) fn disk_usage(dir: &Path) -> Result<u64> {
    let out = Command::new("du")
        .args(["-sk"])
        .arg(dir)
        .output()
        .context("running du")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: u64 = text
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("unreadable du output {text:?}"))?;
    Ok(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_descriptors() {
        let me = process_use("self").unwrap();
        assert!(me.rss_mib > 0.5, "{me:?}");
        assert!(me.peak_rss_mib >= me.rss_mib, "{me:?}");
        // stdin, stdout, stderr and the directory handle of the listing itself.
        assert!(me.fds >= 3, "{me:?}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), vec![1u8; 64 * 1024]).unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(disk_usage(dir.path()).unwrap() >= 64 * 1024);
    }
}
