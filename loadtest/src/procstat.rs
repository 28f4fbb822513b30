//! CPU and memory of processes on this machine, read from `/proc`: the servers under test
//! (by `--server-pid`) and the load generator itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::clock::{Clock, Micros};

/// Clock ticks per second in `/proc/<pid>/stat`. Linux reports these in USER_HZ, which
/// is 100 on every architecture it exposes to user space this way.
const TICKS_PER_SECOND: f64 = 100.0;
/// How often processes are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// One reading of one process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reading {
    /// When.
    pub at: Micros,
    /// User plus system time, in ticks, all threads.
    pub ticks: u64,
    /// Resident memory, in KiB.
    pub rss_kib: u64,
}

/// Reads a process now; `None` when it is gone or unreadable.
pub fn read(pid: &str, at: Micros) -> Option<Reading> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: split after its end.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the full line (utime, stime) are 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    Some(Reading {
        at,
        ticks: utime + stime,
        rss_kib,
    })
}

/// CPU use between two readings, in percent of one core.
pub fn cpu_percent(from: &Reading, to: &Reading) -> f64 {
    let wall = to.at.saturating_sub(from.at) as f64 / 1e6;
    if wall <= 0.0 {
        return 0.0;
    }
    to.ticks.saturating_sub(from.ticks) as f64 / TICKS_PER_SECOND / wall * 100.0
}

/// Readings of a set of processes, summed, taken every second in the background.
#[derive(Clone)]
pub struct Sampler {
    pids: Vec<String>,
    clock: Clock,
    samples: Arc<Mutex<Vec<Reading>>>,
}

/// A process's figures over a window of the run.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Usage {
    /// Average CPU over the window, percent of one core.
    pub cpu_avg_percent: f64,
    /// Highest one-second CPU in the window.
    pub cpu_peak_percent: f64,
    /// RSS at the window's end, KiB.
    pub rss_end_kib: u64,
    /// Highest RSS seen in the window, KiB.
    pub rss_peak_kib: u64,
}

impl Sampler {
    /// Samples `pids` (their sums) from now on, until the returned sampler is dropped
    /// everywhere and the run ends.
    pub fn start(pids: Vec<String>, clock: Clock) -> Self {
        let sampler = Self {
            pids,
            clock,
            samples: Arc::new(Mutex::new(Vec::new())),
        };
        if !sampler.pids.is_empty() {
            let s = sampler.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(SAMPLE_EVERY);
                // Ends with the run: only a weak hold keeps it alive.
                let weak = Arc::downgrade(&s.samples);
                drop(s.samples);
                loop {
                    tick.tick().await;
                    let Some(samples) = weak.upgrade() else {
                        return;
                    };
                    if let Some(r) = sum(&s.pids, s.clock.now()) {
                        samples.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                    }
                }
            });
        }
        sampler
    }

    /// Whether anything is sampled.
    pub fn active(&self) -> bool {
        !self.pids.is_empty()
    }

    /// A reading now.
    pub fn now(&self) -> Option<Reading> {
        sum(&self.pids, self.clock.now())
    }

    /// Figures between two readings, with the background samples in between.
    pub fn usage(&self, from: &Reading, to: &Reading) -> Usage {
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let window: Vec<Reading> = std::iter::once(*from)
            .chain(
                samples
                    .iter()
                    .copied()
                    .filter(|r| r.at > from.at && r.at < to.at),
            )
            .chain(std::iter::once(*to))
            .collect();
        let peak = window
            .windows(2)
            .map(|w| cpu_percent(&w[0], &w[1]))
            .fold(0.0, f64::max);
        Usage {
            cpu_avg_percent: cpu_percent(from, to),
            cpu_peak_percent: peak,
            rss_end_kib: to.rss_kib,
            rss_peak_kib: window.iter().map(|r| r.rss_kib).max().unwrap_or(0),
        }
    }
}

fn sum(pids: &[String], at: Micros) -> Option<Reading> {
    if pids.is_empty() {
        return None;
    }
    let mut total = Reading {
        at,
        ..Reading::default()
    };
    for pid in pids {
        let r = read(pid, at)?;
        total.ticks += r.ticks;
        total.rss_kib += r.rss_kib;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_can_be_read() {
        let r = read("self", 0).expect("/proc/self is readable");
        assert!(r.rss_kib > 0);
        assert!(read("999999999", 0).is_none());
        let later = Reading {
            at: 2_000_000,
            ticks: r.ticks + 100,
            ..r
        };
        assert!((cpu_percent(&r, &later) - 50.0).abs() < 1e-9);
    }
}
