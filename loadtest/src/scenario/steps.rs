//! The phases of each scenario, over a fleet.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;

use crate::clock::{micros, Clock, Micros};
use crate::fleet::Fleet;
use crate::ledger::Accounting;
use crate::metrics::Recorder;
use crate::plan::Plan;
use crate::procstat::{Reading, Sampler, Usage};
use crate::report::{Connections, RampReport, RampStep, ServerFigures, StormReport};
use crate::setup::Setup;
use crate::target::TargetKind;

/// How long past the connection window first joins may still complete.
const JOIN_GRACE: Duration = Duration::from_secs(20);
/// A short pause before a phase starts, so every participant sees it in time.
const LEAD: Duration = Duration::from_millis(100);

/// What a scenario produced.
pub(super) struct Outcome {
    pub accounting: Accounting,
    pub connections: Connections,
    pub connect_seconds: f64,
    pub traffic_seconds: f64,
    pub drained: bool,
    pub logs_checked: bool,
    pub events_only_in_logs: u64,
    pub storm: Option<StormReport>,
    pub ramp: Option<RampReport>,
    pub server: Option<ServerFigures>,
    pub loadgen_traffic: Option<Usage>,
    /// What kept the run from measuring everything it planned to.
    pub problems: Vec<String>,
}

pub(super) struct Steps<'a> {
    pub plan: &'a Plan,
    pub fleet: &'a mut Fleet,
    pub setup: &'a Setup,
    pub server: &'a Sampler,
    pub own: &'a Sampler,
    pub clock: Clock,
    pub recorder: &'a Recorder,
    pub deadline: Micros,
    /// Set when a phase was cut short by the run's deadline.
    pub cut_short: AtomicBool,
    /// What went wrong on the way, for the verdict.
    pub problems: Vec<String>,
}

/// Readings that bracket a phase.
#[derive(Default)]
struct Marks {
    before_connect: Option<Reading>,
    connected: Option<Reading>,
    traffic_from: Pair,
    traffic_to: Pair,
}

/// A reading of the server and of the load generator at one moment.
#[derive(Clone, Copy, Default)]
struct Pair {
    server: Option<Reading>,
    own: Option<Reading>,
}

impl Steps<'_> {
    fn now(&self) -> Micros {
        self.clock.now()
    }

    /// Sleeps until `until`, or the run's deadline if sooner.
    async fn hold(&self, until: Micros) {
        if until > self.deadline {
            self.cut_short.store(true, Ordering::Relaxed);
        }
        let until = until.min(self.deadline);
        tokio::time::sleep_until(self.clock.instant(until).into()).await;
    }

    /// Creates sessions `from..to` and connects them over `within`; returns when every
    /// participant joined or failed.
    async fn open(&mut self, from: usize, to: usize, within: Duration) -> Result<Micros> {
        self.fleet.say("setting up");
        let setups = self.setup.sessions(from..to).await?;
        let start = self.now() + micros(LEAD);
        self.fleet.add(setups, start, within);
        self.fleet.say("connecting");
        let until = (start + micros(within + JOIN_GRACE)).min(self.deadline);
        self.fleet.wait_joined(until).await;
        Ok(start)
    }

    fn readings(&self) -> Pair {
        Pair {
            server: self.server.now(),
            own: self.own.now(),
        }
    }

    /// Wraps up, drains and reads the logs back.
    async fn finish(&mut self) -> (bool, bool, u64) {
        self.fleet.wrap_up();
        let drained = self.fleet.drain(self.plan.drain_timeout).await;
        let (checked, found) = self.read_logs().await;
        (drained, checked, found)
    }

    /// Reads every session's log back, for Vitrine targets. A failed read leaves the
    /// logs unchecked and becomes a problem of the verdict: the counts so far still make
    /// a report.
    async fn read_logs(&mut self) -> (bool, u64) {
        if self.plan.kind != TargetKind::Vitrine {
            return (false, 0);
        }
        self.fleet.say("reading logs");
        match self.fleet.check_logs(self.setup).await {
            Ok(found) => (true, found),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "session logs not read back");
                self.problems
                    .push(format!("the session logs could not be read back: {e:#}"));
                (false, 0)
            }
        }
    }

    fn outcome(
        &mut self,
        marks: &Marks,
        connect_seconds: f64,
        traffic_seconds: f64,
        finished: (bool, bool, u64),
    ) -> Outcome {
        let live = &self.recorder.live;
        let joined = live.joined.load(Ordering::Relaxed) as usize;
        let connections = Connections {
            sessions: self.fleet.sessions(),
            sessions_started: self.fleet.sessions_started(),
            planned: self.fleet.participants(),
            joined,
            failed: live.join_failed.load(Ordering::Relaxed) as usize,
            open_at_end: live.open.load(Ordering::Relaxed),
        };
        let server = match (
            &marks.before_connect,
            &marks.traffic_from.server,
            &marks.traffic_to.server,
        ) {
            (Some(before), Some(from), Some(to)) => Some(ServerFigures {
                pids: self.plan.server_pids.clone(),
                rss_before_kib: before.rss_kib,
                rss_connected_kib: marks.connected.map_or(from.rss_kib, |c| c.rss_kib),
                rss_loaded_kib: to.rss_kib,
                rss_per_connection_bytes: per_connection(
                    before.rss_kib,
                    marks.connected.map_or(from.rss_kib, |c| c.rss_kib),
                    joined,
                ),
                rss_per_connection_loaded_bytes: per_connection(before.rss_kib, to.rss_kib, joined),
                traffic: self.server.usage(from, to),
                connect: marks
                    .connected
                    .as_ref()
                    .map(|c| self.server.usage(before, c)),
            }),
            _ => None,
        };
        let loadgen_traffic = match (&marks.traffic_from.own, &marks.traffic_to.own) {
            (Some(a), Some(b)) => Some(self.own.usage(a, b)),
            _ => None,
        };
        let mut problems = std::mem::take(&mut self.problems);
        if self.cut_short.load(Ordering::Relaxed) {
            problems.push("stopped by --max-run-time before the traffic finished".into());
        }
        Outcome {
            problems,
            accounting: self.fleet.account(),
            connections,
            connect_seconds,
            traffic_seconds,
            drained: finished.0,
            logs_checked: finished.1,
            events_only_in_logs: finished.2,
            storm: None,
            ramp: None,
            server,
            loadgen_traffic,
        }
    }

    pub async fn spike(&mut self) -> Result<Outcome> {
        self.burst(None).await
    }

    pub async fn storm(&mut self) -> Result<Outcome> {
        let storm = self.plan.storm.clone();
        self.burst(storm).await
    }

    /// Connects everything within the window, then runs the traffic (with the storm, if
    /// any, inside it), then finishes.
    async fn burst(&mut self, storm: Option<crate::plan::Storm>) -> Result<Outcome> {
        let mut marks = Marks {
            before_connect: self.server.now(),
            ..Marks::default()
        };
        let t0 = self.now();
        let start = self.open(0, self.plan.sessions, self.plan.within).await?;
        marks.connected = self.server.now();
        let connect_seconds = (self.now() - t0) as f64 / 1e6;

        let traffic_start = self.now().max(start + micros(self.plan.within)) + micros(LEAD);
        self.fleet.start_traffic(traffic_start);
        self.hold(traffic_start).await;
        marks.traffic_from = self.readings();
        let traffic_end = traffic_start + micros(self.plan.duration);

        let mut storm_outcome = None;
        if let Some(storm) = storm {
            self.hold(traffic_start + micros(storm.at)).await;
            self.fleet.say("storm");
            let since = self.now();
            let dropped = self.fleet.storm(storm.fraction);
            storm_outcome = Some(
                self.fleet
                    .wait_back(&dropped, since, storm.resume_deadline)
                    .await,
            );
            self.fleet.say("traffic");
        }

        self.hold(traffic_end).await;
        marks.traffic_to = self.readings();
        // A deadline before the traffic's start leaves no traffic, not a negative span.
        let traffic_seconds = self.now().saturating_sub(traffic_start) as f64 / 1e6;

        let finished = self.finish().await;
        let mut outcome = self.outcome(&marks, connect_seconds, traffic_seconds, finished);
        outcome.storm = storm_outcome.map(|o| StormReport {
            outcome: o,
            commands_resent: self.recorder.live.resent.load(Ordering::Relaxed),
        });
        Ok(outcome)
    }

    pub async fn steady(&mut self) -> Result<Outcome> {
        let mut marks = Marks {
            before_connect: self.server.now(),
            ..Marks::default()
        };
        let t0 = self.now();
        // Traffic first: each session starts as soon as its participants are in.
        self.fleet.start_traffic(t0 + micros(LEAD));
        self.open(0, self.plan.sessions, self.plan.within).await?;
        self.fleet.say("traffic");
        let full = self.now();
        marks.connected = self.server.now();
        marks.traffic_from = self.readings();
        self.hold(full + micros(self.plan.duration)).await;
        marks.traffic_to = self.readings();
        let finished = self.finish().await;
        let connect_seconds = full.saturating_sub(t0) as f64 / 1e6;
        let traffic_seconds = self.now().saturating_sub(full) as f64 / 1e6;
        Ok(self.outcome(&marks, connect_seconds, traffic_seconds, finished))
    }

    pub async fn ramp(&mut self) -> Result<Outcome> {
        let Some(ramp) = self.plan.ramp.clone() else {
            anyhow::bail!("a ramp plan without ramp parameters");
        };
        let mut marks = Marks {
            before_connect: self.server.now(),
            ..Marks::default()
        };
        let mut steps: Vec<RampStep> = Vec::new();
        let mut last_good = None;
        let mut sessions = 0;
        let mut target = self.plan.sessions;
        let mut connect_seconds = 0.0;
        let mut traffic_seconds = 0.0;
        let mut drained_all = true;
        let step_time =
            micros(ramp.step_duration + self.plan.within + self.plan.drain_timeout + JOIN_GRACE);

        let stopped_because = loop {
            if self.now() + step_time > self.deadline {
                break "the next step would pass the run's time limit".to_string();
            }
            let c0 = self.now();
            self.open(sessions, target, self.plan.within).await?;
            sessions = target;
            connect_seconds += (self.now() - c0) as f64 / 1e6;

            let before = self.fleet.account();
            let failed_before = self.recorder.failed_commands();
            let commands_before = self.recorder.live.commands.load(Ordering::Relaxed);
            self.recorder.reset_step();
            let start = self.now() + micros(LEAD);
            self.fleet.start_traffic(start);
            self.hold(start).await;
            let from = self.readings();
            self.hold(start + micros(ramp.step_duration)).await;
            let to = self.readings();
            traffic_seconds += ramp.step_duration.as_secs_f64();
            let fanout = self.recorder.step_fanout();
            self.fleet.wrap_up();
            let drained = self.fleet.drain(self.plan.drain_timeout).await;
            drained_all &= drained;

            let after = self.fleet.account();
            let missing = after.total.missing.saturating_sub(before.total.missing);
            let duplicates = after
                .total
                .duplicates
                .saturating_sub(before.total.duplicates);
            let failed = self
                .recorder
                .failed_commands()
                .saturating_sub(failed_before);
            let commands = self.recorder.live.commands.load(Ordering::Relaxed) - commands_before;
            let joined = self.recorder.live.joined.load(Ordering::Relaxed) as usize;
            let planned = self.fleet.participants();

            let mut broken = Vec::new();
            if fanout.p99 > ramp.max_p99.as_secs_f64() * 1e3 {
                broken.push(format!(
                    "fan-out p99 {:.1} ms over {} ms",
                    fanout.p99,
                    ramp.max_p99.as_millis()
                ));
            }
            if missing > 0 || duplicates > 0 {
                broken.push(format!(
                    "{missing} missing and {duplicates} duplicated deliveries"
                ));
            }
            if failed as f64 > ramp.max_error_rate * commands.max(1) as f64 {
                broken.push(format!("{failed} of {commands} commands failed"));
            }
            if joined < planned {
                broken.push(format!(
                    "{} of {planned} participants could not join",
                    planned - joined
                ));
            }
            if !drained {
                broken.push("replies or deliveries still missing at the drain timeout".into());
            }
            if fanout.count == 0 {
                broken.push("no deliveries were measured".into());
            }
            let good = broken.is_empty();
            // The server figures of the report are the last step's, with every connection.
            marks.traffic_from = from;
            marks.traffic_to = to;
            steps.push(RampStep {
                sessions,
                connections: joined,
                fanout,
                missing,
                duplicates,
                failed_commands: failed,
                commands,
                server: match (&from.server, &to.server) {
                    (Some(f), Some(t)) => Some(self.server.usage(f, t)),
                    _ => None,
                },
                good,
                broken: broken.clone(),
            });
            if !good {
                break broken.join("; ");
            }
            last_good = Some(steps.len() - 1);
            if sessions >= ramp.max_sessions {
                break "it reached --max-sessions".to_string();
            }
            target = (sessions + ramp.step_sessions).min(ramp.max_sessions);
        };

        let (check, found) = self.read_logs().await;
        let mut outcome = self.outcome(
            &marks,
            connect_seconds,
            traffic_seconds,
            (drained_all, check, found),
        );
        outcome.ramp = Some(RampReport {
            steps,
            last_good,
            stopped_because,
        });
        Ok(outcome)
    }
}

/// RSS growth per connection, in bytes.
fn per_connection(before_kib: u64, after_kib: u64, connections: usize) -> f64 {
    (after_kib.saturating_sub(before_kib) * 1024) as f64 / connections.max(1) as f64
}
