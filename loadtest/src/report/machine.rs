//! What machine and what code a run was taken on.

use std::process::Command;

use serde::Serialize;

/// The machine, as `/proc` describes it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Cores online.
    pub cores: usize,
    /// Memory, GiB.
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
    /// Cores this process may run on.
    pub loadgen_cores: usize,
}

impl Machine {
    /// Reads the machine's description.
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let cores = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_default();
        Self {
            cpu,
            cores,
            memory_gib,
            kernel,
            loadgen_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// The commit of the working directory's checkout, `-dirty` when tracked files changed;
/// `VITRINE_COMMIT` overrides it. Only reads the repository.
pub fn commit() -> String {
    if let Ok(c) = std::env::var("VITRINE_COMMIT") {
        return c;
    }
    // The working directory's checkout, or else the one this binary was built from.
    let dirs = [".", env!("CARGO_MANIFEST_DIR")];
    let run = |dir: &str, args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some((dir, head)) = dirs
        .iter()
        .find_map(|d| run(d, &["rev-parse", "--short=12", "HEAD"]).map(|h| (*d, h)))
    else {
        return "unknown".into();
    };
    let dirty =
        run(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head}-dirty")
    } else {
        head
    }
}
