//! The live progress line: connections, rates, errors and the current fan-out p99.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::metrics::Recorder;
use crate::plan::Interval;
use crate::procstat::{cpu_percent, Sampler};

/// One progress report.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Seconds since the start.
    pub elapsed: f64,
    /// What the run is doing.
    pub doing: &'static str,
    /// Connections open.
    pub open: i64,
    /// Connections planned.
    pub planned: usize,
    /// Commands written per second since the last report.
    pub commands_per_second: f64,
    /// Events received per second since the last report.
    pub events_per_second: f64,
    /// Errors so far.
    pub errors: u64,
    /// Commands awaiting their reply.
    pub outstanding: i64,
    /// Fan-out p99 since the last report, ms.
    pub fanout_p99_ms: Option<f64>,
    /// Server CPU since the last report, percent of one core.
    pub server_cpu_percent: Option<f64>,
    /// Server RSS, MiB.
    pub server_rss_mib: Option<f64>,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>6.1}s] {:<11} conns {}/{} | cmds {:.0}/s | events {:.0}/s | errors {} | unanswered {} | fan-out p99 {}",
            self.elapsed,
            self.doing,
            self.open,
            self.planned,
            self.commands_per_second,
            self.events_per_second,
            self.errors,
            self.outstanding,
            self.fanout_p99_ms
                .map_or("—".to_string(), |p| format!("{p:.1} ms"))
        )?;
        if let (Some(cpu), Some(rss)) = (self.server_cpu_percent, self.server_rss_mib) {
            write!(f, " | server cpu {cpu:.0}% rss {rss:.0} MiB")?;
        }
        Ok(())
    }
}

/// Receives each progress report.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Starts the progress ticker; abort the handle to stop it.
pub(super) fn spawn(
    report: ProgressFn,
    every: Interval,
    clock: Clock,
    recorder: Arc<Recorder>,
    doing: Arc<Mutex<&'static str>>,
    server: Sampler,
    planned: usize,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(every) = every else {
            return;
        };
        let mut tick = tokio::time::interval(every);
        // A late line is printed once, not caught up.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let live = &recorder.live;
        let mut last = (clock.now(), 0u64, 0u64, server.now());
        loop {
            tick.tick().await;
            let now = clock.now();
            let commands = live.commands.load(Ordering::Relaxed);
            let events = live.events.load(Ordering::Relaxed);
            let dt = (now.saturating_sub(last.0) as f64 / 1e6).max(1e-3);
            let reading = server.now();
            // Over less than half a second the tick counts are too coarse to mean anything.
            let cpu = match (&last.3, &reading) {
                (Some(a), Some(b)) if b.at.saturating_sub(a.at) >= 500_000 => {
                    Some(cpu_percent(a, b))
                }
                _ => None,
            };
            let p = Progress {
                elapsed: now as f64 / 1e6,
                doing: *doing.lock().unwrap_or_else(|e| e.into_inner()),
                open: live.open.load(Ordering::Relaxed),
                planned,
                commands_per_second: commands.saturating_sub(last.1) as f64 / dt,
                events_per_second: events.saturating_sub(last.2) as f64 / dt,
                errors: live.errors.load(Ordering::Relaxed),
                outstanding: live.outstanding.load(Ordering::Relaxed),
                fanout_p99_ms: recorder.take_window_p99(),
                server_cpu_percent: cpu,
                server_rss_mib: reading.map(|r| r.rss_kib as f64 / 1024.0),
            };
            report(&p);
            last = (now, commands, events, reading);
        }
    })
}
