//! What machine and what code a run was taken on.

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

/// The commit this binary was built from, `-dirty` when tracked files differed from it
/// (embedded at build time; `VITRINE_COMMIT` set at build or run time overrides it).
pub fn commit() -> String {
    if let Ok(c) = std::env::var("VITRINE_COMMIT") {
        if !c.trim().is_empty() {
            return c.trim().to_owned();
        }
    }
    env!("VITRINE_BUILD_COMMIT").to_owned()
}

#[cfg(test)]
mod tests {
    /// The build names a commit as git does, or says it could not.
    #[test]
    fn the_build_embeds_a_short_commit_or_unknown() {
        let commit = env!("VITRINE_BUILD_COMMIT");
        let head = commit.strip_suffix("-dirty").unwrap_or(commit);
        let short_hash = head.len() == 12 && head.chars().all(|c| c.is_ascii_hexdigit());
        assert!(
            short_hash || commit == "unknown" || std::option_env!("VITRINE_COMMIT").is_some(),
            "{commit}"
        );
    }
}
